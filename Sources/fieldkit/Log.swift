import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit log`: the tamper-evident log.
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.log.abstract"), subcommands: [Verify.self, Checkpoint.self])

        /// `fieldkit log verify`.
        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.log.verify.abstract"))

            @OptionGroup var options: HomeOptions

            @Flag(help: .localized("help.fieldkit.log.verify.json"))
            var json = false

            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let v = try station.verifyLog()
                    if json {
                        say(try jsonLine(v))
                    } else if v.ok {
                        let key = v.checkpoints == 0 ? "cli.log.verified.none" : v.checkpoints == 1 ? "cli.log.verified.one" : "cli.log.verified"
                        say(language.localizer()(key, [
                            "events": "\(v.events)", "checkpoints": "\(v.checkpoints)", "device": station.deviceID,
                        ]))
                    } else {
                        say(language.localizer()("cli.log.altered", ["seq": "\(v.firstBrokenSeq ?? 0)", "problem": v.failure?.text(language.localizer()) ?? ""]))
                    }
                    return v.ok ? .ok : .verifyFailed
                }
            }
        }

        /// `fieldkit log checkpoint`.
        struct Checkpoint: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.fieldkit.log.checkpoint.abstract"))

            @OptionGroup var options: HomeOptions
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let cp = try station.checkpoint(reason: "on request")
                    say(language.localizer()("cli.log.checkpoint", ["seq": "\(cp.seq)", "hash": hexString(cp.headHash)]))
                    return .ok
                }
            }
        }
    }
}
