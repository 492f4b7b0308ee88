import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore
import FieldKitSync
import FoundationEssentials

extension FieldKit {
    /// `fieldkit backup --out FILE [--with-key]`: a consistent copy while the kiosk runs.
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.backup.abstract"),
            discussion: helpText("help.fieldkit.backup.discussion"))

        @OptionGroup var options: HomeOptions

        @Option(help: .localized("help.fieldkit.backup.out"))
        var out: String

        @Flag(name: .customLong("with-key"), help: .localized("help.fieldkit.backup.with_key"))
        var withKey = false

        @Flag(help: .localized("help.fieldkit.backup.json"))
        var json = false

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let station = try options.openStation()
                let summary = try station.backup(to: out, withKey: withKey)
                if json {
                    say(try jsonLine(summary))
                    return .ok
                }
                let t = language.localizer()
                say(t("backup.cli.written", ["file": summary.file, "seq": "\(summary.head_seq)", "hash": summary.head_hash]))
                if let key = summary.key_file {
                    say("⚠ " + t("backup.cli.with_key", ["key": key]))
                } else {
                    say(t("backup.cli.no_key", ["home": station.home]))
                }
                return .ok
            }
        }
    }

    /// `fieldkit restore [FILE] [--force] [--county URL] [--answer FILE]`.
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.restore.abstract"),
            discussion: helpText("help.fieldkit.restore.discussion"))

        @OptionGroup var options: HomeOptions

        @Argument(help: .localized("help.fieldkit.restore.file"))
        var file: String?

        @Flag(help: .localized("help.fieldkit.restore.force"))
        var force = false

        @Option(help: .localized("help.fieldkit.restore.county"))
        var county: String?

        @Option(help: .localized("help.fieldkit.restore.answer"))
        var answer: String?

        @OptionGroup var language: LanguageOption

        func validate() throws {
            guard file != nil || answer != nil else { throw usageError("usage.restore_what") }
        }

        func run() throws {
            try guarded {
                let home = try options.resolvedHome()
                let t = language.localizer()
                if let file {
                    let summary = try Station.restore(home: home, from: file, force: force, logger: makeLogger())
                    say(t("backup.cli.restored", ["file": file, "seq": "\(summary.base_seq)", "hash": summary.base_hash]))
                    if let kept = summary.replaced { say(t("backup.cli.replaced", ["file": kept])) }
                    if summary.key_installed { say(t("backup.cli.key_installed", ["key": file + ".key"])) }
                }
                let station = try options.openStation()
                guard try station.restorePending() != nil else {
                    if answer != nil { throw BackupError.notPending }
                    return .ok
                }
                if let answer {
                    let receipt: Receipt
                    do {
                        receipt = try JSONDecoder().decode(Receipt.self, from: Data(try readBounded(answer, limit: 64 << 10)))
                    } catch let error as DecodingError {
                        _ = error
                        throw BackupError.answerNotCounty(answer)
                    }
                    say(continued(try station.takeHighWater(receipt, source: answer), t))
                    return .ok
                }
                let enrolledURL = try station.syncState().countyURL
                guard let url = county ?? enrolledURL else {
                    say("⚠ " + t("backup.cli.pending_offline", ["device": station.deviceID, "home": home]))
                    return .ok
                }
                do {
                    let client = SyncClient(station: station, county: url, logger: makeLogger(), words: t)
                    say(continued(try client.continueRestore(), t))
                } catch let error as SyncError {
                    say("⚠ " + t("backup.cli.pending_unreachable", ["url": url, "why": error.text(t), "device": station.deviceID]))
                }
                return .ok
            }
        }

        /// The words for a `restored` event written.
        func continued(_ s: RestoreStatement, _ t: Localizer) -> String {
            s.hasGap
                ? t("backup.cli.continued_gap", [
                    "base": "\(s.baseSeq)", "from": "\(s.baseSeq + 1)", "county": "\(s.countySeq)", "seq": "\(s.eventSeq)",
                ])
                : t("backup.cli.continued", ["base": "\(s.baseSeq)", "county": "\(s.countySeq)", "seq": "\(s.eventSeq)"])
        }
    }
}
