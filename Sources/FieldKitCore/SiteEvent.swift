import Crypto
import FoundationEssentials

/// What an event in the site's log records.
public enum EventKind: String, Codable, Sendable {
    /// An accepted voucher scan: a sign-in or sign-out.
    case scan
    /// A sign-in or sign-out entered by the instructor, with a reason.
    case manual
    /// A refused scan, kept as evidence.
    case refused
    /// A sign-in still open when the session's sign-out window closed: never counted as attended.
    case openAtEnd = "open_at_end"
    /// A trust bundle was imported.
    case trustImported = "trust_imported"
    /// The log was created.
    case initialized
    /// A classroom recording was registered (its file, camera, times, size and SHA-256 in the note).
    case video
    /// A registered recording's content changed: an alarm, never an update.
    case videoChanged = "video_changed"
    /// A legal hold on a recording or a class's recordings: never purged while it stands.
    case hold
    /// A legal hold lifted.
    case release
    /// A recording deleted after its retention passed: file, SHA-256, size, reason, approver.
    case disposal
    /// The log was restored from a backup: a ``RestoreStatement`` in the note says which event
    /// it continues from and what the county held; its sequence number may jump past events the
    /// county holds that the backup lacks.
    case restored
}

/// Marks on an event that every report carries.
public enum EventFlag: String, Codable, Sendable, CaseIterable {
    /// Signed in after the late threshold.
    case late
    /// Entered by hand.
    case manual
    /// Recorded while the clock was behind the latest time seen.
    case clock
    /// A test voucher.
    case test
    /// Signed in but never out.
    case open
    /// The voucher was not on the site's roster (bundle older than the voucher).
    case unlisted
    /// Recorded while the held trust bundle had expired (in the grace period, or refused after
    /// it): revocations made since may not have reached the site.
    case staleTrust = "stale_trust"
}

/// One entry of the append-only, hash-chained attendance log.
///
/// The hash covers every stored field, so a change to any byte of an event breaks the chain
/// at that event. See the EventLog article of this target's catalog for the exact encoding.
public struct SiteEvent: Sendable, Equatable {
    /// Gapless per device, from 1.
    public var seq: Int64
    /// Random UUID, lower-case.
    public var uuid: String
    /// The recording device.
    public var deviceID: String
    /// What happened.
    public var kind: EventKind
    /// In or out, for scans, manual entries.
    public var direction: Direction?
    /// The voucher, when one was read.
    public var voucherID: UInt64?
    /// The class, when known.
    public var classID: UInt32?
    /// The local day of the session.
    public var classDay: ClassDay?
    /// The session's index in the class's windows.
    public var sessionIndex: Int?
    /// The refusal code, or the instructor's reason for a manual entry.
    public var reason: String?
    /// Words for people: the refusal's detail, the bundle's sequence.
    public var note: String?
    /// The scanned digits (a well-formed code carries no personal data), or
    /// `hmac-sha256:<hex>/<length>`, keyed by the device, of a malformed input, which might be
    /// anything the keyboard typed.
    public var code: String?
    /// Sorted, comma-separated ``EventFlag`` values.
    public var flags: String
    /// Wall-clock time, UTC.
    public var wallTime: Timestamp
    /// The site's UTC offset in seconds when recorded.
    public var utcOffset: Int
    /// The kernel's boot id, so monotonic times can be compared within one boot.
    public var bootID: String
    /// Monotonic clock in nanoseconds since boot.
    public var monotonicNanos: Int64
    /// The previous event's hash (32 zero bytes before the first).
    public var prevHash: [UInt8]
    /// This event's hash.
    public var hash: [UInt8]

    /// The hash before the first event.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// Builds an event; ``hash`` is computed from the rest.
    public init(
        seq: Int64, uuid: String, deviceID: String, kind: EventKind, direction: Direction? = nil,
        voucherID: UInt64? = nil, classID: UInt32? = nil, classDay: ClassDay? = nil, sessionIndex: Int? = nil,
        reason: String? = nil, note: String? = nil, code: String? = nil, flags: Set<EventFlag> = [],
        wallTime: Timestamp, utcOffset: Int, bootID: String, monotonicNanos: Int64, prevHash: [UInt8]
    ) {
        self.seq = seq
        self.uuid = uuid
        self.deviceID = deviceID
        self.kind = kind
        self.direction = direction
        self.voucherID = voucherID
        self.classID = classID
        self.classDay = classDay
        self.sessionIndex = sessionIndex
        self.reason = reason
        self.note = note
        self.code = code
        self.flags = flags.map(\.rawValue).sorted().joined(separator: ",")
        self.wallTime = wallTime
        self.utcOffset = utcOffset
        self.bootID = bootID
        self.monotonicNanos = monotonicNanos
        self.prevHash = prevHash
        self.hash = []
        self.hash = EventHash.compute(canonicalFields)
    }

    /// The stored columns in hashing order (their SQL names are ``EventHash/columns``).
    public var canonicalFields: [CanonicalValue] {
        [
            .integer(seq), .text(uuid), .text(deviceID), .text(kind.rawValue), .optionalText(direction?.rawValue),
            voucherID.map { .integer(Int64(bitPattern: $0)) } ?? .null,
            classID.map { .integer(Int64($0)) } ?? .null, .optionalText(classDay?.description),
            sessionIndex.map { .integer(Int64($0)) } ?? .null, .optionalText(reason), .optionalText(note),
            .optionalText(code), .text(flags), .integer(wallTime.milliseconds), .integer(Int64(utcOffset)),
            .text(bootID), .integer(monotonicNanos), .blob(prevHash),
        ]
    }

    /// Whether a flag is set.
    public func has(_ flag: EventFlag) -> Bool { flags.split(separator: ",").contains { $0 == flag.rawValue } }
}

/// A stored value as SQLite keeps it, for hashing exactly what is on disk.
public enum CanonicalValue: Sendable, Equatable {
    /// SQL NULL.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// UTF-8 text, as stored bytes.
    case textBytes([UInt8])
    /// A blob.
    case blob([UInt8])

    /// Text from a Swift string.
    public static func text(_ s: String) -> CanonicalValue { .textBytes(Array(s.utf8)) }
    /// Text or NULL.
    public static func optionalText(_ s: String?) -> CanonicalValue { s.map { .text($0) } ?? .null }
}

/// The event hash: SHA-256 over `FKEV1\0` and each field tagged and length-prefixed.
public enum EventHash {
    /// Prefix of the hashed bytes.
    public static let domain: [UInt8] = Array("FKEV1".utf8) + [0]

    /// The SQL columns of `events` in hashing order.
    public static let columns = [
        "seq", "uuid", "device_id", "kind", "direction", "voucher_id", "class_id", "class_day", "session_index",
        "reason", "note", "code", "flags", "wall_ms", "utc_offset", "boot_id", "mono_ns", "prev_hash",
    ]

    /// Hashes fields: NULL → `00`; integer → `01` + 8 bytes big-endian; text → `02` + 4-byte
    /// big-endian length + bytes; blob → `03` + 4-byte length + bytes.
    public static func compute(_ fields: [CanonicalValue]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: domain)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(512)
        for f in fields {
            switch f {
            case .null:
                buffer.append(0)
            case .integer(let v):
                buffer.append(1)
                buffer.appendBigEndian(UInt64(bitPattern: v), bytes: 8)
            case .textBytes(let b):
                buffer.append(2)
                buffer.appendBigEndian(UInt64(b.count), bytes: 4)
                buffer.append(contentsOf: b)
            case .blob(let b):
                buffer.append(3)
                buffer.appendBigEndian(UInt64(b.count), bytes: 4)
                buffer.append(contentsOf: b)
            }
        }
        hasher.update(data: buffer)
        return Array(hasher.finalize())
    }
}

/// A device's signed statement that its log reached a sequence number with a given head hash.
public struct Checkpoint: Sendable, Equatable {
    /// Prefix of the signed message.
    public static let signingDomain: [UInt8] = Array("FKCP1".utf8) + [0]

    /// The signing device.
    public var deviceID: String
    /// The last event covered.
    public var seq: Int64
    /// That event's hash.
    public var headHash: [UInt8]
    /// When it was signed.
    public var signedAt: Timestamp
    /// Why (session end, on request, ...).
    public var reason: String
    /// Ed25519 by the device key over ``message``.
    public var signature: [UInt8]

    /// Builds a checkpoint from its parts.
    public init(
        deviceID: String, seq: Int64, headHash: [UInt8], signedAt: Timestamp, reason: String, signature: [UInt8]
    ) {
        self.deviceID = deviceID
        self.seq = seq
        self.headHash = headHash
        self.signedAt = signedAt
        self.reason = reason
        self.signature = signature
    }

    /// Signs a checkpoint.
    public init(
        signing deviceID: String, seq: Int64, headHash: [UInt8], at time: Timestamp, reason: String,
        key: Curve25519.Signing.PrivateKey
    ) throws {
        self.init(deviceID: deviceID, seq: seq, headHash: headHash, signedAt: time, reason: reason, signature: [])
        self.signature = Array(try key.signature(for: message))
    }

    /// `FKCP1\0`, device id (4-byte length + UTF-8), seq (8 bytes), head hash (32), signed-at ms (8), reason (4 + UTF-8).
    public var message: [UInt8] {
        var m = Checkpoint.signingDomain
        m.appendBigEndian(UInt64(deviceID.utf8.count), bytes: 4)
        m.append(contentsOf: deviceID.utf8)
        m.appendBigEndian(UInt64(bitPattern: seq), bytes: 8)
        m.append(contentsOf: headHash)
        m.appendBigEndian(UInt64(bitPattern: signedAt.milliseconds), bytes: 8)
        m.appendBigEndian(UInt64(reason.utf8.count), bytes: 4)
        m.append(contentsOf: reason.utf8)
        return m
    }

    /// Whether the signature verifies.
    public func verify(with key: Curve25519.Signing.PublicKey) -> Bool {
        key.isValidSignature(signature, for: message)
    }
}
