import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit manual`: the instructor's manual entry, flagged everywhere.
    struct Manual: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a sign-in or sign-out by hand (scanner broken, phone dead); needs a reason.")

        @OptionGroup var options: HomeOptions

        @Argument(help: "The voucher number (printed under the QR code).")
        var voucherID: UInt64

        @Option(help: "in or out.")
        var direction: String

        @Option(help: "Why the code could not be scanned.")
        var reason: String

        @Option(help: "The time it happened today, HH:MM (default: now).")
        var at: String?

        @Flag(help: "Print a JSON object.")
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
