import FieldKitCore

/// Where the county's device records live, seen from its rules: the seam between CountyKit,
/// which decides, and a storage backend, which only keeps.
///
/// CountyKit decides everything about an enrollment and an upload
/// (``CountyOffice/enroll(_:in:logger:)``, ``CountyOffice/ingest(_:idempotencyKey:bodySHA256:deviceMs:in:verified:logger:)``):
/// which code enrolls which device; a retried upload's stored receipt (the same idempotency key
/// *and* the same body bytes; a key reused with other bytes is judged afresh); gaps, forks and
/// tampered events; a restored device's statement; the audit that holds events apart; a voucher
/// signed in at two sites at once; and the signed receipt. It throws ``SyncRefusal`` for a
/// refusal. A backend implements only what is below: reads, and the writes that follow them.
///
/// The contract a backend must keep:
/// - ``atomically(_:)`` runs a rule's reads and writes as one unit: all its writes commit or
///   none, and no other writer changes what it read about the device, the voucher days it
///   touches or the enrollment code before it commits. SQLite (``CountyOffice`` itself): one
///   `BEGIN IMMEDIATE` transaction, one writer per file across processes. A server database:
///   one transaction on one connection that first locks the device's row (and the code's, for
///   an enrollment), with `UNIQUE(device_id, seq)` as the last guard against a second copy.
/// - Writes store exactly the values given: ``LedgerAppend/events`` carry the event JSON that
///   is kept byte for byte, and the receipt is returned later exactly as stored, so every
///   backend answers a retry with the same receipt.
/// - The ledger is synchronous and may block: a backend runs it on its own threads, never on
///   Swift's cooperative pool. CountyServer's async `CountyStore` wraps it for the server and the
///   USB import.
public protocol CountyLedger: AuditFacts {
    /// Runs `body` as one atomic, isolated unit (see the contract above).
    func atomically<T>(_ body: () throws -> T) throws -> T

    /// A device, or nil.
    func device(_ id: String) throws -> DeviceRecord?
    /// The id of the device enrolled with this public key (base64), or nil.
    func deviceID(withKey publicKey: String) throws -> String?
    /// The enrollment code stored under this hash (``CountyOffice/codeHash(_:)``), or nil.
    func enrollmentCode(hash: String) throws -> StoredEnrollmentCode?
    /// Enrolls a device with a code: adds the device (active) and marks the code used by it.
    func enroll(_ enrollment: LedgerEnrollment) throws

    /// The upload stored for a device under an idempotency key, or nil.
    func upload(device: String, idempotencyKey: String) throws -> StoredUpload?
    /// The hashes of a device's events held in a range of sequence numbers, by number.
    func eventHashes(device: String, seqs: ClosedRange<Int64>) throws -> [Int64: [UInt8]]
    /// Stores a judged batch: its new events, a restore statement, the device's new head, the
    /// clock reading and the upload with its receipt (replacing one stored under the same key).
    func append(_ append: LedgerAppend) throws

    /// Every sign-in and sign-out of a voucher on a class day, at any site, by time then number.
    func signings(voucher: UInt64, day: String) throws -> [Signing]
    /// Records that a voucher was signed in at two sites at overlapping times (once per pair).
    func recordConflict(_ conflict: SiteConflict) throws
}

/// An enrollment code as stored.
public struct StoredEnrollmentCode: Sendable, Equatable {
    /// The site it enrolls a device for.
    public var site: String
    /// After this (UTC ms) it is refused.
    public var expiresMs: Int64
    /// When it was used, or nil.
    public var usedMs: Int64?
    /// The device it enrolled, or nil.
    public var usedBy: String?
    /// Where that device stands, or nil (unknown).
    public var location: String?

    /// A stored code.
    public init(site: String, expiresMs: Int64, usedMs: Int64?, usedBy: String?, location: String?) {
        self.site = site
        self.expiresMs = expiresMs
        self.usedMs = usedMs
        self.usedBy = usedBy
        self.location = location
    }
}

/// A device to add with the code that enrolls it.
public struct LedgerEnrollment: Sendable, Equatable {
    /// The device id.
    public var device: String
    /// Its site.
    public var site: String
    /// Its Ed25519 public key, base64.
    public var publicKey: String
    /// Where it stands (from the code), or nil.
    public var location: String?
    /// The code's hash.
    public var codeHash: String
    /// The county's clock (UTC ms).
    public var nowMs: Int64
}

/// An upload as stored: the body's digest and the receipt it got.
public struct StoredUpload: Sendable, Equatable {
    /// SHA-256 of the request body, lower-case hex.
    public var bodySHA256: String
    /// The receipt answered, or nil when what is stored cannot be read back.
    public var receipt: Receipt?

    /// A stored upload.
    public init(bodySHA256: String, receipt: Receipt?) {
        self.bodySHA256 = bodySHA256
        self.receipt = receipt
    }
}

/// An event the county judged and keeps.
public struct LedgerEvent: Sendable {
    /// The event as sent.
    public var event: WireEvent
    /// Its hash (checked).
    public var hash: [UInt8]
    /// The event's JSON, kept byte for byte.
    public var body: [UInt8]
    /// Why it is held apart; empty when it may be counted.
    public var quarantine: [QuarantineReason]
}

/// A restored device's statement, accepted: where its chain goes on from.
public struct LedgerRestoration: Sendable, Equatable {
    /// The `restored` event's number.
    public var seq: Int64
    /// The backup's last event.
    public var baseSeq: Int64
    /// What the county held when the device asked.
    public var countySeq: Int64
    /// The event's time (device clock).
    public var wallMs: Int64
}

/// What one accepted upload writes, all at once.
public struct LedgerAppend: Sendable {
    /// The device.
    public var device: String
    /// Its site (stored with each event).
    public var site: String
    /// The events after those held, in order (may be empty: a batch of events already held).
    public var events: [LedgerEvent]
    /// A restore statement among them, when accepted.
    public var restoration: LedgerRestoration?
    /// The device's new head.
    public var headSeq: Int64
    /// The hash of event ``headSeq``.
    public var headHash: [UInt8]
    /// The county's clock when the batch arrived (UTC ms).
    public var receivedMs: Int64
    /// The device's clock as the request stated it.
    public var deviceMs: Int64
    /// The receipt answered.
    public var receipt: Receipt
    /// The request's idempotency key.
    public var idempotencyKey: String
    /// SHA-256 of the request body, lower-case hex.
    public var bodySHA256: String
}

/// A sign-in or sign-out of a voucher, at a site.
public struct Signing: Sendable, Equatable {
    /// The site of the device that recorded it.
    public var site: String
    /// `in` or `out`.
    public var direction: String
    /// When (device clock, UTC ms).
    public var wallMs: Int64

    /// A signing.
    public init(site: String, direction: String, wallMs: Int64) {
        self.site = site
        self.direction = direction
        self.wallMs = wallMs
    }
}

/// A voucher signed in at two sites at overlapping times on one day.
public struct SiteConflict: Sendable, Equatable {
    /// The voucher.
    public var voucher: UInt64
    /// The class day.
    public var day: String
    /// The two sites, in order.
    public var siteA: String, siteB: String
    /// When the county saw it (UTC ms).
    public var detectedMs: Int64
    /// What was seen, in words.
    public var detail: String
}
