import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit retention`: what is kept until when, legal holds, and purging what has passed.
    struct RetentionCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retention",
            abstract: helpText("help.fieldkit.retention_command.abstract"),
            discussion: helpText("help.fieldkit.retention_command.discussion"),
            subcommands: [List.self, Hold.self, Release.self, Purge.self], defaultSubcommand: List.self)

        /// `fieldkit retention [list] [--json]`.
        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.fieldkit.retention_command.list.abstract"))
            @OptionGroup var options: HomeOptions
            @Flag(help: .localized("help.fieldkit.retention_command.list.json")) var json = false
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let t = language.localizer()
                    let r = try station.retention()
                    if json {
                        say(try jsonLine(r))
                        return .ok
                    }
                    say(t("cli.retention.today", ["today": r.today, "signed": r.signed_day ?? "—"]))
                    if r.clock_behind { say("⚠ " + t("cli.retention.clock_behind")) }
                    say(t("cli.retention.records"))
                    for c in r.records {
                        let hold = c.holds.isEmpty ? "" : "  🔒 " + c.holds.joined(separator: "; ")
                        say("  " + t("cli.retention.record", ["class": "\(c.class_id)", "end": c.class_end, "until": c.keep_until]) + hold)
                    }
                    say(t("cli.retention.videos", ["count": "\(r.videos.count)"]))
                    for v in r.videos {
                        let extra = v.holds.isEmpty ? "" : "  🔒 " + v.holds.joined(separator: "; ")
                        say("  " + t("cli.retention.state.\(v.state)") + "  " + t("cli.retention.video", [
                            "file": v.path, "camera": v.camera, "until": v.keep_until,
                        ]) + extra)
                    }
                    let due = r.videos.filter { $0.state == "purgeable" }
                    say(due.isEmpty ? t("cli.retention.none_due") : t("cli.retention.due", [
                        "count": "\(due.count)", "bytes": byteText(due.reduce(0) { $0 + $1.size }),
                    ]))
                    return .ok
                }
            }
        }

        /// Options naming what a hold is on.
        struct Target: ParsableArguments {
            @Option(help: .localized("help.fieldkit.retention_command.target.video")) var video: String?
            @Option(name: .customLong("class"), help: .localized("help.fieldkit.retention_command.target.class_id")) var classID: UInt32?
            @Option(help: .localized("help.fieldkit.retention_command.target.note")) var note: String

            func validate() throws {
                guard (video == nil) != (classID == nil) else { throw usageError("usage.retention.one_target") }
            }
        }

        /// `fieldkit retention hold (--video PATH | --class N) --note TEXT`.
        struct Hold: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.fieldkit.retention_command.hold.abstract"))
            @OptionGroup var options: HomeOptions
            @OptionGroup var target: Target
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let hold = try station.placeHold(video: target.video.map(absolute), classID: target.classID, note: target.note)
                    say(language.localizer()("cli.retention.held", ["target": hold.ref, "note": hold.note]))
                    return .ok
                }
            }
        }

        /// `fieldkit retention release (--video PATH | --class N) --note TEXT`.
        struct Release: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.fieldkit.retention_command.release.abstract"))
            @OptionGroup var options: HomeOptions
            @OptionGroup var target: Target
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let ref = target.video.map(absolute) ?? target.classID.map { String($0) } ?? ""
                    try station.releaseHold(video: target.video.map(absolute), classID: target.classID, note: target.note)
                    say(language.localizer()("cli.retention.released", ["target": ref]))
                    return .ok
                }
            }
        }

        /// `fieldkit retention purge --approve NAME [--reason TEXT]`.
        struct Purge: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.retention_command.purge.abstract"),
                discussion: helpText("help.fieldkit.retention_command.purge.discussion"))
            @OptionGroup var options: HomeOptions
            @Option(help: .localized("help.fieldkit.retention_command.purge.approve")) var approve: String?
            @Option(help: .localized("help.fieldkit.retention_command.purge.reason")) var reason: String = "retention period passed"
            @Flag(help: .localized("help.fieldkit.retention_command.purge.json")) var json = false
            @OptionGroup var language: LanguageOption

            func validate() throws {
                guard let approve, !approve.trimmingWhitespace().isEmpty else { throw usageError("usage.retention.approve") }
            }

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let t = language.localizer()
                    let r = try station.purge(approver: approve ?? "", reason: reason)
                    if json {
                        say(try jsonLine(r))
                    } else {
                        for v in r.deleted { say(t("cli.retention.deleted", ["file": v.path, "until": v.keep_until])) }
                        for v in r.missing { say("⚠ " + t("cli.retention.missing", ["file": v.path])) }
                        for v in r.changed { say("✘ " + t("cli.retention.changed", ["file": v.path])) }
                        say(t("cli.retention.purged", ["count": "\(r.deleted.count)", "bytes": byteText(r.bytes)]))
                    }
                    return r.changed.isEmpty ? .ok : .verifyFailed
                }
            }
        }
    }
}

/// Bytes for people: `1.5 GB`, `820 MB`, `12 KB`.
func byteText(_ n: Int64) -> String {
    let units: [(Int64, String)] = [(1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")]
    for (size, unit) in units where n >= size {
        let tenths = n * 10 / size
        return tenths >= 100 ? "\(tenths / 10) \(unit)" : "\(tenths / 10).\(tenths % 10) \(unit)"
    }
    return "\(n) B"
}
