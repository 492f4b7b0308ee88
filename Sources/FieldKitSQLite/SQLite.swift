import CSQLite
import FieldKitCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A value SQLite stores.
public enum SQLValue: Sendable, Equatable {
    /// NULL.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// UTF-8 text.
    case text(String)
    /// Bytes.
    case blob([UInt8])
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByNilLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }

    /// An integer or NULL.
    public static func int(_ v: (some BinaryInteger)?) -> SQLValue { v.map { .integer(Int64(truncatingIfNeeded: $0)) } ?? .null }
    /// Text or NULL.
    public static func string(_ v: String?) -> SQLValue { v.map { .text($0) } ?? .null }
}

/// An SQLite failure, with the database's own words.
public struct SQLiteError: Error, LocalizedFailure {
    /// SQLite's result code.
    public var code: Int32
    /// SQLite's message.
    public var message: String
    /// The database file.
    public var path: String

    /// Whether the file is damaged or not a database at all (not a lock, a full disk, a mode).
    public var isDamage: Bool { [SQLITE_CORRUPT, SQLITE_NOTADB].contains(code & 0xFF) }

    public var words: (key: String, values: [String: String]) {
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: ("error.sqlite.busy", ["path": path])
        case SQLITE_FULL: ("error.sqlite.full", ["path": path])
        case SQLITE_CORRUPT, SQLITE_NOTADB: ("error.sqlite.corrupt", ["path": path, "why": message])
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM: ("error.sqlite.readonly", ["path": path, "why": message])
        default: ("error.sqlite.other", ["path": path, "why": message])
        }
    }
}

/// A thin wrapper over one SQLite connection: prepared statements, typed binds and columns,
/// transactions, and migrations by `user_version`. Not thread-safe: one per thread.
public final class Database {
    let handle: OpaquePointer
    /// The file.
    public let path: String
    var cache: [String: Statement] = [:]
    /// Frames in the write-ahead log after the last commit (see ``deferCheckpoints(safetyLimit:)``).
    public fileprivate(set) var walFrames: Int32 = 0
    fileprivate var walSafetyLimit: Int32 = 1000

    /// How durable commits are.
    public enum Durability: Sendable {
        /// WAL with `synchronous=FULL`: a commit is on disk when it returns.
        case full
        /// No fsync; only for bulk loading test and benchmark data.
        case none
    }

    /// Opens (and creates) a database in WAL mode with foreign keys on.
    /// - Throws: ``SQLiteError`` when the file cannot be opened or is not a database.
    public init(path: String, durability: Durability = .full, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: message, path: path)
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5000)
        sqlite3_extended_result_codes(db, 1)
        if !readOnly {
            try execute("PRAGMA journal_mode=WAL")
        }
        try execute(durability == .full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        sqlite3_wal_hook(handle, nil, nil)
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), path: path)
    }

    /// Runs SQL text that returns no rows (may hold several statements).
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard rc == SQLITE_OK else {
            throw SQLiteError(code: rc, message: message.map { String(cString: $0) } ?? "error \(rc)", path: path)
        }
    }

    /// A prepared statement, cached by its text.
    public func prepare(_ sql: String) throws -> Statement {
        if let s = cache[sql] {
            s.reset()
            return s
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc) }
        let s = Statement(stmt, database: self)
        cache[sql] = s
        return s
    }

    /// Runs a statement with binds, ignoring rows.
    public func run(_ sql: String, _ values: [SQLValue] = []) throws {
        let s = try prepare(sql)
        try s.bind(values)
        while try s.step() {}
        s.reset()
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE (0 when `ON CONFLICT DO NOTHING` skipped it).
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs a query and maps each row.
    public func query<T>(_ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws -> T) throws -> [T] {
        let s = try prepare(sql)
        defer { s.reset() }
        try s.bind(values)
        var out: [T] = []
        while try s.step() { out.append(try row(s)) }
        return out
    }

    /// The first row of a query, mapped, or nil.
    public func first<T>(_ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws -> T) throws -> T? {
        let s = try prepare(sql)
        defer { s.reset() }
        try s.bind(values)
        return try s.step() ? row(s) : nil
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// `immediate` takes the write lock up front, so two writers never deadlock half-way.
    public func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The schema version kept in `PRAGMA user_version`.
    public var userVersion: Int {
        get throws { try first("PRAGMA user_version") { Int($0.int64(0)) } ?? 0 }
    }

    /// Applies the migrations after `user_version`, each in its own transaction.
    /// Migrations are append-only: never edit one that has shipped.
    ///
    /// Before the first migration on a database that already holds a schema (an upgrade), a copy
    /// is taken beside the file with the online backup API: `NAME.before-v<N>-<UTC time>`, mode
    /// 0600, fsync'd, where N is the version the program migrates to. A fresh database needs none.
    /// - Parameters:
    ///   - now: the time for the copy's name (the system clock when nil).
    ///   - keepCopy: false for a database that is itself a copy (a restore's staging file).
    /// - Returns: the pre-upgrade copy's path, when one was taken.
    /// - Throws: ``SchemaTooNew`` when the file is newer than this program; ``SQLiteError``.
    @discardableResult
    public func migrate(_ migrations: [String], now: Timestamp? = nil, keepCopy: Bool = true) throws -> String? {
        let current = try userVersion
        guard current <= migrations.count else {
            throw SchemaTooNew(path: path, fileVersion: current, knownVersion: migrations.count)
        }
        var copy: String?
        if keepCopy && current > 0 && current < migrations.count {
            let stamp = String((now ?? Database.wallClock()).description.prefix(19)).replacing(":", with: "") + "Z"
            var target = "\(path).before-v\(migrations.count)-\(stamp)"
            var n = 1
            while Files.exists(target) {
                n += 1
                target = "\(path).before-v\(migrations.count)-\(stamp)-\(n)"
            }
            try backup(to: target)
            copy = target
        }
        for (i, sql) in migrations.enumerated().dropFirst(current) {
            try transaction {
                // Another process opening the same file may have applied it meanwhile.
                guard try userVersion == i else { return }
                try execute(sql)
                try execute("PRAGMA user_version = \(i + 1)")
            }
        }
        return copy
    }

    /// Copies the whole database, as of one moment, to a new file with SQLite's online backup
    /// API: other connections keep reading and writing meanwhile (a step that sees a change
    /// made by another connection starts over, so the copy is always one committed state).
    /// The copy is written to `target.tmp` (mode 0600), fsync'd, and renamed to `target`.
    /// - Throws: ``SQLiteError``; nothing is left at `target` then.
    public func backup(to target: String) throws {
        let temporary = target + ".tmp"
        for suffix in ["", "-journal", "-wal", "-shm"] { try Files.remove(temporary + suffix) }
        do {
            // Made private before SQLite writes a byte: the copy holds the roster.
            try Files.createPrivate([], at: temporary)
            var raw: OpaquePointer?
            let rc = sqlite3_open_v2(temporary, &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
            guard rc == SQLITE_OK, let destination = raw else {
                sqlite3_close(raw)
                throw SQLiteError(code: rc, message: "cannot open the copy", path: temporary)
            }
            defer { sqlite3_close_v2(destination) }
            guard let job = sqlite3_backup_init(destination, "main", handle, "main") else {
                throw SQLiteError(
                    code: sqlite3_errcode(destination), message: String(cString: sqlite3_errmsg(destination)), path: temporary)
            }
            var step: Int32
            repeat {
                // All pages in one step, on one read transaction: a writer in another process
                // never restarts it, and the copy is one committed state.
                step = sqlite3_backup_step(job, -1)
                if step == SQLITE_BUSY || step == SQLITE_LOCKED { sqlite3_sleep(10) }
            } while step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED
            let finish = sqlite3_backup_finish(job)
            guard step == SQLITE_DONE, finish == SQLITE_OK else {
                throw SQLiteError(code: step == SQLITE_DONE ? finish : step, message: String(cString: sqlite3_errmsg(destination)), path: temporary)
            }
            // A single file, whatever the source's journal: the copy is one file on a stick.
            var message: UnsafeMutablePointer<CChar>?
            let mode = sqlite3_exec(destination, "PRAGMA journal_mode=DELETE", nil, nil, &message)
            sqlite3_free(message)
            guard mode == SQLITE_OK else { throw SQLiteError(code: mode, message: "cannot settle the copy", path: temporary) }
        } catch {
            for suffix in ["", "-journal", "-wal", "-shm"] { try? Files.remove(temporary + suffix) }
            throw error
        }
        try Files.syncFile(temporary)
        try Files.move(temporary, to: target)
    }

    /// Takes write-ahead-log checkpoints off the commit path: a commit no longer copies the WAL
    /// into the database (SQLite's automatic checkpoint), so the answer to a scan is not held up
    /// by it; the caller runs ``checkpoint(ifFramesAtLeast:)`` after answering. A commit still
    /// checkpoints once the WAL reaches `safetyLimit` frames, should nobody else do it.
    public func deferCheckpoints(safetyLimit: Int32 = 20_000) {
        walSafetyLimit = safetyLimit
        sqlite3_wal_hook(
            handle,
            { context, db, name, frames in
                let database = Unmanaged<Database>.fromOpaque(context!).takeUnretainedValue()
                database.walFrames = frames
                if frames >= database.walSafetyLimit {
                    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                    database.walFrames = 0
                }
                return SQLITE_OK
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Copies the WAL into the database file (a passive checkpoint: it never waits for readers)
    /// when it has grown to `frames` frames. Returns whether it ran.
    @discardableResult
    public func checkpoint(ifFramesAtLeast frames: Int32) throws -> Bool {
        guard walFrames >= frames else { return false }
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        guard rc == SQLITE_OK || rc == SQLITE_BUSY else { throw error(rc) }
        walFrames = 0
        return true
    }

    /// The system's wall-clock time (the stores keep their own clocks; this is only the default
    /// for a pre-upgrade copy's name).
    static func wallClock() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    /// `PRAGMA integrity_check`: "ok", or SQLite's findings.
    public func integrityCheck() throws -> String {
        try query("PRAGMA integrity_check") { $0.text(0) ?? "" }.joined(separator: "; ")
    }
}

/// A database written by a newer fieldkit than this one: it is never opened (a downgrade
/// would misread it).
public struct SchemaTooNew: Error, LocalizedFailure, Equatable {
    /// The database file.
    public var path: String
    /// The schema version the file carries.
    public var fileVersion: Int
    /// The newest schema version this program knows.
    public var knownVersion: Int

    /// The refusal for a file at `path` carrying `fileVersion` when this program knows `knownVersion`.
    public init(path: String, fileVersion: Int, knownVersion: Int) {
        self.path = path
        self.fileVersion = fileVersion
        self.knownVersion = knownVersion
    }

    public var words: (key: String, values: [String: String]) {
        ("error.sqlite.too_new", ["path": path, "file": String(fileVersion), "known": String(knownVersion)])
    }
}

/// A prepared statement. Obtained from ``Database/prepare(_:)``; reset after use.
public final class Statement {
    let stmt: OpaquePointer
    unowned let database: Database

    init(_ stmt: OpaquePointer, database: Database) {
        self.stmt = stmt
        self.database = database
    }

    deinit { sqlite3_finalize(stmt) }

    /// Binds values to `?` placeholders in order.
    public func bind(_ values: [SQLValue]) throws {
        sqlite3_clear_bindings(stmt)
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(stmt, idx)
            case .integer(let n): rc = sqlite3_bind_int64(stmt, idx, n)
            case .text(let s): rc = sqlite3_bind_text(stmt, idx, s, -1, transient)
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob(stmt, idx, $0.baseAddress, Int32($0.count), transient) }
            }
            guard rc == SQLITE_OK else { throw database.error(rc) }
        }
    }

    /// Advances: true when a row is available.
    public func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let e = database.error(rc)
            sqlite3_reset(stmt)
            throw e
        }
    }

    /// Makes the statement ready to run again.
    public func reset() { sqlite3_reset(stmt) }

    /// Whether a column is NULL.
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
    /// A column as an integer (0 for NULL).
    public func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    /// A column as an integer, nil for NULL.
    public func optionalInt64(_ i: Int32) -> Int64? { isNull(i) ? nil : int64(i) }
    /// A column as text, nil for NULL.
    public func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(stmt, i) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))), as: UTF8.self)
    }
    /// A column as bytes (empty for NULL).
    public func blob(_ i: Int32) -> [UInt8] {
        guard let p = sqlite3_column_blob(stmt, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))))
    }

    /// A column exactly as stored, for hashing.
    public func canonical(_ i: Int32) -> CanonicalValue {
        switch sqlite3_column_type(stmt, i) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer(int64(i))
        case SQLITE_TEXT:
            guard let p = sqlite3_column_text(stmt, i) else { return .textBytes([]) }
            return .textBytes(Array(UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i)))))
        case SQLITE_FLOAT: return .textBytes(Array("float:\(sqlite3_column_double(stmt, i))".utf8))
        default: return .blob(blob(i))
        }
    }
}
