import Crypto
import FieldKitCore
import FieldKitSQLite
import FoundationEssentials
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A restore that waits for the county's high-water before the log may go on.
public struct PendingRestore: Sendable, Equatable {
    /// The backup's last event.
    public var baseSeq: Int64
    /// Its hash.
    public var baseHash: [UInt8]
    /// A county answer must be newer than this: the backup's newest event or receipt, so no
    /// answer the backup itself could hold is taken for the county's present.
    public var freshAfterMs: Int64

    /// The settings text.
    var text: String { "base_seq=\(baseSeq) base_hash=\(hexString(baseHash)) fresh_after_ms=\(freshAfterMs)" }

    /// Reads the settings text.
    init?(text: String?) {
        guard let text else { return nil }
        var fields: [Substring: Substring] = [:]
        for part in text.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[kv[0]] = kv[1] }
        }
        guard let base = fields["base_seq"].flatMap({ Int64($0) }), let hash = fields["base_hash"].flatMap({ hexBytes(String($0)) }),
            let fresh = fields["fresh_after_ms"].flatMap({ Int64($0) })
        else { return nil }
        self.init(baseSeq: base, baseHash: hash, freshAfterMs: fresh)
    }

    init(baseSeq: Int64, baseHash: [UInt8], freshAfterMs: Int64) {
        self.baseSeq = baseSeq
        self.baseHash = baseHash
        self.freshAfterMs = freshAfterMs
    }
}

/// What `fieldkit backup` wrote.
public struct BackupSummary: Sendable, Encodable {
    /// The backup file (mode 0600).
    public var file: String
    /// Its last event.
    public var head_seq: Int64
    /// That event's hash, hex.
    public var head_hash: String
    /// The device key beside it (`FILE.key`, mode 0600), only with `--with-key`.
    public var key_file: String?
}

/// What `fieldkit restore` did.
public struct RestoreSummary: Sendable, Encodable {
    /// The device the backup is of.
    public var device: String
    /// The backup's last event.
    public var base_seq: Int64
    /// That event's hash, hex.
    public var base_hash: String
    /// Where the database it replaced was kept (`fieldkit.db.replaced-<UTC>`), if there was one.
    public var replaced: String?
    /// Whether the device key was taken from `FILE.key` (the home had none).
    public var key_installed: Bool
}

extension Station {
    /// The settings key of a restore waiting for the county's high-water.
    static let restorePendingKey = "restore_pending"

    /// A consistent copy of the database while the kiosk keeps writing (SQLite's online backup
    /// API on one read transaction), written to `path.tmp` (mode 0600), fsync'd, renamed.
    ///
    /// The device key stays on the PC: it is the device's identity, and a stick holding it lets
    /// anyone sign as this device. With `withKey` it is written beside the copy as `path.key`
    /// (mode 0600), for a PC whose disk may die with the key on it.
    /// - Returns: the file, and the last event it holds.
    /// - Throws: ``BackupError/wouldReplaceDatabase(_:)`` when `path` is the database itself.
    public func backup(to path: String, withKey: Bool = false) throws -> BackupSummary {
        for suffix in ["", "-wal", "-shm"] where Station.sameFile(path, db.path + suffix) {
            throw BackupError.wouldReplaceDatabase(path)
        }
        try db.backup(to: path)
        let copy = try Database(path: path, readOnly: true)
        let (seq, hash) =
            try copy.first("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1") { ($0.int64(0), $0.blob(1)) }
            ?? (0, SiteEvent.genesisHash)
        var keyFile: String?
        if withKey {
            let target = path + ".key"
            try Files.remove(target)
            try Files.createPrivate(Array((Base64.encode(deviceKey.rawRepresentation) + "\n").utf8), at: target)
            keyFile = target
        }
        logger.info("backup written", metadata: ["seq": "\(seq)", "with_key": "\(withKey)"])
        return BackupSummary(file: path, head_seq: seq, head_hash: hexString(hash), key_file: keyFile)
    }

    /// Puts a backup in place of the home's database, after checking it: an SQLite file that
    /// passes `PRAGMA integrity_check`, a log whose chain and checkpoints verify, of the same
    /// device as the home's key (or the key in `file.key` when the home has none). Refuses to
    /// replace a live database holding more events unless `force`; the replaced one is kept as
    /// `fieldkit.db.replaced-<UTC>`.
    ///
    /// Atomic: the copy is made and checked as `fieldkit.db.restoring`, fsync'd, then renamed
    /// over `fieldkit.db`; a crash leaves the old database or the new one, never a mix.
    ///
    /// The restored log takes no new event until the county's high-water is known
    /// (``takeHighWater(_:source:)``): the county may hold events of this device the backup lacks.
    /// - Throws: ``BackupError``, ``StationError``, ``SQLiteError``.
    @discardableResult
    public static func restore(
        home: String, from file: String, force: Bool = false, clock: any StationClock = SystemClock(),
        logger: Logger = Logger(label: "fieldkit", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> RestoreSummary {
        guard Station.hasSQLiteHeader(file) else { throw BackupError.notABackup(file) }
        try Files.makeDirectory(home)
        // A running kiosk keeps its database open: it would go on writing into the file replaced.
        let kioskLock = open(home + "/kiosk.lock", O_RDWR | O_CLOEXEC)
        defer { if kioskLock >= 0 { close(kioskLock) } }
        if kioskLock >= 0, flock(kioskLock, LOCK_EX | LOCK_NB) != 0 { throw BackupError.kioskRunning(home) }
        let databasePath = home + "/" + Layout.database
        let staging = databasePath + ".restoring"
        func clearStaging() { for suffix in ["", "-wal", "-shm", "-journal"] { try? Files.remove(staging + suffix) } }
        clearStaging()
        do {
            let source = try Database(path: file, readOnly: true)
            try source.backup(to: staging)
        } catch let error as SQLiteError where error.isDamage {
            clearStaging()
            throw BackupError.damaged(file, why: error.message)
        } catch {
            clearStaging()
            throw error
        }
        var keyToInstall: Curve25519.Signing.PrivateKey?
        let summary: RestoreSummary
        var rootText = ""
        do {
            let copy = try Database(path: staging)
            let check = try copy.integrityCheck()
            guard check == "ok" else { throw BackupError.damaged(file, why: check) }
            try copy.migrate(SiteSchema.migrations, keepCopy: false)
            func setting(_ key: String) throws -> String? {
                try copy.first("SELECT value FROM settings WHERE key = ?", [.text(key)]) { $0.text(0) } ?? nil
            }
            guard let device = try setting("device_id"), let site = try setting("site_id"), let root = try setting("root_public_key")
            else { throw BackupError.damaged(file, why: "it holds no fieldkit station") }
            rootText = root
            let homeKeyPath = home + "/" + Layout.deviceKey
            let key: Curve25519.Signing.PrivateKey
            if Files.exists(homeKeyPath) {
                guard let k = privateKey(try Files.read(homeKeyPath)) else {
                    throw StationError.badDeviceKey("\(homeKeyPath) is not an Ed25519 key")
                }
                key = k
            } else if Files.exists(file + ".key"), let k = privateKey(try Files.read(file + ".key")) {
                key = k
                keyToInstall = k
            } else {
                throw BackupError.noKey(home: home, file: file)
            }
            let homeDevice = DeviceID.make(site: site, key: key.publicKey)
            guard homeDevice == device else { throw BackupError.otherDevice(file, backup: device, home: homeDevice) }
            let verification = try verifyChain(copy, deviceID: device, key: key.publicKey)
            guard verification.ok else {
                throw BackupError.chainBroken(file, seq: verification.firstBrokenSeq ?? 0, problem: verification.problem ?? "")
            }
            let (seq, hash, wall) =
                try copy.first("SELECT seq, hash, wall_ms FROM events ORDER BY seq DESC LIMIT 1") { ($0.int64(0), $0.blob(1), $0.int64(2)) }
                ?? (0, SiteEvent.genesisHash, 0)
            let receiptText = try copy.first("SELECT receipt FROM sync_state WHERE id = 1") { $0.text(0) } ?? nil
            let receiptMs = receiptText.flatMap { try? JSONDecoder().decode(Receipt.self, from: Data($0.utf8)) }?.server_ms ?? 0
            if !force, Files.exists(databasePath) {
                let liveSeq: Int64
                do {
                    let live = try Database(path: databasePath, readOnly: true)
                    liveSeq = try live.first("SELECT max(seq) FROM events") { $0.int64(0) } ?? 0
                } catch {
                    throw BackupError.liveUnreadable(databasePath, why: "\(error)")
                }
                guard liveSeq <= seq else { throw BackupError.liveIsNewer(live: liveSeq, backup: seq) }
            }
            let pending = PendingRestore(baseSeq: seq, baseHash: hash, freshAfterMs: max(wall, receiptMs))
            try copy.run(
                "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", [.text(restorePendingKey), .text(pending.text)])
            try copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            summary = RestoreSummary(
                device: device, base_seq: seq, base_hash: hexString(hash), replaced: nil, key_installed: keyToInstall != nil)
        } catch let error as SQLiteError where error.isDamage {
            clearStaging()
            throw BackupError.damaged(file, why: error.message)
        } catch {
            clearStaging()
            throw error
        }
        for suffix in ["-wal", "-shm"] { try Files.remove(staging + suffix) }
        try Files.syncFile(staging)
        if let key = keyToInstall {
            try Files.remove(home + "/" + Layout.pendingDeviceKey)
            try Files.createPrivate(Array((Base64.encode(key.rawRepresentation) + "\n").utf8), at: home + "/" + Layout.deviceKey)
            try Files.writeAtomically(
                Array((Base64.encode(key.publicKey.rawRepresentation) + "\n").utf8), to: home + "/" + Layout.devicePublicKey)
            if !Files.exists(home + "/" + Layout.countyRoot) {
                try Files.writeAtomically(Array((rootText + "\n").utf8), to: home + "/" + Layout.countyRoot)
            }
        }
        var result = summary
        if Files.exists(databasePath) {
            // Fold the live write-ahead log into its file, so the kept copy is whole.
            if let live = try? Database(path: databasePath) { try? live.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
            let kept = try freeName(databasePath + ".replaced-" + stamp(clock))
            try Files.link(databasePath, to: kept)
            for suffix in ["-wal", "-shm"] where Files.exists(databasePath + suffix) {
                try Files.move(databasePath + suffix, to: kept + suffix)
            }
            result.replaced = kept
        } else {
            _ = try retire([Layout.database + "-wal", Layout.database + "-shm"], home: home, clock: clock)
        }
        try Files.move(staging, to: databasePath)
        logger.info("database restored", metadata: ["seq": "\(summary.base_seq)"])
        return result
    }

    /// The restore waiting for the county's high-water, if any.
    public func restorePending() throws -> PendingRestore? {
        PendingRestore(text: try db.first("SELECT value FROM settings WHERE key = ?", [.text(Station.restorePendingKey)]) { $0.text(0) } ?? nil)
    }

    /// Takes the county's high-water for this device after a restore: a receipt signed by the
    /// county root key (from the county over the network, or `fieldkit-county device status
    /// --out` carried on a stick), newer than anything the backup holds. Writes the `restored`
    /// event: number `max(N, H) + 1`, previous-hash the backup's last event's, stating both; the
    /// log goes on from there.
    /// - Parameters:
    ///   - source: the file or address, for the messages.
    /// - Throws: ``BackupError``: not pending, not the county's, another device, stale, a fork.
    @discardableResult
    public func takeHighWater(_ receipt: Receipt, source: String) throws -> RestoreStatement {
        try db.transaction {
            guard let pending = try restorePending() else { throw BackupError.notPending }
            guard receipt.verify(with: rootKey) else { throw BackupError.answerNotCounty(source) }
            guard receipt.device == deviceID else { throw BackupError.answerOtherDevice(source, device: receipt.device) }
            guard receipt.server_ms > pending.freshAfterMs else {
                throw BackupError.answerStale(source, at: Timestamp(milliseconds: receipt.server_ms).description)
            }
            let countySeq = receipt.acked_seq
            if countySeq <= pending.baseSeq {
                // The county holds part of what the backup holds: the same events, or a fork.
                let local: [UInt8] =
                    countySeq == 0
                    ? SiteEvent.genesisHash
                    : try db.first("SELECT hash FROM events WHERE seq = ?", [.integer(countySeq)]) { $0.blob(0) } ?? []
                guard hexBytes(receipt.head_hash) == local else { throw BackupError.answerFork(seq: countySeq) }
            }
            let statement = RestoreStatement(baseSeq: pending.baseSeq, baseHash: pending.baseHash, countySeq: countySeq)
            _ = try append(
                EventDraft(kind: .restored, note: statement.note), at: (statement.eventSeq, pending.baseHash))
            try db.run("DELETE FROM settings WHERE key = ?", [.text(Station.restorePendingKey)])
            // What the county holds of the backup's events needs no sending again.
            try db.run(
                "UPDATE sync_state SET acked_seq = max(acked_seq, ?) WHERE id = 1", [.integer(min(pending.baseSeq, countySeq))])
            logger.info(
                "restore continued", metadata: ["base": "\(pending.baseSeq)", "county": "\(countySeq)", "seq": "\(statement.eventSeq)"])
            return statement
        }
    }

    /// Whether two paths name the same existing file.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Whether a file starts with SQLite's 16-byte header.
    static func hasSQLiteHeader(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        return n == 16 && header == Array("SQLite format 3".utf8) + [0]
    }

    /// A UTC time for file names: `2026-03-02T083000Z`.
    static func stamp(_ clock: any StationClock) -> String {
        String(clock.now().description.prefix(19)).replacing(":", with: "") + "Z"
    }

    /// `path`, or `path-2`, `path-3`… whichever is free.
    static func freeName(_ path: String) throws -> String {
        var target = path
        var n = 1
        while Files.exists(target) {
            n += 1
            target = "\(path)-\(n)"
        }
        return target
    }
}
