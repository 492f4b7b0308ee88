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

        @Option(help: "Failed enrollments allowed per address in 10 minutes before it must wait.")
        var enrollmentAttempts = 10

        func validate() throws {
            guard (1...1_000_000).contains(enrollmentAttempts) else {
                throw usageError(flag: "--enrollment-attempts", expected: "count", value: "\(enrollmentAttempts)")
            }
            guard (0...65_535).contains(port) else { throw usageError(flag: "--port", expected: "port", value: "\(port)") }
        }

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let logger = makeLogger()
                let store = SQLiteCountyStore(office: try options.open(), logger: logger)
                let t = language.localizer()
                let host = host
                let throttle = EnrollmentThrottle(perPeer: enrollmentAttempts)
                let app = buildApplication(service: SyncService(store: store), host: host, port: port, throttle: throttle, logger: logger) { bound in
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
            abstract: "Site PCs that may upload.", subcommands: [Add.self, Code.self, Enroll.self, List.self, Revoke.self, Locate.self, Keys.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make a one-time enrollment code for a site's PC.")
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: "The site.") var site: String
            @Option(help: "Hours the code stays usable (1 to 720).") var hours = CountyOffice.enrollmentHours
            @Option(help: "Where the PC will stand (kept for the device when it enrolls; compared with its classes' locations).")
            var location: String?
            @Flag(help: "Print JSON.") var json = false

            func validate() throws {
                guard (1...720).contains(hours) else { throw usageError(flag: "--hours", expected: "hours", value: "\(hours)") }
                if let location { try refuseHiddenControl(flag: "--location", location) }
            }

            func run() throws {
                try guarded {
                    let code = try options.open().addDevice(site: site, validHours: hours, location: location)
                    if json {
                        var out = ["code": code.code, "site": code.site, "expires_at": code.expiresAt.description]
                        if let place = code.location { out["location"] = place }
                        say(try jsonLine(out))
                    } else {
                        var values = ["code": code.code, "site": code.site, "time": code.expiresAt.localDescription()]
                        values["location"] = code.location
                        say(language.localizer()(code.location == nil ? "cli.device.code" : "cli.device.code_at", values))
                    }
                    return .ok
                }
            }
        }

        /// `fieldkit-county device code --site S --file CODE.json`: the one-time code as a file for a USB stick.
        struct Code: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a one-time enrollment code to a file, for a site with no link (carried on a USB stick).",
                discussion: "At the site: fieldkit enroll --file CODE.json --out REQUEST.json; back here: device enroll --file REQUEST.json --out ANSWER.json.")
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: "The site.") var site: String
            @Option(help: "The code file to write.") var file: String
            @Option(help: "Hours the code stays usable (1 to 720).") var hours = CountyOffice.enrollmentHours
            @Option(help: "Where the PC will stand (kept for the device when it enrolls).") var location: String?

            func validate() throws {
                guard (1...720).contains(hours) else { throw usageError(flag: "--hours", expected: "hours", value: "\(hours)") }
                if let location { try refuseHiddenControl(flag: "--location", location) }
            }

            func run() throws {
                try guarded {
                    let office = try options.open()
                    let code = try office.addDevice(site: site, validHours: hours, location: location)
                    try Files.writeAtomically(try EnrollmentFile.encode(try office.enrollmentCodeFile(code)), to: file, mode: 0o600)
                    say(language.localizer()("cli.device.code_file", [
                        "site": code.site, "file": file, "time": code.expiresAt.localDescription(),
                    ]))
                    return .ok
                }
            }
        }

        /// `fieldkit-county device enroll --file REQUEST.json --out ANSWER.json`: the same
        /// enrollment as `POST /v1/enroll`, by file.
        struct Enroll: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Enroll a site's PC from the request file it wrote; writes the signed answer to carry back.")
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: "The request file the site wrote (fieldkit enroll --file … --out …).") var file: String
            @Option(help: "The answer file to write.") var out: String

            func run() throws {
                try guarded {
                    let office = try options.open()
                    let request = try EnrollmentFile.decode(
                        EnrollmentRequestFile.self, bytes: try readBounded(file, limit: EnrollmentFile.maxBytes), path: file,
                        format: EnrollmentRequestFile.formatName
                    ).request
                    let service = SyncService(store: SQLiteCountyStore(office: office, logger: makeLogger()))
                    let answer: EnrollResponse
                    do { answer = try service.enroll(request) } catch let problem as Problem {
                        if problem.type.hasSuffix("/enrollment-code") { throw try office.codeRefusal(request, file: file) }
                        throw CountyError.enrollmentRefused(file, .refused(problem.detail ?? problem.title))
                    }
                    try Files.writeAtomically(try EnrollmentFile.encode(try office.enrollmentAnswerFile(answer)), to: out)
                    say(language.localizer()("cli.device.enrolled_file", ["device": answer.device, "site": answer.site, "file": out]))
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
                                last_sync: d.lastSync?.description, clock_offset_ms: d.clockOffsetMs, location: d.location)))
                        } else {
                            say(t("cli.device.line", [
                                "device": d.id, "site": d.site, "status": t(d.status == "active" ? "cli.device.active" : "cli.device.revoked_status"),
                                "seq": "\(d.headSeq)",
                                "time": d.lastSync?.localDescription() ?? "—",
                                "offset": d.clockOffsetMs.map { "\($0 / 1000)" } ?? "—",
                            ]) + t(d.location == nil ? "cli.device.place_unknown" : "cli.device.place", ["location": d.location ?? ""]))
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
            var location: String?
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

        @Flag(help: "Print JSON (one array of events, or the summary with --summary).")
        var json = false

        @Flag(name: .customLong("summary"), help: "Only the summary: scanned, manual (and their share), held apart and why.")
        var summaryOnly = false

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let office = try options.open()
                let events = try office.attendance(classID: classID)
                let summary = try office.attendanceSummary(classID: classID)
                if json {
                    say(try jsonLine(summaryOnly ? AnyEncodable(summary) : AnyEncodable(events)))
                    return .ok
                }
                let t = language.localizer()
                func reasons(_ codes: [String]) -> String { codes.map { t("audit.reason.\($0)") }.joined(separator: ", ") }
                if !summaryOnly {
                    for e in events {
                        // Device-sent: say() escapes kind, direction and flags; a time no clock
                        // can show is printed as its milliseconds.
                        let time = e.time.milliseconds.magnitude < 1 << 52 ? e.time.localDescription() : "ms:\(e.time.milliseconds)"
                        let held = e.quarantine.isEmpty ? "" : "  ✘ " + t("audit.held", ["reasons": reasons(e.quarantine)])
                        say("\(e.device) #\(e.seq) \(time) \(e.kind) \(e.direction ?? "-") \(e.voucher_id.map(String.init) ?? "-") \(e.flags)" + held)
                    }
                }
                let byReason = summary.quarantine_reasons.sorted { $0.key < $1.key }.map { "\(t("audit.reason.\($0.key)")) \($0.value)" }
                say(t("audit.summary", [
                    "class": "\(classID)", "scanned": "\(summary.scanned)", "manual": "\(summary.manual)",
                    "share": perMille(summary.manual_per_mille), "quarantined": "\(summary.quarantined)",
                    "reasons": byReason.isEmpty ? "" : ": " + byReason.joined(separator: "; "),
                ]))
                return .ok
            }
        }
    }
}

/// `123` per mille as `12.3`.
func perMille(_ value: Int) -> String { "\(value / 10).\(value % 10)" }

/// One of two encodable shapes, for a flag that picks what `--json` prints.
struct AnyEncodable: Encodable {
    let encodeTo: (any Encoder) throws -> Void
    init(_ value: some Encodable) { encodeTo = value.encode(to:) }
    func encode(to encoder: any Encoder) throws { try encodeTo(encoder) }
}
