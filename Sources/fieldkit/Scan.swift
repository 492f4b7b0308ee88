import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit scan`: judges and records voucher codes.
    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.scan.abstract"),
            discussion: helpText("help.fieldkit.scan.discussion"))

        @OptionGroup var options: HomeOptions

        @Argument(help: .localized("help.fieldkit.scan.code"))
        var code: String?

        @Flag(help: .localized("help.fieldkit.scan.stdin"))
        var stdin = false

        @Flag(help: .localized("help.fieldkit.scan.json"))
        var json = false

        @OptionGroup var language: LanguageOption

        func validate() throws {
            if stdin == (code != nil) { throw usageError("usage.code_or_stdin") }
        }

        func run() throws {
            try guarded {
                let station = try options.openStation()
                guard stdin else {
                    let status = try show(try station.scan(code ?? ""))
                    try station.maintain()
                    return status
                }
                while let line = readLine(strippingNewline: true) {
                    if line.trimmingWhitespace().isEmpty { continue }
                    _ = try show(try station.scan(line))
                    try station.maintain()
                }
                return .ok
            }
        }

        /// Prints an outcome in the chosen language; returns the exit status it stands for.
        func show(_ outcome: ScanOutcome) throws -> ExitStatus {
            let t = language.localizer()
            var worded = outcome
            worded.message = outcome.line(t)
            if json {
                say(try jsonLine(worded))
            } else {
                var line = worded.message
                if let name = outcome.className, let session = outcome.session { line += "  [\(name) \(session)]" }
                say(line)
                for w in outcome.warnings { say("  ⚠ \(w.text(t))") }
            }
            switch outcome.result {
            case .accepted: return .ok
            case .duplicate: return .duplicate
            case .rejected: return .rejected
            }
        }
    }
}
