import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit log`: the tamper-evident log.
    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check or checkpoint the attendance log.", subcommands: [Verify.self, Checkpoint.self])

        /// `fieldkit log verify`.
        struct Verify: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Recompute the hash chain and checkpoint signatures; name the first broken event.")

            @OptionGroup var options: HomeOptions

            @Flag(help: "Print a JSON object.")
            var json = false

            func run() async throws {
                try guarded {
                    let station = try options.openStation()
                    let v = try station.verifyLog()
                    if json {
                        say(try jsonLine(v))
                    } else if v.ok {
                        say("log verified: \(v.events) events, chain intact, \(v.checkpoints) checkpoint\(v.checkpoints == 1 ? "" : "s") signed by device \(station.deviceID)")
                    } else {
                        say("LOG ALTERED at sequence \(v.firstBrokenSeq ?? 0): \(v.problem ?? ""); keep this PC as it is and tell the county")
                    }
                    return v.ok ? .ok : .verifyFailed
                }
            }
        }

        /// `fieldkit log checkpoint`.
        struct Checkpoint: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Sign the log's current head with the device key.")

            @OptionGroup var options: HomeOptions

            func run() async throws {
                try guarded {
                    let station = try options.openStation()
                    let cp = try station.checkpoint(reason: "on request")
                    say("checkpoint signed at event \(cp.seq): \(hexString(cp.headHash))")
                    return .ok
                }
            }
        }
    }
}
