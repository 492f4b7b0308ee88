import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitKiosk
import FieldKitStore

extension FieldKit {
    /// `fieldkit kiosk`: the instructor's screen for the whole day.
    struct Kiosk: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.kiosk.abstract"))

        @OptionGroup var options: HomeOptions
        @OptionGroup var language: LanguageOption

        @Option(help: .localized("help.fieldkit.kiosk.sync_every"))
        var syncEvery = 300

        func validate() throws {
            guard (10...86_400).contains(syncEvery) else {
                throw usageError(flag: "--sync-every", expected: "sync_every", value: "\(syncEvery)")
            }
        }

        func run() throws {
            try guarded {
                let station = try options.openStation()
                let command = ["/proc/self/exe", "sync", "--home", station.home]
                try FieldKitKiosk.Kiosk(
                    station: station, localizer: language.localizer(), syncCommand: command, syncEvery: syncEvery
                ).run()
                return .ok
            }
        }
    }
}
