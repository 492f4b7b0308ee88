import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit trust`: the county's trust bundle.
    struct Trust: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the county's trust bundle.", subcommands: [Import.self])

        /// `fieldkit trust import FILE`.
        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Import a trust bundle file from the county.")

            @OptionGroup var options: HomeOptions

            @Argument(help: "The bundle file.")
            var file: String

            func run() async throws {
                try guarded {
                    let station = try options.openStation()
                    let result = try station.importTrust(fileBytes: try Files.read(file))
                    if result.changed {
                        say(
                            "trust bundle \(result.sequence) imported: \(result.classes) classes, \(result.trainees) trainees, "
                                + "\(result.revocations) revoked; valid until \(result.expiresAt.classDay(utcOffset: station.utcOffset))")
                    } else {
                        say("trust bundle \(result.sequence) is already in use; nothing changed")
                    }
                    return .ok
                }
            }
        }
    }
}
