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

        /// `fieldkit evidence verify BAG|FILE.tar`.
        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Check bags as an auditor would: structure, checksums, signature, the log chain, reachable videos (exit 5 on failure).")
            @Argument(help: "A bag folder, a folder of bags, or a .tar archive.") var path: String
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let t = language.localizer()
                    let checks = try BagVerifier.verify(path)
                    if json {
                        say(try jsonLine(checks))
                        return checks.allSatisfy(\.ok) ? .ok : .verifyFailed
                    }
                    for c in checks {
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
