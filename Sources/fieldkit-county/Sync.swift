import ArgumentParser
import CountyKit
import CountyServer
import Dispatch
import FieldKitCLI
import FieldKitCore
import FieldKitStore
import FoundationEssentials
import Hummingbird
import Logging

extension FieldKitCounty {
    /// `fieldkit-county serve`.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the sync server the sites upload to.")

        @OptionGroup var options: CountyOptions

        @Option(help: "The address to listen on (127.0.0.1 unless you say otherwise).")
        var host = "127.0.0.1"

        @Option(help: "The port (0 picks a free one, printed at start).")
        var port = 8080

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let logger = makeLogger()
                let store = SQLiteCountyStore(office: try options.open(), logger: logger)
                let t = language.localizer()
                let host = host
                let app = buildApplication(service: SyncService(store: store), host: host, port: port, logger: logger) { bound in
                    say(t("cli.serve.listening", ["url": "http://\(host):\(bound)"]))
                }
                let done = DispatchSemaphore(value: 0)
                let failure = Failure()
                Task {
                    do { try await app.runService() } catch { failure.error = error }
                    done.signal()
                }
                done.wait()
                if let error = failure.error { throw error }
                return .ok
            }
        }

        final class Failure: @unchecked Sendable { var error: (any Error)? }
    }

    /// `fieldkit-county device`.
    struct Device: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Site PCs that may upload.", subcommands: [Add.self, List.self, Revoke.self, Keys.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make a one-time enrollment code for a site's PC.")
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: "The site.") var site: String
            @Option(help: "Hours the code stays usable.") var hours = CountyOffice.enrollmentHours
            @Flag(help: "Print JSON.") var json = false

            func run() throws {
                try guarded {
                    let code = try options.open().addDevice(site: site, validHours: hours)
                    if json {
                        say(try jsonLine(["code": code.code, "site": code.site, "expires_at": code.expiresAt.description]))
                    } else {
                        say(language.localizer()("cli.device.code", [
                            "code": code.code, "site": code.site, "time": code.expiresAt.localDescription(),
                        ]))
                    }
                    return .ok
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the enrolled devices and their last sync.")
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Flag(help: "Print JSON.") var json = false

            func run() throws {
                try guarded {
                    let devices = try options.open().listDevices()
                    let t = language.localizer()
                    for d in devices {
                        if json {
                            say(try jsonLine(DeviceLine(
                                device: d.id, site: d.site, status: d.status, held_seq: d.headSeq,
                                last_sync: d.lastSync?.description, clock_offset_ms: d.clockOffsetMs)))
                        } else {
                            say(t("cli.device.line", [
                                "device": d.id, "site": d.site, "status": t(d.status == "active" ? "cli.device.active" : "cli.device.revoked_status"),
                                "seq": "\(d.headSeq)",
                                "time": d.lastSync?.localDescription() ?? "—",
                                "offset": d.clockOffsetMs.map { "\($0 / 1000)" } ?? "—",
                            ]))
                        }
                    }
                    return .ok
                }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Cut a device off: its uploads are refused from now on.")
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: "The device id.") var device: String
            @Option(help: "Why (kept).") var reason: String

            func run() throws {
                try guarded {
                    try options.open().revokeDevice(device, reason: reason)
                    say(language.localizer()("cli.device.revoked", ["device": device]))
                    return .ok
                }
            }
        }

        struct DeviceLine: Encodable {
            var device, site, status: String
            var held_seq: Int64
            var last_sync: String?
            var clock_offset_ms: Int64?
        }
    }

    /// `fieldkit-county import FILE`.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a transfer file a site carried on a USB stick; writes the receipt to carry back.")

        @OptionGroup var options: CountyOptions

        @Argument(help: "The transfer file.")
        var file: String

        @Option(help: "Where to write the receipt (default: FILE.receipt).")
        var receipt: String?

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let service = SyncService(store: SQLiteCountyStore(office: try options.open(), logger: makeLogger()))
                let answer: Receipt
                do { answer = try service.importTransfer(try Files.read(file)) } catch let problem as Problem {
                    throw CountyError.transferRefused(file, problem.detail ?? problem.title)
                }
                let out = receipt ?? file + ".receipt"
                try Files.writeAtomically(Array(try SyncWire.encoder().encode(answer)) + [0x0A], to: out)
                say(language.localizer()("cli.import.done", ["device": answer.device, "seq": "\(answer.acked_seq)", "file": out]))
                return .ok
            }
        }
    }

    /// `fieldkit-county attendance`.
    struct Attendance: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What the county holds for a class, one line per event.")

        @OptionGroup var options: CountyOptions

        @Option(name: .customLong("class"), help: "The class id.")
        var classID: UInt32

        @Flag(help: "Print JSON (one array).")
        var json = false

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let events = try options.open().attendance(classID: classID)
                if json {
                    say(try jsonLine(events))
                } else {
                    for e in events {
                        say("\(e.device) #\(e.seq) \(e.time.localDescription()) \(e.kind) \(e.direction ?? "-") \(e.voucher_id.map(String.init) ?? "-") \(e.flags)")
                    }
                }
                return .ok
            }
        }
    }
}
