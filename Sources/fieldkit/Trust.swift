import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit trust`: the county's trust bundle.
    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the county's trust bundle.", subcommands: [Import.self])

        /// `fieldkit trust import FILE`.
        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Import a trust bundle file from the county.")

            @OptionGroup var options: HomeOptions

            @Argument(help: "The bundle file.")
            var file: String

            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let result = try station.importTrust(fileBytes: try Files.read(file))
                    let t = language.localizer()
                    if result.changed {
                        say(t("cli.trust.imported", [
                            "seq": "\(result.sequence)", "classes": "\(result.classes)", "trainees": "\(result.trainees)",
                            "revoked": "\(result.revocations)",
                            "date": "\(result.expiresAt.classDay(utcOffset: station.utcOffset))",
                        ]))
                    } else {
                        say(t("cli.trust.unchanged", ["seq": "\(result.sequence)"]))
                    }
                    return .ok
                }
            }
        }
    }
}
