import Crypto
import FieldKitCore
import FoundationEssentials
import Testing

@Suite("Sync wire format")
struct SyncWireTests {
    static let events: [SiteEvent] = {
        var prev = SiteEvent.genesisHash
        var out: [SiteEvent] = []
        let notes: [String?] = [nil, "plain", "引号\"和\\反斜杠", "line\nbreak\ttab\u{1}ctl", "a/b 🙂"]
        for (i, note) in notes.enumerated() {
            let e = SiteEvent(
                seq: Int64(i + 1), uuid: "0190-\(i)", deviceID: "S01-00aa", kind: i % 2 == 0 ? .scan : .refused,
                direction: i % 2 == 0 ? .signIn : nil, voucherID: i % 2 == 0 ? 1_000_000 + UInt64(i) : nil,
                classID: i % 2 == 0 ? 12 : nil, classDay: i % 2 == 0 ? ClassDay(iso: "2026-03-02") : nil,
                sessionIndex: i % 2 == 0 ? 0 : nil, reason: i == 3 ? "手机没电 \"phone\"" : nil, note: note,
                code: i == 1 ? "hmac-sha256:ab/3" : nil, flags: i == 2 ? [.late, .manual] : [],
                wallTime: Timestamp(milliseconds: 1_772_000_000_000 + Int64(i)), utcOffset: 28_800, bootID: "boot",
                monotonicNanos: -5 + Int64(i), prevHash: prev)
            prev = e.hash
            out.append(e)
        }
        return out
    }()

    @Test("the direct JSON writer gives exactly the bytes of the general encoder")
    func sameBytes() throws {
        let batch = EventBatch(device: "S01-00aa", events: SyncWireTests.events.map(WireEvent.init))
        #expect(batch.jsonBytes() == Array(try SyncWire.encoder().encode(batch)))
        let back = try JSONDecoder().decode(EventBatch.self, from: Data(batch.jsonBytes()))
        #expect(back == batch && back.events.allSatisfy(\.hashMatches))
    }

    @Test("a receipt verifies with the county key only, and not once a byte changed")
    func receipt() throws {
        let county = Curve25519.Signing.PrivateKey()
        var r = try Receipt(device: "S01-00aa", ackedSeq: 5, headHash: SyncWireTests.events[4].hash, serverMs: 10, deviceMs: 7, key: county)
        #expect(r.verify(with: county.publicKey))
        #expect(!r.verify(with: Curve25519.Signing.PrivateKey().publicKey))
        r.acked_seq = 6
        #expect(!r.verify(with: county.publicKey))
    }
}
