import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitEvidence
import FieldKitStore

extension FieldKit {
    /// `fieldkit evidence`: the two-year archive.
    struct Evidence: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bundle a class's records (and video) as a signed BagIt bag for the archive.", subcommands: [Bundle.self])

        /// `fieldkit evidence bundle --class N --out DIR [--include-video]`.
        struct Bundle: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a BagIt 1.0 bag of the class's records, signed by this device.")
            @OptionGroup var options: HomeOptions
            @Option(name: .customLong("class"), help: "The class id.") var classID: UInt32
            @Option(help: "The bag's folder (must not exist yet).") var out: String
            @Flag(help: "Copy the registered recordings into the bag.") var includeVideo = false
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let s = try EvidenceBag.write(station: station, classID: classID, to: out, includeVideo: includeVideo)
                    say(language.localizer()("cli.evidence.written", [
                        "path": s.path, "files": "\(s.files)", "bytes": "\(s.bytes)", "date": s.retentionUntil,
                    ]))
                    return .ok
                }
            }
        }
    }
}
