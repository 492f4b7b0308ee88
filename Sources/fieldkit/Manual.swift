import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit manual`: the instructor's manual entry, flagged everywhere.
    struct Manual: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.manual.abstract"))

        @OptionGroup var options: HomeOptions

        @Argument(help: .localized("help.fieldkit.manual.voucher_id"))
        var voucherID: UInt64

        @Option(help: .localized("help.fieldkit.manual.direction"))
        var direction: String

        @Option(help: .localized("help.fieldkit.manual.reason"))
        var reason: String

        @Option(help: .localized("help.fieldkit.manual.at"))
        var at: String?

        @Flag(help: .localized("help.fieldkit.manual.json"))
        var json = false

        @OptionGroup var language: LanguageOption

        func validate() throws {
            guard Direction(rawValue: direction) != nil else {
                throw usageError(flag: "--direction", expected: "direction", value: direction)
            }
            guard !reason.trimmingWhitespace().isEmpty else {
                throw usageError("usage.reason")
            }
            if let at, LocalTime(at) == nil { throw usageError(flag: "--at", expected: "time", value: at) }
        }

        func run() throws {
            try guarded {
                let station = try options.openStation()
                var when: Timestamp? = nil
                if let at, let t = LocalTime(at) {
                    when = station.clock.now().classDay(utcOffset: station.utcOffset).at(t, utcOffset: station.utcOffset)
                }
                guard let direction = Direction(rawValue: direction) else {
                    throw usageError(flag: "--direction", expected: "direction", value: direction)
                }
                let outcome = try station.manual(voucherID: voucherID, direction: direction, reason: reason, at: when)
                var worded = outcome
                worded.message = outcome.line(language.localizer())
                if json { say(try jsonLine(worded)) } else { say(worded.message) }
                try station.maintain()
                switch outcome.result {
                case .accepted: return .ok
                case .duplicate: return .duplicate
                case .rejected: return .rejected
                }
            }
        }
    }
}
