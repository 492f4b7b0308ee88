import Crypto
import FieldKitCore
import FoundationEssentials

/// The result of checking the log.
public struct LogVerification: Sendable, Encodable, Equatable {
    /// True when the chain and every checkpoint hold.
    public var ok: Bool
    /// Events checked.
    public var events: Int64
    /// Checkpoints checked.
    public var checkpoints: Int
    /// The first broken sequence number, if any.
    public var firstBrokenSeq: Int64?
    /// What is wrong, in words.
    public var problem: String?
    /// The head hash (hex) when intact.
    public var headHash: String?

    enum CodingKeys: String, CodingKey {
        case ok, events, checkpoints
        case firstBrokenSeq = "first_broken_seq"
        case problem
        case headHash = "head_hash"
    }
}

extension Station {
    /// Recomputes the hash chain from the stored columns and checks every checkpoint's
    /// signature and head; names the first broken sequence number.
    public func verifyLog() throws -> LogVerification {
        var expected: Int64 = 1
        var prev = SiteEvent.genesisHash
        var hashes: [Int64: [UInt8]] = [:]
        let checkpoints = try db.query("SELECT seq, head_hash, signed_ms, reason, signature FROM checkpoints ORDER BY id") {
            Checkpoint(
                deviceID: deviceID, seq: $0.int64(0), headHash: $0.blob(1), signedAt: Timestamp(milliseconds: $0.int64(2)),
                reason: $0.text(3) ?? "", signature: $0.blob(4))
        }
        let wanted = Set(checkpoints.map(\.seq))
        var failure: (Int64, String)?
        let s = try db.prepare(
            "SELECT \(EventHash.columns.joined(separator: ", ")), hash FROM events ORDER BY seq")
        defer { s.reset() }
        let hashColumn = Int32(EventHash.columns.count)
        while try s.step() {
            let seqValue = s.canonical(0)
            guard case .integer(let seq) = seqValue, seq == expected else {
                let found = s.int64(0)
                failure = (expected, found > expected ? "sequence \(expected) is missing (next is \(found))" : "sequence \(found) is out of order")
                break
            }
            let fields = (0..<hashColumn).map { s.canonical($0) }
            if case .blob(let p) = fields.last!, p != prev {
                failure = (seq, "event \(seq) does not link to event \(seq - 1) (its previous-hash was changed)")
                break
            } else if case .blob = fields.last! {} else {
                failure = (seq, "event \(seq) has a damaged previous-hash field")
                break
            }
            let stored = s.blob(hashColumn)
            guard EventHash.compute(fields) == stored else {
                failure = (seq, "event \(seq) was altered: its content does not match its hash")
                break
            }
            if wanted.contains(seq) { hashes[seq] = stored }
            prev = stored
            expected += 1
        }
        let count = expected - 1
        if let (seq, problem) = failure {
            return LogVerification(ok: false, events: count, checkpoints: 0, firstBrokenSeq: seq, problem: problem, headHash: nil)
        }
        for cp in checkpoints {
            if cp.seq > 0 && hashes[cp.seq] == nil {
                return LogVerification(
                    ok: false, events: count, checkpoints: 0, firstBrokenSeq: cp.seq,
                    problem: "checkpoint at sequence \(cp.seq) names an event the log does not have", headHash: nil)
            }
            guard cp.verify(with: deviceKey.publicKey) else {
                return LogVerification(
                    ok: false, events: count, checkpoints: 0, firstBrokenSeq: cp.seq,
                    problem: "checkpoint at sequence \(cp.seq) has a signature that does not verify with this device's key",
                    headHash: nil)
            }
            guard cp.seq == 0 || hashes[cp.seq] == cp.headHash else {
                return LogVerification(
                    ok: false, events: count, checkpoints: 0, firstBrokenSeq: cp.seq,
                    problem: "event \(cp.seq) differs from what checkpoint signed at \(cp.signedAt) recorded", headHash: nil)
            }
        }
        return LogVerification(
            ok: true, events: count, checkpoints: checkpoints.count, firstBrokenSeq: nil, problem: nil,
            headHash: hexString(prev))
    }

    /// Every event in order.
    public func events(after seq: Int64 = 0, limit: Int = .max) throws -> [SiteEvent] {
        try db.query(
            "SELECT \(EventHash.columns.joined(separator: ", ")), hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            [.integer(seq), .integer(Int64(limit))]
        ) { s in
            var e = SiteEvent(
                seq: s.int64(0), uuid: s.text(1) ?? "", deviceID: s.text(2) ?? "",
                kind: EventKind(rawValue: s.text(3) ?? "") ?? .refused, direction: s.text(4).flatMap(Direction.init),
                voucherID: s.optionalInt64(5).map { UInt64(bitPattern: $0) },
                classID: s.optionalInt64(6).map { UInt32(truncatingIfNeeded: $0) },
                classDay: s.text(7).flatMap { ClassDay(iso: $0) }, sessionIndex: s.optionalInt64(8).map { Int($0) },
                reason: s.text(9), note: s.text(10), code: s.text(11), flags: [],
                wallTime: Timestamp(milliseconds: s.int64(13)), utcOffset: Int(s.int64(14)), bootID: s.text(15) ?? "",
                monotonicNanos: s.int64(16), prevHash: s.blob(17))
            e.flags = s.text(12) ?? ""
            e.hash = s.blob(18)
            return e
        }
    }
}
