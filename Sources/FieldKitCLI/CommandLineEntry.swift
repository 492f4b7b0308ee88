import ArgumentParser
import FieldKitCore

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The language of this run, chosen once at start-up, before any argument is parsed: `--lang`
/// anywhere in the command line, else `LANG`, else Chinese (``processLocalizer()``).
///
/// swift-argument-parser reads a command's `configuration` and each option's `help:` while it
/// parses or renders help, so texts looked up through this are in the user's language.
public let startupLocalizer = processLocalizer()

/// A command's abstract or discussion in the language of this run.
public func helpText(_ key: String, _ values: [String: String] = [:]) -> String {
    startupLocalizer(key, values)
}

extension ArgumentHelp {
    /// An option's or argument's help in the language of this run.
    public static func localized(_ key: String, _ values: [String: String] = [:]) -> ArgumentHelp {
        ArgumentHelp(helpText(key, values))
    }
}

/// Parses the command line and runs the command, with help and usage errors in the user's
/// language. The executables' `main` calls only this.
///
/// Before parsing: a `--lang` written before the subcommand's name is moved behind it (the
/// parent commands have no such option; on a parent alone it is dropped), and a word where a subcommand's name belongs that
/// names none is refused with the nearest name, rather than with argument-parser's
/// "Unknown option '--home'" about whatever follows it.
public func runCommandLine(_ root: any ParsableCommand.Type, arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
    let t = startupLocalizer
    var args = arguments
    switch CommandPath.resolve(root, args) {
    case .run(let reordered):
        args = reordered
    case .unknown(let word, let parent, let suggestion):
        let shown = terminalSafe(word.count > 40 ? String(word.prefix(40)) + "…" : word)
        let line = suggestion.map { t("cli.command.unknown_suggest", ["command": shown, "suggestion": $0, "parent": parent]) }
            ?? t("cli.command.unknown", ["command": shown, "parent": parent])
        fputs(t("cli.usage.error_prefix") + line + "\n", stderr)
        exit(ExitCode.validationFailure.rawValue)
    }
    do {
        var command = try root.parseAsRoot(args)
        try command.run()
        exit(ExitCode.success.rawValue)
    } catch {
        let code = root.exitCode(for: error)
        var text = root.fullMessage(for: error)
        if t.language != .en { text = UsageWords.translate(text, t) }
        text = text.split(separator: "\n", omittingEmptySubsequences: false).map { terminalSafe(String($0)) }.joined(separator: "\n")
        if !text.isEmpty {
            if code == .success {
                print(text)
                fflush(stdout)
            } else {
                fputs(text + "\n", stderr)
            }
        }
        exit(code.rawValue)
    }
}

/// Where a command line's subcommand names end.
enum CommandPath: Equatable {
    /// The arguments to parse, `--lang` moved behind the subcommand names.
    case run([String])
    /// A word that names no subcommand of `parent` (its full name), and the nearest name.
    case unknown(String, parent: String, suggestion: String?)

    /// The most edits (insert, delete, replace, swap) a typo may be from a name it suggests.
    static let suggestionDistance = 2

    /// Follows the subcommand names from the root, stepping over `--lang VALUE`.
    static func resolve(_ root: any ParsableCommand.Type, _ args: [String]) -> CommandPath {
        var command = root
        var path: [String] = [], moved: [String] = []
        var names = [name(of: root)]
        var i = 0
        while i < args.count {
            let word = args[i]
            let subcommands = command.configuration.subcommands
            if subcommands.isEmpty { break }
            if word == "--lang" {
                moved += args[i..<min(i + 2, args.count)]
                i += 2
                continue
            }
            if word.hasPrefix("--lang=") {
                moved.append(word)
                i += 1
                continue
            }
            if word.hasPrefix("-") || word == "help" { break }
            if let sub = subcommands.first(where: { name(of: $0) == word || $0.configuration.aliases.contains(word) }) {
                path.append(word)
                names.append(name(of: sub))
                command = sub
                i += 1
                continue
            }
            let nearest = subcommands.map { name(of: $0) }
                .map { ($0, editDistance(word, $0)) }
                .filter { $0.1 <= suggestionDistance }
                .min { $0.1 < $1.1 }?.0
            // A parent with a default subcommand may be given that one's arguments.
            if command.configuration.defaultSubcommand != nil && nearest == nil { break }
            return .unknown(word, parent: names.joined(separator: " "), suggestion: nearest)
        }
        // A parent without a default subcommand has no `--lang` (the language is chosen already).
        let parentOnly = !command.configuration.subcommands.isEmpty && command.configuration.defaultSubcommand == nil
        return .run(path + (parentOnly ? [] : moved) + args[i...])
    }

    /// A command's name as typed.
    static func name(of command: any ParsableCommand.Type) -> String { command._commandName }

    /// Optimal string alignment distance: a swap of two neighbours counts as one edit (`scna`).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased()), y = Array(b.lowercased())
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[x.count][y.count]
    }
}

/// argument-parser's English words for help screens and usage errors, in another language.
///
/// argument-parser words these itself, in English, with its error types internal; the
/// patterns below are its wording in 1.8 (`UsageGenerator`, `HelpGenerator`, `MessageInfo`).
/// A line that matches none stays as it is (a ``ValidationError`` is already localized).
enum UsageWords {
    /// Error messages: argument-parser's pattern, the key, and the names of the captures.
    static let errors: [(pattern: String, key: String, names: [String])] = [
        (#"^Missing expected argument '(.*)'$"#, "cli.usage.missing_argument", ["argument"]),
        (#"^Unknown option '(.*)'\. Did you mean '(.*)'\?$"#, "cli.usage.unknown_option_suggest", ["option", "suggestion"]),
        (#"^Unknown option '(.*)'$"#, "cli.usage.unknown_option", ["option"]),
        (#"^Missing value for '(.*)'$"#, "cli.usage.missing_value", ["option"]),
        (#"^The value '(.*)' is invalid for '([^']*)'(.*)$"#, "cli.usage.invalid_value", ["value", "option", "more"]),
        (#"^The value '(.*)' is invalid\.(.*)$"#, "cli.usage.invalid_value_bare", ["value", "more"]),
        (#"^Unexpected argument '(.*)'$"#, "cli.usage.unexpected_argument", ["value"]),
        (#"^\d+ unexpected arguments: (.*)$"#, "cli.usage.unexpected_arguments", ["values"]),
        (#"^Missing one of: (.*)$"#, "cli.usage.missing_one_of", ["options"]),
        (#"^The option '(.*)' does not take any value, but '(.*)' was specified\.$"#, "cli.usage.no_value_expected", ["option", "value"]),
        (#"^Missing required subcommand\.$"#, "cli.usage.missing_subcommand", []),
    ]

    /// The text with argument-parser's words replaced, line by line.
    static func translate(_ text: String, _ t: Localizer) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line(String($0), t) }.joined(separator: "\n")
    }

    static func line(_ line: String, _ t: Localizer) -> String {
        if line.hasPrefix("Error: ") { return t("cli.usage.error_prefix") + error(String(line.dropFirst(7)), t) }
        if line.hasPrefix("Help:  ") { return t("cli.usage.help") + line.dropFirst(7) }
        if line.hasPrefix("Usage: ") { return t("cli.usage.usage") + line.dropFirst(7) }
        if line.hasPrefix("OVERVIEW: ") { return t("cli.help.overview") + line.dropFirst(10) }
        if line.hasPrefix("USAGE: ") { return t("cli.help.usage") + line.dropFirst(7) }
        for (header, key) in [("ARGUMENTS:", "cli.help.arguments"), ("OPTIONS:", "cli.help.options"), ("SUBCOMMANDS:", "cli.help.subcommands")]
        where line == header {
            return t(key)
        }
        if let m = line.wholeMatch(of: #/  See '(.*) --help' for more information\./#) {
            return "  " + t("cli.usage.see_help", ["command": String(m.1)])
        }
        if let m = line.wholeMatch(of: #/  See '(.*) <subcommand>' for detailed help\./#) {
            return "  " + t("cli.help.see_subcommand", ["command": String(m.1)])
        }
        var out = line
        if out.hasSuffix("Show help information.") {
            out = String(out.dropLast("Show help information.".count)) + t("cli.help.show_help")
        }
        out = out.replacing(#/\(default: ([^)]*)\)/#) { t("cli.help.default", ["value": String($0.1)]) }
        out = out.replacing(#/\(values: ([^)]*)\)/#) { t("cli.help.values", ["values": String($0.1)]) }
        return out
    }

    static func error(_ message: String, _ t: Localizer) -> String {
        for (pattern, key, names) in errors {
            guard let regex = try? Regex(pattern), let m = message.wholeMatch(of: regex) else { continue }
            var values: [String: String] = [:]
            for (i, name) in names.enumerated() where i + 1 < m.output.count {
                values[name] = m.output[i + 1].substring.map(String.init) ?? ""
            }
            return t(key, values)
        }
        return message
    }
}
