import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitEvidence
import FieldKitStore

extension FieldKit {
    /// `fieldkit evidence`: the two-year archive.
    struct Evidence: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bundle a class's records (and video) as signed BagIt bags for the archive, and check bags.",
            subcommands: [Bundle.self, Verify.self])

        /// `fieldkit evidence bundle --class N --out DIR|FILE.tar [--include-video]`.
        struct Bundle: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a BagIt 1.0 bag of the class's records, signed by this device (a folder, or FILE.tar).",
                discussion: "Without --include-video, each camera-day gets a video bag beside it (DIR.video-CAMERA-YYYYMMDD) listing the recordings in fetch.txt.")
            @OptionGroup var options: HomeOptions
            @Option(name: .customLong("class"), help: "The class id.") var classID: UInt32
            @Option(help: "The bag's folder, or an archive ending in .tar (must not exist yet).") var out: String
            @Flag(help: "Copy the registered recordings into the bag.") var includeVideo = false
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
                abstract: "Check bags as an auditor would: structure, checksums, signature and the key that made it, the log chain, reachable videos (exit 5 on failure).",
                discussion: """
                    Each bag's device and key fingerprint are printed. Without --expect-key the key is only checked against \
                    itself (anyone can make such a bag); with it, a bag signed by any other key fails. A county list \
                    (fieldkit-county device keys) is checked with --county-root, or with the root key pinned in --home.
                    """)
            @Argument(help: "A bag folder, a folder of bags, or a .tar archive.") var path: String
            @Option(
                name: .customLong("expect-key"),
                help: ArgumentHelp(
                    "A key the bags must be signed with: device.pub, a PEM public key, the county's keys.json, or a fingerprint (SHA256:…). Repeatable.",
                    valueName: "FILE|FPR"))
            var expectKey: [String] = []
            @Option(name: .customLong("county-root"), help: "The county's root.pub, to check the signature of a keys.json.")
            var countyRoot: String?
            @Option(help: "A site's folder whose pinned county root checks a keys.json (or set FIELDKIT_HOME).") var home: String?
            @Flag(help: "Print JSON.") var json = false
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
