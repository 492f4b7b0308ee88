@testable import CountyKit
import CountyServer
import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A county with real vouchers for class 12 (08:30-11:30, 2026-03-02 to 2026-03-31 at S01) and
/// an enrolled device of S01 that the test controls byte for byte: a tampered classroom PC.
struct Tampered {
    let county: County
    let device: TestDevice
    let vouchers: [IssuedVoucher]

    /// The county is set up the week before the class; the uploads come after it (`ready()`).
    init() throws {
        county = try County(at: Tampered.at("09:00", day: "2026-02-23"))
        device = TestDevice(site: "S01")
        let roster = "name,id_number\n张伟,141023199003071232\n王芳,141023198511122345\n"
        vouchers = try county.office.issueVouchers(classID: 12, roster: Array(roster.utf8))
    }

    /// 2026-03-02 at a China local time.
    static func at(_ time: String, day: String = "2026-03-02") -> Int64 {
        ClassDay(iso: day)!.at(LocalTime(time)!).milliseconds
    }

    /// Appends an attendance event with every field as given.
    func attend(
        _ direction: Direction, kind: EventKind = .scan, voucher: UInt64, code: String?, at ms: Int64, day: String = "2026-03-02",
        session: Int = 0, flags: Set<EventFlag> = [], classID: UInt32 = 12
    ) {
        let seq = Int64(device.events.count + 1)
        device.events.append(SiteEvent(
            seq: seq, uuid: uuidV7(milliseconds: ms), deviceID: device.id, kind: kind, direction: direction, voucherID: voucher,
            classID: classID, classDay: ClassDay(iso: day), sessionIndex: session, reason: kind == .manual ? "scanner broken" : nil,
            code: code, flags: flags, wallTime: Timestamp(milliseconds: ms), utcOffset: 28_800, bootID: "b", monotonicNanos: seq,
            prevHash: device.events.last?.hash ?? SiteEvent.genesisHash))
    }

    /// Enrolls the device through the router, on the evening after the class's first days.
    func enroll(_ client: some TestClientProtocol) async throws {
        county.clock.ms = Tampered.at("20:00", day: "2026-03-05")
        let code = try county.office.addDevice(site: "S01").code
        try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { #expect($0.status == .ok) }
    }

    /// Uploads events `range` as the device would; the status and problem name.
    func upload(_ client: some TestClientProtocol, _ range: ClosedRange<Int64>, time: Int64 = 1_772_000_000_000)
        async throws -> (HTTPResponse.Status, String?)
    {
        try await device.upload(client, range, time: time)
    }

    /// The held-apart reasons of each stored event of the device, by sequence.
    func quarantine() throws -> [Int64: String] {
        var out: [Int64: String] = [:]
        for (seq, q) in try county.office.db.query(
            "SELECT seq, coalesce(quarantine, '') FROM events WHERE device_id = ?", [.text(device.id)], { ($0.int64(0), $0.text(1) ?? "") })
        { out[seq] = q }
        return out
    }
}

@Suite("County checks every event: a tampered station's uploads")
struct HostileDeviceTests {
    @Test("a voucher never scanned, code 1234, a sign-out in the future: stored, held apart, never counted; genuine scans count")
    func forgedAttendance() async throws {
        let t = try Tampered()
        let (real, other) = (t.vouchers[0], t.vouchers[1])
        // Given a genuine sign-in and sign-out of the first trainee
        t.attend(.signIn, voucher: real.voucherID, code: real.code, at: Tampered.at("08:25"))
        t.attend(.signOut, voucher: real.voucherID, code: real.code, at: Tampered.at("11:35"))
        // And forged events for the second, who never came
        t.attend(.signIn, voucher: other.voucherID, code: "1234", at: Tampered.at("08:31"))
        t.attend(.signOut, voucher: other.voucherID, code: other.code, at: Tampered.at("11:00", day: "2026-03-06"))
        // A voucher the county never issued, with a copied code
        t.attend(.signIn, voucher: 9_999_999, code: real.code, at: Tampered.at("08:40"))
        // A sign-out with no sign-in, a sign-in outside the session's hours, another site's class code
        t.attend(.signOut, voucher: other.voucherID, code: other.code, at: Tampered.at("11:40"), session: 0)
        t.attend(.signIn, voucher: other.voucherID, code: other.code, at: Tampered.at("13:00"))
        // A manual entry without its manual flag, and a proper manual one
        t.attend(.signIn, kind: .manual, voucher: other.voucherID, code: nil, at: Tampered.at("08:30", day: "2026-03-03"), day: "2026-03-03")
        t.attend(.signIn, kind: .manual, voucher: other.voucherID, code: nil, at: Tampered.at("08:30", day: "2026-03-04"), day: "2026-03-04",
                 flags: [.manual])
        try await t.county.app.test(.router) { client in
            try await t.enroll(client)
            // When the whole log is uploaded, it is accepted (the chain stays whole)
            #expect(try await t.upload(client, 1...9).0 == .ok)
        }
        // Then each forged event is held apart, naming why
        let q = try t.quarantine()
        #expect(q[1] == "" && q[2] == "")
        #expect(q[3] == "code_malformed")
        #expect(q[4]?.contains("future") == true && q[4]?.contains("outside_session") == true)
        #expect(q[5] == "code_mismatch,unknown_voucher")
        #expect(q[6] == "no_sign_in")
        #expect(q[7] == "outside_session")
        #expect(q[8] == "flags_missing")
        #expect(q[9] == "")
        // And only the genuine attendance is counted, for money and for the voucher's state
        let held = try t.county.office.heldAttendance(classID: 12)
        #expect(held.map(\.voucherID) == [real.voucherID, other.voucherID])
        #expect(held.first?.outMs == Tampered.at("11:35") && held.last?.flags.contains("manual") == true)
        let summary = try t.county.office.attendanceSummary(classID: 12)
        #expect(summary.scanned == 2 && summary.manual == 1 && summary.quarantined == 6)
        #expect(summary.manual_per_mille == 333)
    }

    @Test("a sign-out whose sign-in came in an earlier upload counts; one whose sign-in is only in another PC's log does not")
    func signInAcrossUploads() async throws {
        let t = try Tampered()
        let real = t.vouchers[0]
        t.attend(.signIn, voucher: real.voucherID, code: real.code, at: Tampered.at("08:25"))
        t.attend(.signOut, voucher: real.voucherID, code: real.code, at: Tampered.at("11:35"))
        let other = TestDevice(site: "S01")
        other.events.append(SiteEvent(
            seq: 1, uuid: uuidV7(milliseconds: 1), deviceID: other.id, kind: .scan, direction: .signOut, voucherID: real.voucherID,
            classID: 12, classDay: ClassDay(iso: "2026-03-02"), sessionIndex: 0, code: real.code,
            wallTime: Timestamp(milliseconds: Tampered.at("11:40")), utcOffset: 28_800, bootID: "b", monotonicNanos: 1,
            prevHash: SiteEvent.genesisHash))
        try await t.county.app.test(.router) { client in
            try await t.enroll(client)
            #expect(try await t.upload(client, 1...1).0 == .ok)
            #expect(try await t.upload(client, 2...2).0 == .ok)
            let code = try t.county.office.addDevice(site: "S01").code
            try await client.execute(uri: "/v1/enroll", method: .post, body: other.enrollBody(code: code)) { #expect($0.status == .ok) }
            #expect(try await other.upload(client, 1...1).0 == .ok)
        }
        #expect(try t.quarantine() == [1: "", 2: ""])
        let q = try t.county.office.db.first("SELECT quarantine FROM events WHERE device_id = ?", [.text(other.id)]) { $0.text(0) }
        #expect(q == "no_sign_in")
        #expect(try t.county.office.heldAttendance(classID: 12).first?.outMs == Tampered.at("11:35"))
    }

    @Test("a code signed by a key the county does not hold, or re-signed for another voucher, is held apart")
    func forgedCodes() async throws {
        let t = try Tampered()
        let real = t.vouchers[0]
        let genuine = try VoucherCode(text: real.code)
        // The institution's own key, with the county's key id in the body
        let forger = Curve25519.Signing.PrivateKey()
        let forged = try VoucherCode(signing: genuine.body, with: forger)
        let body = genuine.body
        let foreignKid = try VoucherCode(signing: VoucherBody(
            kid: KeyID(of: forger.publicKey), voucherID: real.voucherID, traineeRef: 1, classID: 12, trade: body.trade, level: 5,
            validFrom: body.validFrom, validTo: body.validTo), with: forger)
        t.attend(.signIn, voucher: real.voucherID, code: forged.text, at: Tampered.at("08:30"))
        t.attend(.signIn, voucher: real.voucherID, code: foreignKid.text, at: Tampered.at("08:31", day: "2026-03-03"), day: "2026-03-03")
        t.attend(.signIn, voucher: t.vouchers[1].voucherID, code: real.code, at: Tampered.at("08:32", day: "2026-03-04"), day: "2026-03-04")
        try await t.county.app.test(.router) { client in
            try await t.enroll(client)
            #expect(try await t.upload(client, 1...3).0 == .ok)
        }
        let q = try t.quarantine()
        #expect(q[1] == "code_mismatch,bad_signature")
        #expect(q[2] == "code_mismatch,unknown_key")
        #expect(q[3] == "code_mismatch")
        #expect(try t.county.office.heldAttendance(classID: 12).isEmpty)
    }

    @Test(
        "events no station writes are refused whole (422 invalid-event), nothing stored, and the server serves the next good batch",
        arguments: [
            ("class_day", "2099-13-45"), ("kind", "payday"), ("flags", "late,bonus"), ("flags", "manual,late"),
            ("direction", "sideways"), ("session_index", "-1"), ("wall_ms", "-1"), ("uuid", "1234"),
            ("utc_offset", "99999"), ("seq", "9223372036854775807"),
        ])
    func impossibleEvents(field: String, value: String) async throws {
        let t = try Tampered()
        let real = t.vouchers[0]
        t.attend(.signIn, voucher: real.voucherID, code: real.code, at: Tampered.at("08:25"))
        t.attend(.signOut, voucher: real.voucherID, code: real.code, at: Tampered.at("11:35"))
        // The second event with one field set to what a station never writes (its hash made to match)
        var bad = WireEvent(t.device.events[1])
        switch field {
        case "class_day": bad.class_day = value
        case "kind": bad.kind = value
        case "flags": bad.flags = value
        case "direction": bad.direction = value
        case "session_index": bad.session_index = Int(value)
        case "wall_ms": bad.wall_ms = Int64(value)!
        case "uuid": bad.uuid = value
        case "utc_offset": bad.utc_offset = Int(value)!
        default: bad.seq = Int64(value)!
        }
        bad.hash = hexString(EventHash.compute(bad.canonicalFields))
        var batch = EventBatch(device: t.device.id, events: [WireEvent(t.device.events[0]), bad])
        batch.to = bad.seq
        let last = bad.seq
        let body = Array(try SyncWire.encoder().encode(batch))
        try await t.county.app.test(.router) { client in
            try await t.enroll(client)
            let key = SyncWire.idempotencyKey(device: t.device.id, from: 1, to: last)
            let answer = try await client.execute(
                uri: SyncWire.eventsPath(device: t.device.id), method: .post, headers: t.device.headers(key: key, body: body),
                body: ByteBuffer(bytes: body)
            ) { ($0.status, problem($0.body)) }
            #expect(answer.0 == .unprocessableContent && answer.1?.name == "invalid-event", "\(answer.1?.detail ?? "")")
            #expect(answer.1?.detail?.contains(field == "seq" ? "seq" : field) == true, "\(answer.1?.detail ?? "")")
            #expect(try t.county.held(t.device.id) == 0)
            // The honest batch still goes in
            #expect(try await t.upload(client, 1...2).0 == .ok)
        }
        #expect(try t.county.held(t.device.id) == 2)
    }

    @Test("FieldKit-Time at Int64.min or beyond year 9999 is a 400, and seq = Int64.max twice a 422: no crash, next client served")
    func integersAtTheirLimits() async throws {
        let t = try Tampered()
        t.device.record()
        try await t.county.app.test(.router) { client in
            try await t.enroll(client)
            for time in [Int64.min, -1, Int64.max, WireEvent.maxWallMs + 1] {
                #expect(try await t.upload(client, 1...1, time: time) == (.badRequest, "bad-request"))
            }
            // Two events claiming seq Int64.max (consecutive would need seq + 1 past the end)
            var a = WireEvent(t.device.events[0])
            a.seq = .max
            a.hash = hexString(EventHash.compute(a.canonicalFields))
            var batch = EventBatch(device: t.device.id, events: [a, a])
            batch.from = .max
            batch.to = .max
            let body = Array(try SyncWire.encoder().encode(batch))
            let key = SyncWire.idempotencyKey(device: t.device.id, from: .max, to: .max)
            try await client.execute(
                uri: SyncWire.eventsPath(device: t.device.id), method: .post, headers: t.device.headers(key: key, body: body),
                body: ByteBuffer(bytes: body)
            ) { #expect($0.status == .unprocessableContent && problem($0.body)?.name == "invalid-event") }
            #expect(try await t.upload(client, 1...1).0 == .ok)
        }
        #expect(try t.county.office.device(t.device.id)?.clockOffsetMs != nil)
    }

    @Test("a USB transfer file whose time is Int64.min is refused with a problem, nothing stored")
    func transferAtTheLimit() async throws {
        let t = try Tampered()
        t.device.record()
        let code = try t.county.office.addDevice(site: "S01").code
        let pub = Base64.encode(t.device.key.publicKey.rawRepresentation)
        let sig = try t.device.key.signature(for: SyncWire.enrollMessage(code: code, site: "S01", device: t.device.id, publicKey: pub))
        _ = try await SyncService(store: t.county.store).enroll(
            EnrollRequest(code: code, site: "S01", device: t.device.id, public_key: pub, signature: Base64.encode(sig)))
        let body = t.device.body(1...1)
        let file = TransferFile(
            format: TransferFile.formatName, device: t.device.id, time: .min, idempotency_key: "\(t.device.id):1-1",
            signature: Base64.encode(try t.device.key.signature(for: SyncWire.requestMessage(
                method: "POST", path: SyncWire.eventsPath(device: t.device.id), device: t.device.id, time: .min,
                idempotencyKey: "\(t.device.id):1-1", body: body))),
            body: Base64.encode(body))
        let bytes = Array(try SyncWire.encoder().encode(file))
        await #expect(throws: Problem.self) { try await SyncService(store: t.county.store).importTransfer(bytes) }
        #expect(try t.county.held(t.device.id) == 0)
    }
}

@Suite("County enrollment: no oracle, no free text, no guessing at speed")
struct EnrollmentHardeningTests {
    @Test("a code for another site and an unknown code get the same answer, byte for byte")
    func uniformAnswers() async throws {
        let county = try County()
        let code = try county.office.addDevice(site: "S01").code
        let intruder = TestDevice(site: "S02")
        try await county.app.test(.router) { client in
            let forOther = try await client.execute(uri: "/v1/enroll", method: .post, body: intruder.enrollBody(code: code)) {
                ($0.status, String(buffer: $0.body))
            }
            let unknown = try await client.execute(uri: "/v1/enroll", method: .post, body: intruder.enrollBody(code: "0000-0000-0000")) {
                ($0.status, String(buffer: $0.body))
            }
            #expect(forOther.0 == .forbidden && forOther == unknown)
            #expect(!forOther.1.contains("S01"))
            // The right site still enrolls with it
            let device = TestDevice(site: "S01")
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { #expect($0.status == .ok) }
        }
    }

    @Test("a device id that is not SITE-<key id> is refused (422), and the code stays usable")
    func deviceIDFromKey() async throws {
        let county = try County()
        let code = try county.office.addDevice(site: "S01").code
        let key = Curve25519.Signing.PrivateKey()
        let pub = Base64.encode(key.publicKey.rawRepresentation)
        for id in ["S01-anything", "'; DROP TABLE devices; --", "S02-\(KeyID(of: key.publicKey))", String(repeating: "x", count: 5000)] {
            let sig = try key.signature(for: SyncWire.enrollMessage(code: code, site: "S01", device: id, publicKey: pub))
            let body = ByteBuffer(bytes: try SyncWire.encoder().encode(
                EnrollRequest(code: code, site: "S01", device: id, public_key: pub, signature: Base64.encode(sig))))
            try await county.app.test(.router) { client in
                try await client.execute(uri: "/v1/enroll", method: .post, body: body) {
                    #expect($0.status == .unprocessableContent && problem($0.body)?.name == "invalid-request")
                }
            }
        }
        #expect(try county.office.listDevices().isEmpty)
        let device = TestDevice(site: "S01")
        try await county.app.test(.router) { client in
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { #expect($0.status == .ok) }
        }
    }

    @Test("after 10 failed attempts from one address: 429 with Retry-After, even with a good code; 5 on one code hold that code")
    func throttled() async throws {
        let county = try County()
        let good = try county.office.addDevice(site: "S01").code
        try await county.app.test(.router) { client in
            for i in 0..<10 {
                let guess = TestDevice(site: "S01").enrollBody(code: String(format: "%012d", i))
                try await client.execute(uri: "/v1/enroll", method: .post, body: guess) { #expect($0.status == .forbidden) }
            }
            try await client.execute(uri: "/v1/enroll", method: .post, body: TestDevice(site: "S01").enrollBody(code: good)) { r in
                #expect(r.status == .tooManyRequests && problem(r.body)?.name == "too-many-attempts")
                #expect(Int(r.headers[.retryAfter] ?? "") ?? 0 > 0)
            }
        }
        // Per code, separately from the address
        let throttle = EnrollmentThrottle(perPeer: 100, perCode: 5)
        for _ in 0..<5 { throttle.failed(peer: "10.0.0.\(Int.random(in: 1...200))", code: "c1", now: 1000) }
        #expect(throttle.wait(peer: "10.0.0.250", code: "c1", now: 1001) == 599)
        #expect(throttle.wait(peer: "10.0.0.250", code: "c2", now: 1001) == nil)
        #expect(throttle.wait(peer: "10.0.0.250", code: "c1", now: 1600) == nil)
    }
}
