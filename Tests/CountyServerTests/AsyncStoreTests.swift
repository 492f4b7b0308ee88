import CountyKit
import CountyServer
import Crypto
import FieldKitCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

extension TestDevice {
    /// Enrolls straight through the store, as the server would after checking the signature.
    func enroll(_ county: County) async throws {
        let code = try county.office.addDevice(site: site).code
        let pub = Base64.encode(key.publicKey.rawRepresentation)
        let sig = try key.signature(for: SyncWire.enrollMessage(code: code, site: site, device: id, publicKey: pub))
        _ = try await county.store.enroll(EnrollRequest(code: code, site: site, device: id, public_key: pub, signature: Base64.encode(sig)))
    }

    /// Events `range` as a batch, with its body's digest.
    func batch(_ range: ClosedRange<Int64>) -> (EventBatch, key: String, sha: String) {
        let body = body(range)
        return (
            try! JSONDecoder().decode(EventBatch.self, from: Data(body)),
            SyncWire.idempotencyKey(device: id, from: range.lowerBound, to: range.upperBound),
            hexString(SHA256.hash(data: body))
        )
    }
}

@Suite("The county store as an async repository: one writer, domain errors, the same answers")
struct AsyncStoreTests {
    @Test("the same batch ingested by 16 tasks at once: stored once, every task gets the same receipt")
    func concurrentSameBatch() async throws {
        let county = try County()
        let device = TestDevice(site: "S01")
        for _ in 0..<20 { device.record() }
        try await device.enroll(county)
        let (batch, key, sha) = device.batch(1...20)
        let store = county.store
        let receipts = try await withThrowingTaskGroup(of: Receipt.self) { group in
            for i in 0..<16 {
                group.addTask { try await store.ingest(batch, idempotencyKey: key, bodySHA256: sha, deviceMs: 1_772_000_000_000 + Int64(i)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(receipts.count == 16)
        #expect(Set(receipts.map(\.signature)).count == 1, "one receipt, stored and answered again")
        #expect(receipts.allSatisfy { $0 == receipts[0] && $0.acked_seq == 20 && $0.verify(with: county.office.rootPublicKey) })
        #expect(try county.held(device.id) == 20)
        #expect(try county.office.eventTally() == EventTally(events: 20, distinct: 20, heldApart: 0))
    }

    @Test("overlapping batches of one device and batches of others, all at once: every event held once, each receipt right")
    func concurrentOverlaps() async throws {
        let county = try County()
        let devices = (0..<4).map { _ in TestDevice(site: "S01") }
        for d in devices {
            for _ in 0..<30 { d.record() }
            try await d.enroll(county)
        }
        let store = county.store
        let ranges: [ClosedRange<Int64>] = [1...10, 1...30, 5...20, 1...1]
        let results = try await withThrowingTaskGroup(of: (Int64, Result<Receipt, SyncRefusal>).self) { group in
            for d in devices {
                for r in ranges {
                    let (batch, key, sha) = d.batch(r)
                    group.addTask {
                        do {
                            return (r.upperBound, .success(try await store.ingest(batch, idempotencyKey: key, bodySHA256: sha, deviceMs: 0)))
                        } catch let refusal as SyncRefusal {
                            return (r.upperBound, .failure(refusal))
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // A batch past what is held is a gap (it depends on the order); everything else is stored.
        for (to, result) in results {
            switch result {
            case .success(let receipt): #expect(receipt.acked_seq >= to)
            case .failure(let refusal):
                guard case .gap = refusal else {
                    Issue.record("unexpected \(refusal)")
                    continue
                }
            }
        }
        // Then the whole of each log goes through once more: all held, once each.
        for d in devices {
            let (batch, key, sha) = d.batch(1...30)
            #expect(try await store.ingest(batch, idempotencyKey: key, bodySHA256: sha, deviceMs: 0).acked_seq == 30)
            #expect(try county.held(d.id) == 30)
        }
        #expect(try county.office.eventTally() == EventTally(events: 120, distinct: 120, heldApart: 0))
    }

    @Test("the store throws the county's refusals, not HTTP problems; nothing stored")
    func domainErrors() async throws {
        let county = try County()
        let device = TestDevice(site: "S01")
        for _ in 0..<3 { device.record() }
        let stranger = TestDevice(site: "S01")
        stranger.record()
        let (strangerBatch, strangerKey, strangerSHA) = stranger.batch(1...1)
        await #expect(throws: SyncRefusal.unknownDevice(stranger.id)) {
            try await county.store.ingest(strangerBatch, idempotencyKey: strangerKey, bodySHA256: strangerSHA, deviceMs: 0)
        }
        try await device.enroll(county)
        let (ahead, aheadKey, aheadSHA) = device.batch(3...3)
        await #expect(throws: SyncRefusal.gap(device: device.id, held: 0)) {
            try await county.store.ingest(ahead, idempotencyKey: aheadKey, bodySHA256: aheadSHA, deviceMs: 0)
        }
        var (tampered, key, _) = device.batch(1...3)
        tampered.events[1].wall_ms += 1
        await #expect(throws: SyncRefusal.tamperedEvent(device: device.id, seq: 2)) {
            try await county.store.ingest(tampered, idempotencyKey: key, bodySHA256: "00", deviceMs: 0)
        }
        #expect(try county.held(device.id) == 0)
        let code = try county.office.addDevice(site: "S02").code
        await #expect(throws: SyncRefusal.enrollmentCode) {
            try await county.store.enroll(EnrollRequest(code: code, site: "S01", device: "S01-x", public_key: "k", signature: "s"))
        }
    }

    /// The problem+json bodies the server answered before the store became async, word for word.
    static func expected(_ name: String, _ status: Int, _ title: String, _ detail: String, expectedSeq: Int64? = nil) -> String {
        var fields = [
            "\"detail\":\"\(detail)\"", "\"status\":\(status)", "\"title\":\"\(title)\"",
            "\"type\":\"https://fieldkit.example/problems/\(name)\"",
        ]
        if let expectedSeq { fields.insert("\"expected_seq\":\(expectedSeq)", at: 1) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    @Test("each refusal reaches the device as the same problem+json as before: status, type, title, detail")
    func problemsUnchanged() async throws {
        let county = try County()
        let device = TestDevice(site: "S01")
        for _ in 0..<3 { device.record() }
        let code = try county.office.addDevice(site: "S01").code
        try await county.app.test(.router) { client in
            func post(_ path: String, _ headers: HTTPFields, _ body: [UInt8]) async throws -> (Int, String, String?) {
                try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
                    ($0.status.code, String(decoding: $0.body.readableBytesView, as: UTF8.self), $0.headers[.contentType])
                }
            }
            func upload(_ range: ClosedRange<Int64>, body: [UInt8]? = nil) async throws -> (Int, String, String?) {
                let body = body ?? device.body(range)
                let key = SyncWire.idempotencyKey(device: device.id, from: range.lowerBound, to: range.upperBound)
                return try await post(SyncWire.eventsPath(device: device.id), device.headers(key: key, body: body), body)
            }
            // An unknown code, before the device is enrolled.
            let other = TestDevice(site: "S01")
            let refused = try await post("/v1/enroll", [:], Array(other.enrollBody(code: "0000-0000-0000").readableBytesView))
            #expect(refused == (403, Self.expected(
                "enrollment-code", 403, "The enrollment code cannot be used",
                "the code is unknown, used, expired or for another site; check it, or ask the county for a new one"),
                "application/problem+json"))
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { #expect($0.status == .ok) }
            // A gap.
            #expect(try await upload(3...3) == (409, Self.expected(
                "gap", 409, "Events are missing before this batch", "the county holds \(device.id) up to 0; send from 1", expectedSeq: 1),
                "application/problem+json"))
            // A tampered event.
            var tampered = EventBatch(device: device.id, events: device.events.map(WireEvent.init))
            tampered.events[1].wall_ms += 1
            #expect(try await upload(1...3, body: Array(try SyncWire.encoder().encode(tampered))) == (422, Self.expected(
                "tampered-event", 422, "An event does not match its hash",
                "event 2 of \(device.id) was altered on the way or on the device"), "application/problem+json"))
            // Held 1-3; then the device sends another event 3 under the same idempotency key:
            // other bytes are judged afresh, and the event contradicts the one held.
            #expect(try await upload(1...3).0 == 200)
            device.events.removeLast()
            device.record(at: 1_772_000_500_000)
            #expect(try await upload(1...3) == (409, Self.expected(
                "fork", 409, "The device's log contradicts what the county holds",
                "event 3 of \(device.id) differs from the one the county holds"), "application/problem+json"))
            // A device cut off asks to enroll again with its code.
            try county.office.revokeDevice(device.id, reason: "stolen")
            let again = try await post("/v1/enroll", [:], Array(device.enrollBody(code: code).readableBytesView))
            #expect(again == (409, Self.expected(
                "device-exists", 409, "This device id is enrolled already",
                "device \(device.id) is enrolled with another key or was cut off"), "application/problem+json"))
        }
        #expect(try county.held(device.id) == 3)
    }
}
