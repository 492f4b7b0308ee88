import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit status`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the station, today's sessions and warnings.")

        @OptionGroup var options: HomeOptions

        @Flag(help: "Print a JSON object.")
        var json = false

        @OptionGroup var language: LanguageOption

        func run() async throws {
            try guarded {
                let station = try options.openStation()
                let s = try station.status()
                if json {
                    say(try jsonLine(s))
                    return .ok
                }
                say("site \(s.siteID)\(s.siteName.map { " (\($0))" } ?? ""), device \(s.deviceID)")
                if let seq = s.trustSequence, let exp = s.trustExpiresAt {
                    say("trust bundle \(seq) from county \(s.countyID ?? "?"), valid until \(exp.classDay(utcOffset: station.utcOffset))")
                }
                say("log: \(s.events) events"
                    + (s.lastEventAt.map { ", last at \($0.localDescription(utcOffset: station.utcOffset))" } ?? "")
                    + (s.lastCheckpointSeq.map { ", last checkpoint at event \($0)" } ?? ""))
                if s.today.isEmpty { say("no class today") }
                for c in s.today {
                    say("class \(c.classID) \(c.className) \(c.session): expected \(c.expected), signed in \(c.signedInNow), "
                        + "signed out \(c.signedOut), not yet arrived \(c.notYetArrived)"
                        + (c.openAtEnd > 0 ? ", left without signing out \(c.openAtEnd)" : ""))
                }
                for w in s.warnings { say("⚠ \(w.text(language.localizer(), utcOffset: station.utcOffset))") }
                return .ok
            }
        }
    }
}
