import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore

extension FieldKitCounty.Device {
    /// `fieldkit-county device keys [--out FILE]`: the enrolled device keys, signed by the root key.
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.keys.abstract"),
            discussion: helpText("help.county.keys.discussion"))
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Option(help: .localized("help.county.keys.out")) var out: String?

        func run() throws {
            try guarded {
                let office = try options.open()
                let export = try office.exportDeviceKeys()
                try emit(export.file, to: out)
                if let out, out != "-" {
                    let revoked = export.list.devices.filter { $0.revoked_ms != nil }.count
                    say(language.localizer()("evidence.keys.written", [
                        "count": "\(export.list.devices.count)", "revoked": "\(revoked)", "file": out,
                        "root": KeyFingerprint(of: office.rootPublicKey).description,
                    ]))
                }
                return .ok
            }
        }
    }
}
