import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitSQLite
import FieldKitStore

extension FieldKit {
    /// `fieldkit init`: creates the station once, pinning the county root key.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.init.abstract"),
            discussion: helpText("help.fieldkit.init.discussion"))

        @OptionGroup var options: HomeOptions

        @Option(help: .localized("help.fieldkit.init.site"))
        var site: String

        @Option(name: .customLong("county-root"), help: .localized("help.fieldkit.init.county_root"))
        var countyRoot: String

        @Flag(help: .localized("help.fieldkit.init.new_device"))
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
