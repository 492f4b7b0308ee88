import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore

extension FieldKitCounty.Device {
    /// `fieldkit-county device locate DEVICE-ID --location TEXT`: where an enrolled PC stands.
    struct Locate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.locate.abstract"),
            discussion: helpText("help.county.locate.discussion"))
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Argument(help: .localized("help.county.locate.device")) var device: String
        @Option(help: .localized("help.county.locate.location")) var location: String

        func validate() throws { try refuseHiddenControl(flag: "--location", location) }

        func run() throws {
            try guarded {
                let located = try options.open().locateDevice(device, location: location)
                let t = language.localizer()
                if let place = located.location {
                    say(t("cli.device.located", ["device": located.id, "location": place]))
                } else {
                    say(t("cli.device.unlocated", ["device": located.id]))
                }
                return .ok
            }
        }
    }
}
