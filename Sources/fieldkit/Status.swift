import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit status`.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: helpText("help.fieldkit.status.abstract"))

        @OptionGroup var options: HomeOptions

        @Flag(help: .localized("help.fieldkit.status.json"))
        var json = false

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let station = try options.openStation()
                let s = try station.status()
                if json {
                    say(try jsonLine(s))
                    return .ok
                }
                let t = language.localizer()
                if let name = s.siteName {
                    say(t("cli.status.site.named", ["site": s.siteID, "name": name, "device": s.deviceID]))
                } else {
                    say(t("cli.status.site", ["site": s.siteID, "device": s.deviceID]))
                }
                if let seq = s.trustSequence, let exp = s.trustExpiresAt {
                    say(t("cli.status.trust", [
                        "seq": "\(seq)", "county": s.countyID ?? "?", "date": "\(exp.classDay(utcOffset: station.utcOffset))",
                    ]))
                }
                say(t("cli.status.log", ["events": "\(s.events)"])
                    + (s.lastEventAt.map { t("cli.status.log.last", ["time": $0.localDescription(utcOffset: station.utcOffset)]) } ?? "")
                    + (s.lastCheckpointSeq.map { t("cli.status.log.checkpoint", ["seq": "\($0)"]) } ?? ""))
                if s.today.isEmpty { say(t("cli.status.no_class")) }
                for c in s.today {
                    say(t("cli.status.class", [
                        "class": "\(c.classID)", "name": c.className, "session": c.session, "expected": "\(c.expected)",
                        "in": "\(c.signedInNow)", "out": "\(c.signedOut)", "absent": "\(c.notYetArrived)",
                    ]) + (c.openAtEnd > 0 ? t("cli.status.class.open", ["open": "\(c.openAtEnd)"]) : ""))
                }
                if let sync = s.sync {
                    let when = { (ts: Timestamp?) in ts?.localDescription(utcOffset: station.utcOffset) ?? "—" }
                    if sync.countyURL == nil && sync.enrolledAt == nil {
                        say(t("cli.status.sync.not_enrolled"))
                    } else if sync.unsynced == 0 {
                        say(t("cli.status.sync.all", ["time": when(sync.lastSuccessAt)]))
                    } else {
                        say(t("cli.status.sync.pending", [
                            "count": "\(sync.unsynced)", "oldest": when(sync.oldestUnsyncedAt), "time": when(sync.lastSuccessAt),
                        ]))
                    }
                    if let error = sync.lastError { say("⚠ " + t("cli.status.sync.error", ["time": when(sync.lastErrorAt), "error": error])) }
                }
                for w in s.warnings { say("⚠ \(w.text(t, utcOffset: station.utcOffset))") }
                return .ok
            }
        }
    }
}
