import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitSQLite
import FieldKitStore

extension FieldKit {
    /// `fieldkit trust`: the county's trust bundle.
    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.trust.abstract"), subcommands: [Import.self])

        /// `fieldkit trust import FILE`.
        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.fieldkit.trust.import.abstract"))

            @OptionGroup var options: HomeOptions

            @Argument(help: .localized("help.fieldkit.trust.import.file"))
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
