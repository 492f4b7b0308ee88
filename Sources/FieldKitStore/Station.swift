import Crypto
import FieldKitCore
import FoundationEssentials
import Logging

/// The classroom station: one site's attendance log, trust, and device key in a home folder.
///
/// Every change is one SQLite transaction in WAL mode with `synchronous=FULL`: when a method
/// returns, what it reports is on disk.
public final class Station {
    /// The home folder.
    public let home: String
    /// The database.
    public let db: Database
    /// The time source.
    public let clock: any StationClock
    /// This site.
    public let siteID: String
    /// This device, `SITE-<kid>`.
    public let deviceID: String
    /// The pinned county root key.
    public let rootKey: Curve25519.Signing.PublicKey
    /// The site's UTC offset in seconds.
    public let utcOffset: Int
    let deviceKey: Curve25519.Signing.PrivateKey
    let logger: Logger
    var classCache: [UInt32: ClassInfo] = [:]
    var classCacheSequence: Int64 = -1

    /// Files in the home folder.
    public enum Layout {
        /// The database.
        public static let database = "fieldkit.db"
        /// The device's private key (mode 0600).
        public static let deviceKey = "device.key"
        /// The device's public key.
        public static let devicePublicKey = "device.pub"
        /// A copy of the pinned county root key.
        public static let countyRoot = "county-root.pub"
    }

    /// How far behind the latest time seen the clock may be before events are flagged.
    public static let clockTolerance = 2 * 60_000

    /// Opens an initialised station.
    /// - Throws: ``StationError/notInitialized(_:)`` when the home holds none.
    public init(home: String, clock: any StationClock = SystemClock(), logger: Logger = Logger(label: "fieldkit", factory: { _ in SwiftLogNoOpLogHandler() }))
        throws
    {
        let dbPath = home + "/" + Layout.database
        guard Files.exists(dbPath) else { throw StationError.notInitialized(home) }
        let db = try Database(path: dbPath)
        try db.migrate(SiteSchema.migrations)
        db.deferCheckpoints()
        func setting(_ key: String) throws -> String? {
            try db.first("SELECT value FROM settings WHERE key = ?", [.text(key)]) { $0.text(0) } ?? nil
        }
        guard let site = try setting("site_id"), let device = try setting("device_id"),
            let rootText = try setting("root_public_key"), let rootRaw = Base64.decode(rootText),
            let root = try? Curve25519.Signing.PublicKey(rawRepresentation: rootRaw)
        else { throw StationError.notInitialized(home) }
        let keyBytes: [UInt8]
        do { keyBytes = try Files.read(home + "/" + Layout.deviceKey) } catch {
            throw StationError.badDeviceKey("\(error)")
        }
        guard let raw = Base64.decode(String(decoding: keyBytes, as: UTF8.self)),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw StationError.badDeviceKey("\(home)/\(Layout.deviceKey) is not an Ed25519 key") }
        self.home = home
        self.db = db
        self.clock = clock
        self.siteID = site
        self.deviceID = device
        self.rootKey = root
        self.deviceKey = key
        self.utcOffset = Int(try setting("utc_offset") ?? "") ?? UTCOffset.china
        self.logger = logger
    }

    /// Creates a station: the database, the device key (mode 0600), the pinned root key.
    /// - Parameters:
    ///   - rootKeyFile: the county's `root.pub` contents (base64 of the raw 32-byte key).
    /// - Throws: ``StationError`` when the home is taken or the key is bad.
    @discardableResult
    public static func initialize(
        home: String, siteID: String, rootKeyFile: [UInt8], clock: any StationClock = SystemClock(),
        logger: Logger = Logger(label: "fieldkit", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> Station {
        guard DeviceID.isValidSite(siteID) else { throw StationError.badSiteID(siteID) }
        let rootText = String(decoding: rootKeyFile, as: UTF8.self).trimmingWhitespace()
        guard let rootRaw = Base64.decode(rootText), rootRaw.count == 32,
            (try? Curve25519.Signing.PublicKey(rawRepresentation: rootRaw)) != nil
        else { throw StationError.badRootKey("it is not base64 of a 32-byte Ed25519 public key") }
        let dbPath = home + "/" + Layout.database
        if Files.exists(dbPath), let existing = try? Station(home: home, clock: clock, logger: logger) {
            throw StationError.alreadyInitialized(home, site: existing.siteID)
        }
        try Files.makeDirectory(home)
        let keyPath = home + "/" + Layout.deviceKey
        let key: Curve25519.Signing.PrivateKey
        if Files.exists(keyPath), let raw = Base64.decode(String(decoding: try Files.read(keyPath), as: UTF8.self)),
            let existing = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        {
            key = existing  // a previous init was cut off after writing the key
        } else {
            key = Curve25519.Signing.PrivateKey()
            try Files.createPrivate(Array((Base64.encode(key.rawRepresentation) + "\n").utf8), at: keyPath)
        }
        try Files.writeAtomically(
            Array((Base64.encode(key.publicKey.rawRepresentation) + "\n").utf8), to: home + "/" + Layout.devicePublicKey)
        try Files.writeAtomically(Array((rootText + "\n").utf8), to: home + "/" + Layout.countyRoot)
        let deviceID = DeviceID.make(site: siteID, key: key.publicKey)
        let db = try Database(path: dbPath)
        try db.migrate(SiteSchema.migrations)
        try db.transaction {
            for (k, v) in [
                ("site_id", siteID), ("device_id", deviceID), ("root_public_key", rootText),
                ("utc_offset", String(UTCOffset.china)),
            ] {
                try db.run("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", [.text(k), .text(v)])
            }
        }
        let station = try Station(home: home, clock: clock, logger: logger)
        try station.db.transaction {
            if try station.head().seq == 0 {
                _ = try station.append(EventDraft(kind: .initialized, note: "site \(siteID)"))
            }
        }
        logger.info("station initialised", metadata: ["site": "\(siteID)", "device": "\(deviceID)"])
        return station
    }

    /// Signs bytes with the device key (Ed25519): evidence bags, so a third party can check
    /// them with the device's public key.
    public func signDetached(_ message: [UInt8]) throws -> [UInt8] { Array(try deviceKey.signature(for: message)) }

    // MARK: - The log

    /// The last event's sequence number and hash (0 and the genesis hash when empty).
    func head() throws -> (seq: Int64, hash: [UInt8]) {
        try db.first("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1") { ($0.int64(0), $0.blob(1)) }
            ?? (0, SiteEvent.genesisHash)
    }

    /// An event before it has a place in the chain.
    struct EventDraft {
        var kind: EventKind
        var direction: Direction? = nil
        var voucherID: UInt64? = nil
        var session: SessionKey? = nil
        var classID: UInt32? = nil
        var reason: String? = nil
        var note: String? = nil
        var code: String? = nil
        var flags: Set<EventFlag> = []
        var wallTime: Timestamp? = nil
    }

    /// Appends an event inside the caller's transaction, flagging it when the clock is behind.
    func append(_ draft: EventDraft) throws -> SiteEvent {
        let (seq, prev) = try head()
        let now = clock.now()
        var flags = draft.flags
        if try clockBehind(now) { flags.insert(.clock) }
        let event = SiteEvent(
            seq: seq + 1, uuid: uuidV7(milliseconds: now.milliseconds), deviceID: deviceID, kind: draft.kind, direction: draft.direction,
            voucherID: draft.voucherID, classID: draft.session?.classID ?? draft.classID, classDay: draft.session?.day,
            sessionIndex: draft.session?.index, reason: draft.reason, note: draft.note, code: draft.code, flags: flags,
            wallTime: draft.wallTime ?? now, utcOffset: utcOffset, bootID: clock.bootID,
            monotonicNanos: clock.monotonicNanos(), prevHash: prev)
        try db.insert(event)
        try raiseHighWater(now)
        return event
    }

    // MARK: - Clock

    /// The latest time this station has seen (events, bundle issue times).
    func highWater() throws -> Int64 {
        try db.first("SELECT value FROM settings WHERE key = 'high_water_ms'") { Int64($0.text(0) ?? "") ?? 0 } ?? 0
    }

    func raiseHighWater(_ t: Timestamp) throws {
        try db.run(
            """
            INSERT INTO settings(key, value) VALUES ('high_water_ms', ?)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value
            WHERE CAST(settings.value AS INTEGER) < CAST(excluded.value AS INTEGER)
            """, [.text(String(t.milliseconds))])
    }

    /// Whether the clock reads earlier than the latest time seen, minus the tolerance.
    func clockBehind(_ now: Timestamp) throws -> Bool {
        now.milliseconds < (try highWater()) - Int64(Station.clockTolerance)
    }

    /// Housekeeping to run after an answer has been given, never before: copies the
    /// write-ahead log into the database once it has grown (about 4 MB), so scans are not held
    /// up by it. Safe to call after every scan.
    /// - Returns: whether a checkpoint ran.
    @discardableResult
    public func maintain() throws -> Bool {
        try db.checkpoint(ifFramesAtLeast: 1000)
    }

    // MARK: - Checkpoints

    /// Signs the current head with the device key and stores the checkpoint.
    @discardableResult
    public func checkpoint(reason: String) throws -> Checkpoint {
        try db.transaction { try checkpointInTransaction(reason: reason) }
    }

    func checkpointInTransaction(reason: String) throws -> Checkpoint {
        let (seq, hash) = try head()
        let cp = try Checkpoint(
            signing: deviceID, seq: seq, headHash: hash, at: clock.now(), reason: reason, key: deviceKey)
        try db.run(
            "INSERT INTO checkpoints(seq, head_hash, signed_ms, reason, signature) VALUES (?, ?, ?, ?, ?)",
            [.integer(seq), .blob(hash), .integer(cp.signedAt.milliseconds), .text(reason), .blob(cp.signature)])
        return cp
    }

    /// The device's public key.
    public var devicePublicKey: Curve25519.Signing.PublicKey { deviceKey.publicKey }
}
