import Crypto
import FieldKitCore
import FieldKitSQLite
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
    let db: Database
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
        /// The device key while `init` is under way: renamed to ``deviceKey`` only once the
        /// database and its first event are committed, so `device.key` without `fieldkit.db`
        /// always means a log that existed and is gone, never an unfinished `init`.
        public static let pendingDeviceKey = "device.key.new"
        /// The device's public key.
        public static let devicePublicKey = "device.pub"
        /// A copy of the pinned county root key.
        public static let countyRoot = "county-root.pub"
    }

    /// How far behind the latest time seen the clock may be before events are flagged.
    public static let clockTolerance = 2 * 60_000

    /// Opens an initialised station.
    /// - Throws: ``StationError/notInitialized(_:)`` when the home holds none;
    ///   ``StationError/databaseMissing(home:database:keyID:)`` when the device key is there but
    ///   the database is gone (restore it: a new `init` would start a second log under the same key).
    public convenience init(
        home: String, clock: any StationClock = SystemClock(),
        logger: Logger = Logger(label: "fieldkit", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        if !Files.exists(home + "/" + Layout.database), Files.exists(home + "/" + Layout.deviceKey) {
            throw StationError.databaseMissing(
                home: home, database: home + "/" + Layout.database, keyID: Station.keyID(ofKeyFile: home + "/" + Layout.deviceKey))
        }
        try self.init(home: home, keyFile: Layout.deviceKey, clock: clock, logger: logger)
    }

    /// Opens a station with its key in `keyFile` (``Layout/pendingDeviceKey`` while `init` runs).
    init(home: String, keyFile: String, clock: any StationClock, logger: Logger) throws {
        let dbPath = home + "/" + Layout.database
        guard Files.exists(dbPath) else { throw StationError.notInitialized(home) }
        let db = try Database(path: dbPath)
        try db.migrate(SiteSchema.migrations, now: clock.now())
        db.deferCheckpoints()
        func setting(_ key: String) throws -> String? {
            try db.first("SELECT value FROM settings WHERE key = ?", [.text(key)]) { $0.text(0) } ?? nil
        }
        guard let site = try setting("site_id"), let device = try setting("device_id"),
            let rootText = try setting("root_public_key"), let rootRaw = Base64.decode(rootText),
            let root = try? Curve25519.Signing.PublicKey(rawRepresentation: rootRaw)
        else { throw StationError.notInitialized(home) }
        let keyPath = home + "/" + keyFile
        guard Files.exists(keyPath) else {
            // A pending key beside it: an init that was cut off, which a rerun finishes.
            if Files.exists(home + "/" + Layout.pendingDeviceKey) { throw StationError.notInitialized(home) }
            throw StationError.deviceKeyMissing(home: home, key: keyPath)
        }
        let keyBytes: [UInt8]
        do { keyBytes = try Files.read(keyPath) } catch {
            throw StationError.badDeviceKey("\(error)")
        }
        guard let key = Station.privateKey(keyBytes)
        else { throw StationError.badDeviceKey("\(keyPath) is not an Ed25519 key") }
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

    /// A key file's contents as a key (base64 of the raw 32 bytes), or nil.
    static func privateKey(_ bytes: [UInt8]) -> Curve25519.Signing.PrivateKey? {
        Base64.decode(String(decoding: bytes, as: UTF8.self)).flatMap { try? Curve25519.Signing.PrivateKey(rawRepresentation: $0) }
    }

    /// The key id a key file holds (the end of the device id), or `?` when it cannot be read.
    static func keyID(ofKeyFile path: String) -> String {
        guard let bytes = try? Files.read(path), let key = privateKey(bytes) else { return "?" }
        return KeyID(of: key.publicKey).description
    }

    /// Creates a station: the database and its first event, the device key (mode 0600), the
    /// pinned root key.
    ///
    /// The key is made as ``Layout/pendingDeviceKey`` and renamed to ``Layout/deviceKey`` only
    /// once the database and its first event are committed. So a rerun after a cut-off `init`
    /// finishes it (same key), and `device.key` without a database is a log that was lost:
    /// refused (restore it from backup, or ``retireDeviceKey(home:clock:)`` for a new device).
    /// - Parameters:
    ///   - rootKeyFile: the county's `root.pub` contents (base64 of the raw 32-byte key).
    /// - Throws: ``StationError`` when the home is taken, its database is gone, or the key is bad.
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
        let keyPath = home + "/" + Layout.deviceKey
        let pendingPath = home + "/" + Layout.pendingDeviceKey
        if Files.exists(keyPath) {
            // The key is only ever put in place with a committed log beside it.
            guard Files.exists(dbPath) else {
                throw StationError.initWouldReuseKey(home: home, database: dbPath, keyID: keyID(ofKeyFile: keyPath))
            }
            let existing = try Station(home: home, clock: clock, logger: logger)  // damaged: its own error, nothing touched
            throw StationError.alreadyInitialized(home, site: existing.siteID)
        }
        try Files.makeDirectory(home)
        var key = (try? Files.read(pendingPath)).flatMap(privateKey)
        if Files.exists(dbPath) {
            // No device.key: only a cut-off init leaves a database without one, and then the
            // database holds init's own writes under the pending key and nothing else.
            guard let pending = key, try isUnfinishedInit(dbPath, kid: KeyID(of: pending.publicKey)) else {
                throw StationError.deviceKeyMissing(home: home, key: keyPath)
            }
            for suffix in ["", "-wal", "-shm"] { try Files.remove(dbPath + suffix) }
        }
        if key == nil {
            try Files.remove(pendingPath)  // unreadable leftovers of a cut-off write
            let made = Curve25519.Signing.PrivateKey()
            try Files.createPrivate(Array((Base64.encode(made.rawRepresentation) + "\n").utf8), at: pendingPath)
            key = made
        }
        guard let key else { throw StationError.badDeviceKey("\(pendingPath) is not an Ed25519 key") }
        // A write-ahead log without its database would be replayed into the new one: set aside.
        if !Files.exists(dbPath) { _ = try retire([Layout.database + "-wal", Layout.database + "-shm"], home: home, clock: clock) }
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
        let building = try Station(home: home, keyFile: Layout.pendingDeviceKey, clock: clock, logger: logger)
        try building.db.transaction {
            if try building.head().seq == 0 {
                _ = try building.append(EventDraft(kind: .initialized, note: "site \(siteID)"))
            }
        }
        try Files.move(pendingPath, to: keyPath)
        logger.info("station initialised", metadata: ["site": "\(siteID)", "device": "\(deviceID)"])
        return try Station(home: home, clock: clock, logger: logger)
    }

    /// Whether a database is what a cut-off `init` left: no events but its first, and no
    /// device id other than the pending key's.
    static func isUnfinishedInit(_ path: String, kid: KeyID) throws -> Bool {
        let db = try Database(path: path)
        try db.migrate(SiteSchema.migrations)
        let device = try db.first("SELECT value FROM settings WHERE key = 'device_id'") { $0.text(0) } ?? nil
        let events = try db.first("SELECT count(*) FROM events") { $0.int64(0) } ?? 0
        return events <= 1 && (device.map { $0.hasSuffix("-\(kid)") } ?? true)
    }

    /// For a PC whose database is gone and cannot be restored: keeps the old device key files
    /// (and any write-ahead log left of the database) renamed `NAME.retired-<UTC time>`, so that
    /// `initialize` makes a NEW key, and with it a new device id the county must enroll again.
    /// - Returns: the retired files' new paths (none when there was no key).
    /// - Throws: ``StationError/alreadyInitialized(_:site:)`` when the database is there (nothing
    ///   is retired then), or what opening it throws.
    public static func retireDeviceKey(home: String, clock: any StationClock = SystemClock()) throws -> [String] {
        let dbPath = home + "/" + Layout.database
        if Files.exists(dbPath) {
            let existing = try Station(home: home, clock: clock)
            throw StationError.alreadyInitialized(home, site: existing.siteID)
        }
        return try retire([Layout.deviceKey, Layout.devicePublicKey, Layout.database + "-wal", Layout.database + "-shm"], home: home, clock: clock)
    }

    /// Renames each of these files of the home that exists to `NAME.retired-<UTC time>` (a
    /// counter added rather than overwrite an earlier one); returns the new paths.
    static func retire(_ names: [String], home: String, clock: any StationClock) throws -> [String] {
        let stamp = String(clock.now().description.prefix(19)).replacing(":", with: "") + "Z"
        var retired: [String] = []
        for name in names {
            let path = home + "/" + name
            guard Files.exists(path) else { continue }
            var target = "\(path).retired-\(stamp)"
            var n = 1
            while Files.exists(target) {
                n += 1
                target = "\(path).retired-\(stamp)-\(n)"
            }
            try Files.move(path, to: target)
            retired.append(target)
        }
        return retired
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
    /// - Parameters:
    ///   - place: the sequence number and previous-hash, for a `restored` event only (its number
    ///     may jump; see ``RestoreStatement``); the head's next otherwise.
    /// - Throws: ``BackupError/restorePending(baseSeq:)`` while a restore waits for the county's
    ///   high-water: no event may take a number the county may already hold.
    func append(_ draft: EventDraft, at place: (seq: Int64, prev: [UInt8])? = nil) throws -> SiteEvent {
        if draft.kind != .restored, let pending = try restorePending() { throw BackupError.restorePending(baseSeq: pending.baseSeq) }
        let (seq, prev) = try place.map { ($0.seq - 1, $0.prev) } ?? head()
        let now = clock.now()
        var flags = draft.flags
        if try clockBehind(now) { flags.insert(.clock) }
        if try trustIsPastExpiry(now) { flags.insert(.staleTrust) }
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

    /// For experiments (the bench): gives the write-ahead-log checkpoint back to SQLite, run on
    /// the commit path every `pages` pages, as SQLite does by default. A station never calls it.
    public func checkpointOnCommit(everyPages pages: Int) throws {
        try db.execute("PRAGMA wal_autocheckpoint=\(pages)")
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
