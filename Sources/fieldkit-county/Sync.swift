import ArgumentParser
import CountyKit
import CountyServer
import Dispatch
import FieldKitCLI
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Hummingbird
import Logging

extension FieldKitCounty {
    /// `fieldkit-county serve`.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: helpText("help.county.serve.abstract"))

        @OptionGroup var options: CountyOptions

        @Option(help: .localized("help.county.serve.host"))
        var host = "127.0.0.1"

        @Option(help: .localized("help.county.serve.port"))
        var port = 8080

        @Option(help: .localized("help.county.serve.enrollment_attempts"))
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
            abstract: helpText("help.county.device.abstract"), subcommands: [Add.self, Code.self, Enroll.self, List.self, Revoke.self, Locate.self, Keys.self, Status.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.device.add.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: .localized("help.county.device.add.site")) var site: String
            @Option(help: .localized("help.county.device.add.hours")) var hours = CountyOffice.enrollmentHours
            @Option(help: .localized("help.county.device.add.location"))
            var location: String?
            @Flag(help: .localized("help.county.device.add.json")) var json = false

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
                abstract: helpText("help.county.device.code.abstract"),
                discussion: helpText("help.county.device.code.discussion"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: .localized("help.county.device.code.site")) var site: String
            @Option(help: .localized("help.county.device.code.file")) var file: String
            @Option(help: .localized("help.county.device.code.hours")) var hours = CountyOffice.enrollmentHours
            @Option(help: .localized("help.county.device.code.location")) var location: String?

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
                abstract: helpText("help.county.device.enroll.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: .localized("help.county.device.enroll.file")) var file: String
            @Option(help: .localized("help.county.device.enroll.out")) var out: String

            func run() throws {
                try guarded {
                    let office = try options.open()
                    let request = try EnrollmentFile.decode(
                        EnrollmentRequestFile.self, bytes: try readBounded(file, limit: EnrollmentFile.maxBytes), path: file,
                        format: EnrollmentRequestFile.formatName
                    ).request
                    let service = SyncService(store: SQLiteCountyStore(office: office, logger: makeLogger()))
                    let answer: EnrollResponse
                    do { answer = try waitFor { try await service.enroll(request) } } catch let problem as Problem {
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
            static let configuration = CommandConfiguration(abstract: helpText("help.county.device.list.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Flag(help: .localized("help.county.device.list.json")) var json = false

            func run() throws {
                try guarded {
                    let office = try options.open()
                    let devices = try office.listDevices()
                    let restored = Dictionary(grouping: try office.restorations(), by: \.device)
                    let t = language.localizer()
                    for d in devices {
                        if json {
                            say(try jsonLine(DeviceLine(
                                device: d.id, site: d.site, status: d.status, held_seq: d.headSeq,
                                last_sync: d.lastSync?.description, clock_offset_ms: d.clockOffsetMs, location: d.location,
                                restorations: restored[d.id])))
                        } else {
                            say(t("cli.device.line", [
                                "device": d.id, "site": d.site, "status": t(d.status == "active" ? "cli.device.active" : "cli.device.revoked_status"),
                                "seq": "\(d.headSeq)",
                                "time": d.lastSync?.localDescription() ?? "—",
                                "offset": d.clockOffsetMs.map { "\($0 / 1000)" } ?? "—",
                            ]) + t(d.location == nil ? "cli.device.place_unknown" : "cli.device.place", ["location": d.location ?? ""]))
                            for r in restored[d.id] ?? [] { say("  ⚠ " + restorationNote(r, t)) }
                        }
                    }
                    return .ok
                }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.device.revoke.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: .localized("help.county.device.revoke.device")) var device: String
            @Option(help: .localized("help.county.device.revoke.reason")) var reason: String

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
            var restorations: [Restoration]?
        }

        /// `fieldkit-county device status DEVICE [--out FILE]`: the county's high-water for a
        /// device, signed, for a station restored from a backup that syncs by USB stick.
        struct Status: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.device.status.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Argument(help: .localized("help.county.device.status.device")) var device: String
            @Option(help: .localized("help.county.device.status.out")) var out: String?

            func run() throws {
                try guarded {
                    let receipt = try options.open().highWater(device: device)
                    let t = language.localizer()
                    if let out {
                        try Files.writeAtomically(Array(try SyncWire.encoder().encode(receipt)) + [0x0A], to: out)
                        say(t("backup.county.status_written", ["device": device, "seq": "\(receipt.acked_seq)", "file": out]))
                    } else {
                        say(t("backup.county.status", ["device": device, "seq": "\(receipt.acked_seq)", "hash": receipt.head_hash]))
                    }
                    return .ok
                }
            }
        }
    }

    /// `fieldkit-county import FILE`.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.import.abstract"))

        @OptionGroup var options: CountyOptions

        @Argument(help: .localized("help.county.import.file"))
        var file: String

        @Option(help: .localized("help.county.import.receipt"))
        var receipt: String?

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let service = SyncService(store: SQLiteCountyStore(office: try options.open(), logger: makeLogger()))
                let answer: Receipt
                let bytes = try Files.read(file)
                do { answer = try waitFor { try await service.importTransfer(bytes) } } catch let problem as Problem {
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
        static let configuration = CommandConfiguration(abstract: helpText("help.county.attendance.abstract"))

        @OptionGroup var options: CountyOptions

        @Option(name: .customLong("class"), help: .localized("help.county.attendance.class_id"))
        var classID: UInt32

        @Flag(help: .localized("help.county.attendance.json"))
        var json = false

        @Flag(name: .customLong("summary"), help: .localized("help.county.attendance.summary_only"))
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
                // A device restored from a backup said which events may be lost: every reader sees it.
                let devices = Set(events.map(\.device))
                for r in try office.restorations() where devices.contains(r.device) { say("⚠ " + restorationNote(r, t)) }
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

/// A device's restore statement in words.
func restorationNote(_ r: Restoration, _ t: Localizer) -> String {
    r.hasGap
        ? t("backup.county.restored_gap", [
            "device": r.device, "time": r.time.localDescription(), "base": "\(r.base_seq)", "county": "\(r.county_seq)",
            "seq": "\(r.seq)",
        ])
        : t("backup.county.restored", ["device": r.device, "time": r.time.localDescription(), "base": "\(r.base_seq)", "seq": "\(r.seq)"])
}

/// `123` per mille as `12.3`.
func perMille(_ value: Int) -> String { "\(value / 10).\(value % 10)" }

/// One of two encodable shapes, for a flag that picks what `--json` prints.
struct AnyEncodable: Encodable {
    let encodeTo: (any Encoder) throws -> Void
    init(_ value: some Encodable) { encodeTo = value.encode(to:) }
    func encode(to encoder: any Encoder) throws { try encodeTo(encoder) }
}
