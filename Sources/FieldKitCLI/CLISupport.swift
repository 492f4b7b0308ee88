import ArgumentParser
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Logging

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// An environment variable.
public func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// Writes a line to standard output and flushes it (a reader on a pipe sees it at once).
///
/// The line goes through ``terminalSafe(_:)`` first: names, notes, flags and errors in it
/// may have come from a device, a bundle or a file, and a terminal obeys ESC, BEL, CR and the
/// bidirectional controls. A JSON line stays valid JSON with the same values (the escapes are
/// JSON's own).
public func say(_ line: String) {
    print(terminalSafe(line))
    fflush(stdout)
}

/// The program's name for messages.
let programName = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "fieldkit") } ?? "fieldkit"

/// The language of this run: `--lang` on the command line, else `LANG`, else Chinese.
public func processLocalizer() -> Localizer {
    let args = CommandLine.arguments
    let flag = args.firstIndex(of: "--lang").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
        ?? args.first { $0.hasPrefix("--lang=") }.map { String($0.dropFirst(7)) }
    return Localizer(Language.resolve(flag: flag, lang: environment("LANG")))
}

/// Prints an error as one line on standard error, in the user's language, and returns the
/// exit code to throw. Values in errors can come from input, so the line is
/// ``terminalSafe(_:)`` (after line breaks are joined into spaces).
public func fail(_ error: any Error, status: ExitStatus = .failure) -> ExitCode {
    let t = processLocalizer()
    let text = (error as? any LocalizedFailure)?.text(t) ?? (error as? any CustomStringConvertible)?.description ?? "\(error)"
    let line = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).joined(separator: " ")
    fputs("\(programName): \(t("error.prefix")): \(terminalSafe(line))\n", stderr)
    return ExitCode(status.rawValue)
}

/// Runs a command body, turning every known error into one line and an exit code.
public func guarded(_ body: () throws -> ExitStatus) throws {
    let status: ExitStatus
    do {
        status = try body()
    } catch let error as ValidationError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch let error as SchemaTooNew {
        throw fail(error, status: .schemaTooNew)
    } catch let error as DecodingError {
        throw fail(CLIMessage(processLocalizer()("error.input.unreadable", ["why": describe(decodingError: error)])))
    } catch {
        throw fail(error)
    }
    if status != .ok { throw ExitCode(status.rawValue) }
}

/// A plain message as an error.
public struct CLIMessage: Error, CustomStringConvertible {
    /// The words.
    public var description: String
    /// Wraps words.
    public init(_ description: String) { self.description = description }
}

/// JSON for `--json` output: sorted keys, no escaped slashes.
public func jsonLine(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Writes bytes to a file (atomically) or to standard output when the path is `-` or nil.
public func emit(_ bytes: [UInt8], to path: String?) throws {
    if let path, path != "-" {
        try Files.writeAtomically(bytes, to: path)
    } else {
        bytes.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
        fflush(stdout)
    }
}

/// The logger for a process: standard error, warnings and above unless FIELDKIT_LOG names a level.
public func makeLogger(label: String) -> Logger {
    var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = environment("FIELDKIT_LOG").flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}

/// `--lang zh|en`; without it the language follows `LANG`, and Chinese is the default.
public struct LanguageOption: ParsableArguments {
    /// The flag's value.
    @Option(help: .localized("help.cli.language_option.lang"))
    public var lang: String?

    public init() {}

    /// The localizer for the chosen language.
    public func localizer() -> Localizer {
        lang.map { Localizer(Language.resolve(flag: $0, lang: environment("LANG"))) } ?? startupLocalizer
    }

    public func validate() throws {
        if let lang, !["zh", "zh-hans", "zh-cn", "en"].contains(lang.lowercased()) {
            throw usageError(flag: "--lang", expected: "lang", value: lang)
        }
    }
}

/// A usage error in the user's language (exit code 64, as swift-argument-parser reports it).
public func usageError(_ key: String, _ values: [String: String] = [:]) -> ValidationError {
    ValidationError(processLocalizer()(key, values))
}

/// "FLAG must be EXPECTED, not 'VALUE'" in the user's language (the value made
/// ``terminalSafe(_:)`` and cut to 80 characters: it is whatever was typed).
public func usageError(flag: String, expected: String, value: String) -> ValidationError {
    let t = processLocalizer()
    let shown = terminalSafe(value.count > 80 ? String(value.prefix(80)) + "…" : value)
    return ValidationError(t("usage.must_be", ["flag": flag, "expected": t("usage.expect.\(expected)"), "value": shown]))
}
