import Crypto
import FieldKitCore
import FieldKitSQLite
import FoundationEssentials

/// The result of checking the log.
public struct LogVerification: Sendable, Encodable {
    /// True when the chain and every checkpoint hold.
    public var ok: Bool
    /// Events checked.
    public var events: Int64
    /// Checkpoints checked.
    public var checkpoints: Int
    /// The first broken sequence number, if any.
    public var firstBrokenSeq: Int64?
    /// What is wrong.
    public var failure: LogProblem?
    /// What is wrong, in English words.
    public var problem: String? { failure?.description }
    /// The head hash (hex) when intact.
    public var headHash: String?

    /// Builds a result.
    public init(ok: Bool, events: Int64, checkpoints: Int, firstBrokenSeq: Int64?, failure: LogProblem?, headHash: String? = nil) {
        self.ok = ok
        self.events = events
        self.checkpoints = checkpoints
        self.firstBrokenSeq = firstBrokenSeq
        self.failure = failure
        self.headHash = headHash
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ok, forKey: .ok)
        try c.encode(events, forKey: .events)
        try c.encode(checkpoints, forKey: .checkpoints)
        try c.encodeIfPresent(firstBrokenSeq, forKey: .firstBrokenSeq)
        try c.encodeIfPresent(problem, forKey: .problem)
        try c.encodeIfPresent(failure?.code, forKey: .problemCode)
        try c.encodeIfPresent(headHash, forKey: .headHash)
    }

    enum CodingKeys: String, CodingKey {
        case ok, events, checkpoints
        case firstBrokenSeq = "first_broken_seq"
        case problem
        case problemCode = "problem_code"
        case headHash = "head_hash"
    }
}

/// How the log is broken.
public enum LogProblem: Sendable, Equatable, LocalizedFailure {
    /// A sequence number is missing.
    case missing(Int64, next: Int64)
    /// Sequence numbers out of order.
    case outOfOrder(Int64)
    /// An event's previous-hash does not match the event before.
    case unlinked(Int64)
    /// An event's previous-hash is not a hash.
    case damagedLink(Int64)
    /// An event's content does not match its hash.
    case altered(Int64)
    /// A checkpoint names an event the log does not have.
    case checkpointWithoutEvent(Int64)
    /// A checkpoint's signature does not verify.
    case checkpointSignature(Int64)
    /// An event differs from what a checkpoint signed.
    case checkpointMismatch(Int64, signedAt: String)

    /// A stable machine code.
    public var code: String {
        switch self {
        case .missing: "missing"
        case .outOfOrder: "out_of_order"
        case .unlinked: "unlinked"
        case .damagedLink: "damaged_link"
        case .altered: "altered"
        case .checkpointWithoutEvent: "checkpoint_without_event"
        case .checkpointSignature: "checkpoint_signature"
        case .checkpointMismatch: "checkpoint_mismatch"
        }
    }

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .missing(let s, let n): ("log.missing", ["seq": String(s), "next": String(n)])
        case .outOfOrder(let s): ("log.out_of_order", ["seq": String(s)])
        case .unlinked(let s): ("log.unlinked", ["seq": String(s), "prev": String(s - 1)])
        case .damagedLink(let s): ("log.damaged_link", ["seq": String(s)])
        case .altered(let s): ("log.altered", ["seq": String(s)])
        case .checkpointWithoutEvent(let s): ("log.checkpoint_without_event", ["seq": String(s)])
        case .checkpointSignature(let s): ("log.checkpoint_signature", ["seq": String(s)])
        case .checkpointMismatch(let s, let t): ("log.checkpoint_mismatch", ["seq": String(s), "time": t])
        }
    }
}

extension Station {
    /// Recomputes the hash chain from the stored columns and checks every checkpoint's
    /// signature and head; names the first broken sequence number.
    public func verifyLog() throws -> LogVerification {
        try Station.verifyChain(db, deviceID: deviceID, key: deviceKey.publicKey)
    }

    /// The checkpoints the device signed, oldest first.
    public func checkpoints() throws -> [Checkpoint] { try Station.checkpoints(in: db, deviceID: deviceID) }

    static func checkpoints(in db: Database, deviceID: String) throws -> [Checkpoint] {
        try db.query("SELECT seq, head_hash, signed_ms, reason, signature FROM checkpoints ORDER BY id") {
            Checkpoint(
                deviceID: deviceID, seq: $0.int64(0), headHash: $0.blob(1), signedAt: Timestamp(milliseconds: $0.int64(2)),
                reason: $0.text(3) ?? "", signature: $0.blob(4))
        }
    }

    /// The chain and checkpoint check of ``verifyLog()`` on any site database (a backup too).
    /// A `restored` event may jump: its number is the one its ``RestoreStatement`` declares, and
    /// its previous-hash is its base event's.
    static func verifyChain(_ db: Database, deviceID: String, key: Curve25519.Signing.PublicKey) throws -> LogVerification {
        var expected: Int64 = 1
        var count: Int64 = 0
        var prev = SiteEvent.genesisHash
        var hashes: [Int64: [UInt8]] = [:]
        let checkpoints = try checkpoints(in: db, deviceID: deviceID)
        let wanted = Set(checkpoints.map(\.seq))
        var failure: (Int64, LogProblem)?
        let s = try db.prepare(
            "SELECT \(EventHash.columns.joined(separator: ", ")), hash FROM events ORDER BY seq")
        defer { s.reset() }
        let hashColumn = Int32(EventHash.columns.count)
        while try s.step() {
            let seqValue = s.canonical(0)
            var declaredJump = false
            if case .integer(let seq) = seqValue, seq > expected, s.text(3) == EventKind.restored.rawValue,
                let statement = RestoreStatement(note: s.text(10)), statement.baseSeq == expected - 1, statement.eventSeq == seq
            {
                declaredJump = true
            }
            guard case .integer(let seq) = seqValue, seq == expected || declaredJump else {
                let found = s.int64(0)
                failure = (expected, found > expected ? .missing(expected, next: found) : .outOfOrder(found))
                break
            }
            let fields = (0..<hashColumn).map { s.canonical($0) }
            if case .blob(let p) = fields.last!, p != prev {
                failure = (seq, .unlinked(seq))
                break
            } else if case .blob = fields.last! {} else {
                failure = (seq, .damagedLink(seq))
                break
            }
            let stored = s.blob(hashColumn)
            guard EventHash.compute(fields) == stored else {
                failure = (seq, .altered(seq))
                break
            }
            if wanted.contains(seq) { hashes[seq] = stored }
            prev = stored
            expected = seq + 1
            count += 1
        }
        if let (seq, problem) = failure {
            return LogVerification(ok: false, events: count, checkpoints: 0, firstBrokenSeq: seq, failure: problem)
        }
        for cp in checkpoints {
            if cp.seq > 0 && hashes[cp.seq] == nil {
                return LogVerification(
                    ok: false, events: count, checkpoints: 0, firstBrokenSeq: cp.seq,
                    failure: .checkpointWithoutEvent(cp.seq))
            }
            guard cp.verify(with: key) else {
                return LogVerification(
                    ok: false, events: count, checkpoints: 0, firstBrokenSeq: cp.seq,
                    failure: .checkpointSignature(cp.seq))
            }
            guard cp.seq == 0 || hashes[cp.seq] == cp.headHash else {
                return LogVerification(
                    ok: false, events: count, checkpoints: 0, firstBrokenSeq: cp.seq,
                    failure: .checkpointMismatch(cp.seq, signedAt: cp.signedAt.description))
            }
        }
        return LogVerification(
            ok: true, events: count, checkpoints: checkpoints.count, firstBrokenSeq: nil, failure: nil,
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
