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
import Logging
import Testing

/// A device the test holds entirely: its key, its log. It can do what a real one must not.
final class TestDevice: @unchecked Sendable {
    let id: String
    let site: String
    let key: Curve25519.Signing.PrivateKey
    var events: [SiteEvent] = []

    /// A device of a site; its id is the site and its key's id, as a station's is.
    init(site: String, key: Curve25519.Signing.PrivateKey = .init()) {
        self.id = DeviceID.make(site: site, key: key.publicKey)
        self.site = site
        self.key = key
    }

    /// Appends an event to its chain.
    func record(_ kind: EventKind = .refused, voucher: UInt64? = nil, direction: Direction? = nil, at ms: Int64 = 1_772_000_000_000) {
        let seq = Int64(events.count + 1)
        events.append(SiteEvent(
            seq: seq, uuid: uuidV7(milliseconds: ms + Int64(events.count)), deviceID: id, kind: kind, direction: direction, voucherID: voucher,
            classID: voucher == nil ? nil : 12, classDay: voucher == nil ? nil : ClassDay(iso: "2026-03-02"),
            sessionIndex: voucher == nil ? nil : 0, reason: kind == .refused ? "unreadable" : nil,
            wallTime: Timestamp(milliseconds: ms + seq * 1000), utcOffset: 28_800, bootID: "b", monotonicNanos: seq,
            prevHash: events.last?.hash ?? SiteEvent.genesisHash))
    }

    func body(_ range: ClosedRange<Int64>) -> [UInt8] {
        Array(try! SyncWire.encoder().encode(EventBatch(device: id, events: events[Int(range.lowerBound - 1)...Int(range.upperBound - 1)].map(WireEvent.init))))
    }

    func headers(method: String = "POST", path: String? = nil, key idempotency: String, body: [UInt8], time: Int64 = 1_772_000_000_000) -> HTTPFields {
        let path = path ?? SyncWire.eventsPath(device: id)
        let sig = try! key.signature(
            for: SyncWire.requestMessage(method: method, path: path, device: id, time: time, idempotencyKey: idempotency, body: body))
        var h = HTTPFields()
        h[HTTPField.Name("FieldKit-Device")!] = id
        h[HTTPField.Name("FieldKit-Time")!] = String(time)
        h[HTTPField.Name("FieldKit-Signature")!] = Base64.encode(sig)
        if !idempotency.isEmpty { h[HTTPField.Name("Idempotency-Key")!] = idempotency }
        return h
    }

    /// Uploads events `range` through the router as the device would; the status and problem name.
    func upload(_ client: some TestClientProtocol, _ range: ClosedRange<Int64>, body: [UInt8]? = nil, time: Int64 = 1_772_000_000_000)
        async throws -> (HTTPResponse.Status, String?)
    {
        let body = body ?? self.body(range)
        let key = SyncWire.idempotencyKey(device: id, from: range.lowerBound, to: range.upperBound)
        return try await client.execute(
            uri: SyncWire.eventsPath(device: id), method: .post, headers: headers(key: key, body: body, time: time),
            body: ByteBuffer(bytes: body)
        ) { ($0.status, problem($0.body)?.name) }
    }

    func enrollBody(code: String) -> ByteBuffer {
        let pub = Base64.encode(key.publicKey.rawRepresentation)
        let sig = try! key.signature(for: SyncWire.enrollMessage(code: code, site: site, device: id, publicKey: pub))
        let req = EnrollRequest(code: code, site: site, device: id, public_key: pub, signature: Base64.encode(sig))
        return ByteBuffer(bytes: try! SyncWire.encoder().encode(req))
    }
}

func temporaryDirectory() -> String {
    // Scripts/test points FIELDKIT_TEST_TMP at one folder it removes afterwards.
    let base = getenv("FIELDKIT_TEST_TMP").map { String(cString: $0) } ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
    var template = Array("\(base)/fks-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// A county with sites S01 and S02, class 12 at S01, and the HTTP router over its store.
final class County: @unchecked Sendable {
    let office: CountyOffice
    let store: SQLiteCountyStore
    let app: Application<RouterResponder<CountyRequestContext>>

    /// The county's clock: now, unless a test sets it.
    let clock = TestClock()

    init(maxEvents: Int = 5000, maxInFlight: Int = 64, at start: Int64? = nil) throws {
        if let start { clock.ms = start }
        let clock = clock
        office = try CountyOffice.initialize(
            home: temporaryDirectory() + "/county", countyID: "141023", now: { clock.ms.map(Timestamp.init(milliseconds:)) ?? SystemClock().now() })
        try office.addSite(id: "S01", name: "School one")
        try office.addSite(id: "S02", name: "School two")
        try office.addClass(
            ClassInfo(
                id: 12, name: "Cook", trade: OccupationCode("4-03-02-01")!, level: 5, location: "",
                startDate: ClassDay(iso: "2026-03-02")!, endDate: ClassDay(iso: "2026-03-31")!,
                sessions: SessionWindow.parseList("08:30-11:30")!), site: "S01")
        store = SQLiteCountyStore(office: office)
        let service = SyncService(store: store, maxEvents: maxEvents, maxInFlight: maxInFlight)
        app = Application(router: buildRouter(service: service, logger: Logger(label: "test")))
    }

    func held(_ device: String) throws -> Int64 {
        try office.db.first("SELECT count(*) FROM events WHERE device_id = ?", [.text(device)]) { $0.int64(0) } ?? -1
    }
}

/// A clock a test can set and move; nil reads the real time.
final class TestClock: @unchecked Sendable {
    var ms: Int64?
}

func problem(_ body: ByteBuffer) -> Problem? { try? JSONDecoder().decode(Problem.self, from: Data(body.readableBytesView)) }
func receipt(_ body: ByteBuffer) -> Receipt? { try? JSONDecoder().decode(Receipt.self, from: Data(body.readableBytesView)) }

@Suite("County server: the HTTP API over the SQLite store")
struct CountyServerTests {
    @Test("legal holds, releases and video disposals upload like any event and are kept as sent")
    func retentionKinds() async throws {
        let county = try County()
        let device = TestDevice(site: "S01")
        for kind in [EventKind.video, .hold, .release, .disposal] { device.record(kind) }
        let code = try county.office.addDevice(site: "S01").code
        try await county.app.test(.router) { client in
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { r in
                #expect(r.status == .ok)
            }
            let body = device.body(1...4)
            let key = SyncWire.idempotencyKey(device: device.id, from: 1, to: 4)
            try await client.execute(
                uri: SyncWire.eventsPath(device: device.id), method: .post, headers: device.headers(key: key, body: body),
                body: ByteBuffer(bytes: body)
            ) { r in
                #expect(r.status == .ok && receipt(r.body)?.acked_seq == 4)
            }
        }
        let kinds = try county.office.db.query("SELECT kind FROM events WHERE device_id = ? ORDER BY seq", [.text(device.id)]) { $0.text(0) ?? "" }
        #expect(kinds == ["video", "hold", "release", "disposal"])
    }

    @Test("enroll once; upload stored once with a signed receipt; a retry gets the same receipt; a gap names the next sequence")
    func uploadOnce() async throws {
        let county = try County()
        let device = TestDevice(site: "S01")
        for _ in 0..<10 { device.record() }
        let code = try county.office.addDevice(site: "S01").code
        try await county.app.test(.router) { client in
            // Given an enrolled device
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { r in
                #expect(r.status == .ok)
            }
            // The code works once only (for another key)
            let other = TestDevice(site: "S01")
            try await client.execute(uri: "/v1/enroll", method: .post, body: other.enrollBody(code: code)) { r in
                #expect(r.status == .forbidden && problem(r.body)?.name == "enrollment-code")
            }
            // When it uploads 1-6
            let body = device.body(1...6)
            let key = SyncWire.idempotencyKey(device: device.id, from: 1, to: 6)
            var first: Receipt?
            try await client.execute(
                uri: SyncWire.eventsPath(device: device.id), method: .post, headers: device.headers(key: key, body: body),
                body: ByteBuffer(bytes: body)
            ) { r in
                first = receipt(r.body)
                #expect(r.status == .ok)
            }
            // Then the receipt verifies with the county root key and names the head
            let r1 = try #require(first)
            #expect(r1.verify(with: county.office.rootPublicKey) && r1.acked_seq == 6 && r1.head_hash == hexString(device.events[5].hash))
            // A retry after a lost answer: the same receipt, nothing stored twice
            try await client.execute(
                uri: SyncWire.eventsPath(device: device.id), method: .post, headers: device.headers(key: key, body: body),
                body: ByteBuffer(bytes: body)
            ) { r in #expect(receipt(r.body) == r1) }
            #expect(try county.held(device.id) == 6)
            // An overlapping batch 4-10 stores only 7-10
            let overlap = device.body(4...10)
            let k2 = SyncWire.idempotencyKey(device: device.id, from: 4, to: 10)
            try await client.execute(
                uri: SyncWire.eventsPath(device: device.id), method: .post, headers: device.headers(key: k2, body: overlap),
                body: ByteBuffer(bytes: overlap)
            ) { r in #expect(receipt(r.body)?.acked_seq == 10) }
            #expect(try county.held(device.id) == 10)
            // A batch past the end leaves a gap: 409 with the expected sequence
            device.record()
            device.record()
            let ahead = device.body(12...12)
            let k3 = SyncWire.idempotencyKey(device: device.id, from: 12, to: 12)
            try await client.execute(
                uri: SyncWire.eventsPath(device: device.id), method: .post, headers: device.headers(key: k3, body: ahead),
                body: ByteBuffer(bytes: ahead)
            ) { r in
                #expect(r.status == .conflict && problem(r.body)?.name == "gap" && problem(r.body)?.expected_seq == 11)
            }
        }
        #expect(try county.held(device.id) == 10)
        #expect(try county.office.device(device.id)?.clockOffsetMs != nil)
    }

    @Test("tampered event, unknown device, revoked device, replayed request with another body, fork, too large: refused, nothing stored")
    func refusals() async throws {
        let county = try County(maxEvents: 50)
        let device = TestDevice(site: "S01")
        for _ in 0..<5 { device.record() }
        let code = try county.office.addDevice(site: "S01").code
        try await county.app.test(.router) { client in
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { #expect($0.status == .ok) }
            let path = SyncWire.eventsPath(device: device.id)
            func send(_ headers: HTTPFields, _ body: [UInt8]) async throws -> (HTTPResponse.Status, String?) {
                try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
                    ($0.status, problem($0.body)?.name)
                }
            }
            let key = SyncWire.idempotencyKey(device: device.id, from: 1, to: 5)
            // A tampered event: its fields no longer give its hash
            var tampered = EventBatch(device: device.id, events: device.events.map(WireEvent.init))
            tampered.events[2].voucher_id = 4711
            let tamperedBody = Array(try SyncWire.encoder().encode(tampered))
            #expect(try await send(device.headers(key: key, body: tamperedBody), tamperedBody) == (.unprocessableContent, "tampered-event"))
            // A request replayed with another body: the signature no longer matches
            let good = device.body(1...5)
            let other = device.body(1...4)
            #expect(try await send(device.headers(key: key, body: good), other) == (.unauthorized, "bad-signature"))
            // An unknown device
            let s2 = TestDevice(site: "S01")
            s2.record()
            let strangerBody = s2.body(1...1)
            let status = try await client.execute(
                uri: SyncWire.eventsPath(device: s2.id), method: .post,
                headers: s2.headers(path: SyncWire.eventsPath(device: s2.id), key: SyncWire.idempotencyKey(device: s2.id, from: 1, to: 1), body: strangerBody),
                body: ByteBuffer(bytes: strangerBody)
            ) { ($0.status, problem($0.body)?.name) }
            #expect(status == (.unauthorized, "unknown-device"))
            // Too many events in one batch
            let big = TestDevice(site: "S01", key: device.key)
            for _ in 0..<60 { big.record() }
            let bigBody = big.body(1...60)
            #expect(try await send(big.headers(key: SyncWire.idempotencyKey(device: device.id, from: 1, to: 60), body: bigBody), bigBody).0 == .contentTooLarge)
            #expect(try county.held(device.id) == 0)
            // The real log 1-5 goes in; then another log claiming the same range is a fork
            #expect(try await send(device.headers(key: key, body: good), good).0 == .ok)
            let forked = TestDevice(site: "S01", key: device.key)
            for _ in 0..<5 { forked.record(.initialized) }
            let forkBody = forked.body(1...5)
            #expect(try await send(device.headers(key: key, body: forkBody), forkBody) == (.conflict, "fork"))
            // A revoked device is refused
            try county.office.revokeDevice(device.id, reason: "stolen PC")
            device.record()
            let next = device.body(6...6)
            #expect(
                try await send(device.headers(key: SyncWire.idempotencyKey(device: device.id, from: 6, to: 6), body: next), next)
                    == (.forbidden, "device-revoked"))
        }
        #expect(try county.held(device.id) == 5)
    }

    @Test("the bundle comes with an ETag and is not sent again while unchanged; another site's is refused")
    func bundle() async throws {
        let county = try County()
        let device = TestDevice(site: "S01")
        let code = try county.office.addDevice(site: "S01").code
        try await county.app.test(.router) { client in
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { #expect($0.status == .ok) }
            let path = SyncWire.bundlePath(site: "S01")
            var etag = ""
            try await client.execute(uri: path, method: .get, headers: device.headers(method: "GET", path: path, key: "", body: [])) { r in
                #expect(r.status == .ok)
                etag = r.headers[.eTag] ?? ""
                #expect((try? SignedTrustBundle(fileBytes: Array(r.body.readableBytesView))) != nil)
            }
            var h = device.headers(method: "GET", path: path, key: "", body: [])
            h[.ifNoneMatch] = etag
            try await client.execute(uri: path, method: .get, headers: h) { #expect($0.status == .notModified) }
            let otherPath = SyncWire.bundlePath(site: "S02")
            try await client.execute(uri: otherPath, method: .get, headers: device.headers(method: "GET", path: otherPath, key: "", body: [])) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test("the same voucher signed in at two sites at overlapping times is flagged")
    func twoSites() async throws {
        let county = try County()
        let a = TestDevice(site: "S01")
        let b = TestDevice(site: "S02")
        a.record(.scan, voucher: 1_000_001, direction: .signIn, at: 1_772_416_800_000)
        b.record(.scan, voucher: 1_000_001, direction: .signIn, at: 1_772_417_400_000)
        try await county.app.test(.router) { client in
            for d in [a, b] {
                let code = try county.office.addDevice(site: d.site).code
                try await client.execute(uri: "/v1/enroll", method: .post, body: d.enrollBody(code: code)) { #expect($0.status == .ok) }
                #expect(try await d.upload(client, 1...1).0 == .ok)
            }
        }
        let conflicts = try county.office.conflicts()
        #expect(conflicts.count == 1 && conflicts.first?.sites == ["S01", "S02"] && conflicts.first?.voucher_id == 1_000_001)
    }
}

@Suite("County server: overload")
struct OverloadTests {
    @Test("too many uploads at once: 503 with Retry-After, nothing stored")
    func busy() async throws {
        let county = try County(maxInFlight: 0)
        let device = TestDevice(site: "S01")
        device.record()
        let code = try county.office.addDevice(site: "S01").code
        try await county.app.test(.router) { client in
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { #expect($0.status == .ok) }
            let body = device.body(1...1)
            try await client.execute(
                uri: SyncWire.eventsPath(device: device.id), method: .post,
                headers: device.headers(key: SyncWire.idempotencyKey(device: device.id, from: 1, to: 1), body: body),
                body: ByteBuffer(bytes: body)
            ) { r in
                #expect(r.status == .serviceUnavailable && r.headers[.retryAfter] == "1" && problem(r.body)?.name == "overloaded")
            }
        }
        #expect(try county.held(device.id) == 0)
    }
}

@Suite("County server: the written API")
struct OpenAPITests {
    @Test("openapi.yaml is served and names every route and every problem type the server answers with")
    func documented() async throws {
        let county = try County()
        try await county.app.test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { r in
                #expect(r.status == .ok)
                let text = String(buffer: r.body)
                // Built into the binary, and the same as the file beside the code (Scripts/gen-openapi)
                let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/CountyServer/openapi.yaml")
                #expect(text == (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .newlines), "run Scripts/gen-openapi")
                for path in ["/v1/enroll:", "/v1/devices/{device}/events:", "/v1/sites/{site}/bundle:", "/v1/health:"] {
                    #expect(text.contains(path), "\(path)")
                }
                for problem in [
                    "unauthenticated", "unknown-device", "bad-signature", "device-revoked", "gap", "fork", "too-large",
                    "invalid-batch", "tampered-event", "overloaded", "wrong-site", "enrollment-code", "device-exists",
                    "bad-request", "invalid-request", "invalid-transfer", "internal", "incomplete-request",
                    "invalid-event", "timeout", "too-many-attempts",
                ] {
                    #expect(text.contains("`\(problem)`"), "\(problem)")
                }
            }
        }
    }
}
