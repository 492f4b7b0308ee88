import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore

extension FieldKitCounty.Device {
    /// `fieldkit-county device locate DEVICE-ID --location TEXT`: where an enrolled PC stands.
    struct Locate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record where an enrolled PC stands.",
            discussion: """
                Attendance recorded on a PC that stands elsewhere than its class's location is flagged \
                `location` and held apart on the claim sheet. An empty --location makes it unknown again.
                """)
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Argument(help: "The device id (from `device list`).") var device: String
        @Option(help: "Where it stands, as in the classes' --location.") var location: String

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
