import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit init`: creates the station once, pinning the county root key.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set up this PC as a site's station (once).",
            discussion: """
                A device key whose database is gone is never reused: restore fieldkit.db from backup. Only when no
                backup exists, --new-device keeps the old key files renamed (device.key.retired-<UTC time>) and
                makes a new key, so a new device id that the county must enroll again.
                """)

        @OptionGroup var options: HomeOptions

        @Option(help: "This site's id, as the county wrote it.")
        var site: String

        @Option(name: .customLong("county-root"), help: "The county's root.pub file.")
        var countyRoot: String

        @Flag(help: "The database is lost with no backup: retire the old device key and start as a new device.")
        var newDevice = false

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let home = try options.resolvedHome()
                let rootKey = try Files.read(countyRoot)
                let retired = newDevice ? try Station.retireDeviceKey(home: home) : []
                let station = try Station.initialize(home: home, siteID: site, rootKeyFile: rootKey, logger: makeLogger())
                let t = language.localizer()
                say(t("cli.init.ready", ["site": station.siteID, "device": station.deviceID, "home": home]))
                if !retired.isEmpty {
                    say(t("cli.init.retired", ["files": retired.joined(separator: ", ")]))
                    say(t("cli.init.new_device", ["device": station.deviceID, "site": station.siteID]))
                }
                say(t("cli.init.next", ["home": home]))
                return .ok
            }
        }
    }
}
