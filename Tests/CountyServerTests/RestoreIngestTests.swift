import CountyKit
import CountyServer
import Crypto
import FieldKitCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("County server: a device restored from a backup")
struct RestoreIngestTests {
    /// An event after `prev` at a chosen number (what a restored station writes, or a forger).
    func event(_ device: TestDevice, seq: Int64, kind: EventKind, note: String?, prev: [UInt8]) -> SiteEvent {
        SiteEvent(
            seq: seq, uuid: uuidV7(milliseconds: 1_772_000_100_000 + seq), deviceID: device.id, kind: kind,
            reason: kind == .refused ? "unreadable" : nil, note: note, wallTime: Timestamp(milliseconds: 1_772_000_100_000),
            utcOffset: 28_800, bootID: "b2", monotonicNanos: seq, prevHash: prev)
    }

    @Test("the high-water is a signed receipt; a restored event after it is a declared branch point; without the statement it is a fork")
    func restoredBranch() async throws {
        let county = try County()
        let device = TestDevice(site: "S01")
        for _ in 0..<5 { device.record() }
        let code = try county.office.addDevice(site: "S01").code
        try await county.app.test(.router) { client in
            try await client.execute(uri: "/v1/enroll", method: .post, body: device.enrollBody(code: code)) { #expect($0.status == .ok) }
            let path = SyncWire.eventsPath(device: device.id)
            func send(_ events: [SiteEvent]) async throws -> (HTTPResponse.Status, String?) {
                let body = Array(try SyncWire.encoder().encode(EventBatch(device: device.id, events: events.map(WireEvent.init))))
                let key = SyncWire.idempotencyKey(device: device.id, from: events.first!.seq, to: events.last!.seq)
                return try await client.execute(uri: path, method: .post, headers: device.headers(key: key, body: body), body: ByteBuffer(bytes: body)) {
                    ($0.status, problem($0.body)?.name)
                }
            }
            #expect(try await send(device.events).0 == .ok)

            // The high-water: a device-signed GET, answered with a receipt the root key signed
            let hwPath = SyncWire.highWaterPath(device: device.id)
            let answer = try await client.execute(
                uri: hwPath, method: .get, headers: device.headers(method: "GET", path: hwPath, key: "", body: [])
            ) { receipt($0.body) }
            let hw = try #require(answer)
            #expect(hw.acked_seq == 5 && hw.head_hash == hexString(device.events[4].hash))
            #expect(hw.verify(with: county.office.rootPublicKey))
            // Unsigned: refused
            let unsigned = try await client.execute(uri: hwPath, method: .get) { $0.status }
            #expect(unsigned == .unauthorized)

            // The backup held 1…3; the county holds 1…5
            let base = device.events[2]
            // A different event 6 chained to event 3 with no statement: a fork
            #expect(try await send([event(device, seq: 6, kind: .refused, note: nil, prev: base.hash)]) == (.conflict, "fork"))
            // A statement that misstates what the county held: a fork
            let wrong = RestoreStatement(baseSeq: 3, baseHash: base.hash, countySeq: 4).note
            #expect(try await send([event(device, seq: 6, kind: .restored, note: wrong, prev: base.hash)]) == (.conflict, "fork"))
            // A statement whose base is not the county's event 3: a fork
            let forged = RestoreStatement(baseSeq: 3, baseHash: [UInt8](repeating: 9, count: 32), countySeq: 5).note
            #expect(try await send([event(device, seq: 6, kind: .restored, note: forged, prev: [UInt8](repeating: 9, count: 32))]) == (.conflict, "fork"))
            #expect(try county.held(device.id) == 5 && county.office.restorations().isEmpty)

            // The restored event as a station writes it: stored, and the statement kept
            let statement = RestoreStatement(baseSeq: 3, baseHash: base.hash, countySeq: 5)
            let restored = event(device, seq: 6, kind: .restored, note: statement.note, prev: base.hash)
            let next = event(device, seq: 7, kind: .refused, note: nil, prev: restored.hash)
            #expect(try await send([restored, next]).0 == .ok)
            #expect(try county.held(device.id) == 7)
            let kept = try county.office.restorations(device: device.id)
            #expect(kept == [Restoration(device: device.id, seq: 6, base_seq: 3, county_seq: 5, time: restored.wallTime)])
            #expect(kept[0].hasGap)
        }
    }
}
