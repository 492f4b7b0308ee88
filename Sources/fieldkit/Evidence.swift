import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitEvidence
import FieldKitStore

extension FieldKit {
    /// `fieldkit evidence`: the two-year archive.
    struct Evidence: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.evidence.abstract"),
            subcommands: [Bundle.self, Verify.self])

        /// `fieldkit evidence bundle --class N --out DIR|FILE.tar [--include-video]`.
        struct Bundle: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.evidence.bundle.abstract"),
                discussion: helpText("help.fieldkit.evidence.bundle.discussion"))
            @OptionGroup var options: HomeOptions
            @Option(name: .customLong("class"), help: .localized("help.fieldkit.evidence.bundle.class_id")) var classID: UInt32
            @Option(help: .localized("help.fieldkit.evidence.bundle.out")) var out: String
            @Flag(help: .localized("help.fieldkit.evidence.bundle.include_video")) var includeVideo = false
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let s = try EvidenceBag.write(station: station, classID: classID, to: out, includeVideo: includeVideo)
                    let t = language.localizer()
                    say(t("cli.evidence.written", [
                        "path": s.path, "files": "\(s.files)", "bytes": "\(s.bytes)", "date": s.retentionUntil,
                    ]))
                    if !s.videoBags.isEmpty {
                        say(t("cli.evidence.video_bags", ["count": "\(s.videoBags.count)", "bags": s.videoBags.joined(separator: ", ")]))
                    }
                    return .ok
                }
            }
        }

        /// `fieldkit evidence verify BAG|FILE.tar [--expect-key FILE|FPR …] [--county-root FILE]`.
        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.evidence.verify.abstract"),
                discussion: helpText("help.fieldkit.evidence.verify.discussion"))
            @Argument(help: .localized("help.fieldkit.evidence.verify.path")) var path: String
            @Option(
                name: .customLong("expect-key"),
                help: ArgumentHelp(
                    helpText("help.fieldkit.evidence.verify.expect_key"),
                    valueName: "FILE|FPR"))
            var expectKey: [String] = []
            @Option(name: .customLong("county-root"), help: .localized("help.fieldkit.evidence.verify.county_root"))
            var countyRoot: String?
            @Option(help: .localized("help.fieldkit.evidence.verify.home")) var home: String?
            @Flag(help: .localized("help.fieldkit.evidence.verify.json")) var json = false
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let t = language.localizer()
                    let stationHome = home ?? environment("FIELDKIT_HOME").flatMap { $0.isEmpty ? nil : $0 }
                    let pins = try KeyPins.load(expectKey, countyRoot: countyRoot, stationHome: stationHome)
                    let checks = try BagVerifier.verify(path, expecting: pins)
                    if json {
                        say(try jsonLine(checks))
                        return checks.allSatisfy(\.ok) ? .ok : .verifyFailed
                    }
                    for c in checks {
                        say((c.key.pinned ? "✔ " : "⚠ ") + t("evidence.verify.key", [
                            "bag": c.bag, "device": c.key.device ?? "?", "fingerprint": c.key.fingerprint ?? "?",
                            "expected": c.key.expectedBy.map { t("evidence.verify.key_expected", ["source": $0]) } ?? "",
                        ]))
                        for p in c.problems { say("✘ \(c.bag): " + t("evidence.\(p.key)", p.values)) }
                        for n in c.notes { say("⚠ \(c.bag): " + t("evidence.\(n.key)", n.values)) }
                        let chain = c.events.map { t("evidence.verify.chain_ok", ["events": "\($0)", "checkpoints": "\(c.checkpoints ?? 0)"]) } ?? ""
                        say((c.ok ? "✔ " : "✘ ") + t(c.ok ? "evidence.verify.ok" : "evidence.verify.failed", [
                            "bag": c.bag, "files": "\(c.files)", "chain": chain,
                            "fetched": c.fetched > 0 ? t("evidence.verify.fetched", ["count": "\(c.fetched)"]) : "",
                        ]))
                    }
                    return checks.allSatisfy(\.ok) ? .ok : .verifyFailed
                }
            }
        }
    }
}
