import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit init`: creates the station once, pinning the county root key.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set up this PC as a site's station (once).")

        @OptionGroup var options: HomeOptions

        @Option(help: "This site's id, as the county wrote it.")
        var site: String

        @Option(name: .customLong("county-root"), help: "The county's root.pub file.")
        var countyRoot: String

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let home = try options.resolvedHome()
                let station = try Station.initialize(
                    home: home, siteID: site, rootKeyFile: try Files.read(countyRoot), logger: makeLogger())
                let t = language.localizer()
                say(t("cli.init.ready", ["site": station.siteID, "device": station.deviceID, "home": home]))
                say(t("cli.init.next", ["home": home]))
                return .ok
            }
        }
    }
}
