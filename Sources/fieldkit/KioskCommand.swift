import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitKiosk
import FieldKitStore

extension FieldKit {
    /// `fieldkit kiosk`: the instructor's screen for the whole day.
    struct Kiosk: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The full-screen sign-in kiosk: scan codes all day; M manual entry, E end session, H help, Q quit.")

        @OptionGroup var options: HomeOptions
        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let station = try options.openStation()
                try FieldKitKiosk.Kiosk(station: station, localizer: language.localizer()).run()
                return .ok
            }
        }
    }
}
