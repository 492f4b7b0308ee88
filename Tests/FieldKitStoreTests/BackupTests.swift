import CountyKit
import Dispatch
import FieldKitCore
import FieldKitSQLite
@testable import FieldKitStore
import FoundationEssentials
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Backups, restores, and upgrades that keep data")
struct BackupTests {
    /// The last event's number and hash.
    func head(_ s: Station) throws -> (seq: Int64, hash: [UInt8]) { try s.head() }

    @Test("a backup taken while another connection keeps writing is one consistent, verifying state")
    func backupWhileWriting() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:10")
        let home = f.dir + "/site"
        let clock = f.clock
        let stop = Atomic<Bool>(false)
        let written = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        // Given a writer on its own connection recording refused scans as fast as it can
        DispatchQueue.global().async {
            defer { done.signal() }
            guard let writer = try? Station(home: home, clock: clock) else { return }
            while !stop.load(ordering: .relaxed) {
                if (try? writer.scan("1234")) != nil { written.add(1, ordering: .relaxed) }
            }
        }
        // When backups are taken meanwhile
        var seqs: [Int64] = []
        /// Waits (at most 10 s) until the writer has recorded more than `count` events.
        func writerPassed(_ count: Int) {
            for _ in 0..<1000 where written.load(ordering: .relaxed) <= count { usleep(10_000) }
        }
        for i in 0..<8 {
            writerPassed(i * 3)
            let out = f.dir + "/backup-\(i).db"
            let summary = try f.station.backup(to: out)
            // Then each is private, whole, and its log verifies up to the head it reports
            #expect(Files.mode(out) == 0o600)
            #expect(!Files.exists(out + ".tmp") && !Files.exists(out + ".key"))
            let copy = try Database(path: out, readOnly: true)
            #expect(try copy.integrityCheck() == "ok")
            let v = try Station.verifyChain(copy, deviceID: f.station.deviceID, key: f.station.devicePublicKey)
            #expect(v.ok && v.events == summary.head_seq && v.headHash == summary.head_hash)
            seqs.append(summary.head_seq)
        }
        stop.store(true, ordering: .relaxed)
        done.wait()
        #expect(written.load(ordering: .relaxed) > 0)
        #expect(seqs.last! > seqs.first!)
    }

    @Test("--with-key writes the key beside the backup, mode 0600; without it the key stays home")
    func withKey() throws {
        let f = try Fixture()
        let s = try f.station.backup(to: f.dir + "/b.db", withKey: true)
        #expect(s.key_file == f.dir + "/b.db.key" && Files.mode(f.dir + "/b.db.key") == 0o600)
        #expect(try Files.read(f.dir + "/b.db.key") == Files.read(f.dir + "/site/device.key"))
        // The database itself is never the target
        let live = f.dir + "/site/fieldkit.db"
        #expect(throws: BackupError.wouldReplaceDatabase(f.dir + "/site/../site/fieldkit.db")) {
            try f.station.backup(to: f.dir + "/site/../site/fieldkit.db")
        }
        #expect(try Station(home: f.dir + "/site", clock: f.clock).verifyLog().ok && Files.exists(live))
    }

    @Test("a restore checks the file: header, integrity, the chain, the device, a newer live database")
    func restoreChecks() throws {
        let f = try Fixture()
        let home = f.dir + "/site"
        f.clock.set("2026-03-02", "08:10")
        _ = try f.station.scan(f.code(0))
        let backup = f.dir + "/b.db"
        try f.station.backup(to: backup)

        // Not a database
        try Files.writeAtomically(Array("hello, not sqlite at all".utf8), to: f.dir + "/junk")
        #expect(throws: BackupError.notABackup(f.dir + "/junk")) { try Station.restore(home: home, from: f.dir + "/junk", clock: f.clock) }
        // A damaged one: the header kept, pages overwritten
        var bytes = try Files.read(backup)
        for i in 4096..<min(bytes.count, 12288) { bytes[i] = 0x5A }
        try Files.writeAtomically(bytes, to: f.dir + "/damaged.db")
        #expect {
            try Station.restore(home: home, from: f.dir + "/damaged.db", clock: f.clock)
        } throws: { error in
            if case .damaged = error as? BackupError { return true }
            return false
        }
        // An altered event
        try Files.writeAtomically(try Files.read(backup), to: f.dir + "/altered.db")
        let altered = try Database(path: f.dir + "/altered.db")
        try altered.execute("DROP TRIGGER events_append_only_update; UPDATE events SET note = 'x' WHERE seq = 1")
        #expect(throws: BackupError.chainBroken(f.dir + "/altered.db", seq: 1, problem: LogProblem.altered(1).description)) {
            try Station.restore(home: home, from: f.dir + "/altered.db", clock: f.clock)
        }
        // Another device's backup
        let other = try Station.initialize(
            home: f.dir + "/other", siteID: "S01", rootKeyFile: try Files.read(f.dir + "/county/root.pub"), clock: f.clock)
        try other.backup(to: f.dir + "/other.db")
        #expect(throws: BackupError.otherDevice(f.dir + "/other.db", backup: other.deviceID, home: f.station.deviceID)) {
            try Station.restore(home: home, from: f.dir + "/other.db", clock: f.clock)
        }
        // The live database holds more than the backup
        f.clock.set("2026-03-02", "08:20")
        _ = try f.station.scan(f.code(1))
        let live = try head(f.station).seq
        #expect(throws: BackupError.liveIsNewer(live: live, backup: live - 1)) { try Station.restore(home: home, from: backup, clock: f.clock) }
        // Nothing was touched by the refusals
        #expect(try head(Station(home: home, clock: f.clock)).seq == live)
        #expect(!Files.exists(home + "/fieldkit.db.restoring"))

        // A running kiosk (it holds kiosk.lock) would keep writing into the file replaced
        let lock = open(home + "/kiosk.lock", O_RDWR | O_CREAT, 0o600)
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        #expect(throws: BackupError.kioskRunning(home)) { try Station.restore(home: home, from: backup, force: true, clock: f.clock) }
        close(lock)

        // --force replaces it and keeps the one replaced
        let summary = try Station.restore(home: home, from: backup, force: true, clock: f.clock)
        let kept = try #require(summary.replaced)
        #expect(kept.hasPrefix(home + "/fieldkit.db.replaced-2026-03-02T"))
        #expect(try Database(path: kept, readOnly: true).first("SELECT max(seq) FROM events") { $0.int64(0) } == live)
        #expect(try head(Station(home: home, clock: f.clock)).seq == live - 1)
    }

    @Test("after a restore no event is written until the county's high-water is known; then the log jumps past it")
    func restoreWithGap() throws {
        let f = try Fixture()
        let home = f.dir + "/site"
        f.clock.set("2026-03-02", "08:10")
        _ = try f.station.scan(f.code(0))
        let backup = f.dir + "/b.db"
        // (an answer the county gave before the backup was taken)
        let oldAnswer = try f.county.signReceipt(device: f.station.deviceID, ackedSeq: 1, headHash: [UInt8](repeating: 0, count: 32), deviceMs: 0)
        let n = try f.station.backup(to: backup).head_seq
        // Given events the county received after the backup
        f.clock.set("2026-03-02", "08:15")
        _ = try f.station.scan(f.code(1))
        _ = try f.station.scan(f.code(2))
        let (h, hHash) = try head(f.station)
        let countyAnswer = try f.county.signReceipt(device: f.station.deviceID, ackedSeq: h, headHash: hHash, deviceMs: 0)
        // When the database is lost and restored from the backup
        for suffix in ["", "-wal", "-shm"] { try Files.remove(home + "/fieldkit.db" + suffix) }
        let summary = try Station.restore(home: home, from: backup, clock: f.clock)
        #expect(summary.base_seq == n && summary.replaced == nil && !summary.key_installed)
        let station = try Station(home: home, clock: f.clock)
        // Then scans are refused, and nothing is recorded, until the county's answer
        f.clock.set("2026-03-02", "08:20")
        #expect(throws: BackupError.restorePending(baseSeq: n)) { try station.scan(f.code(3)) }
        #expect(try head(station).seq == n)
        #expect(BackupError.restorePending(baseSeq: n).text(Localizer(.zhHans)).hasPrefix("恢复后需先与县里核对记录编号"))
        // An answer from before the backup's last event cannot say what the county holds now
        #expect(throws: BackupError.answerStale("stick", at: Timestamp(milliseconds: oldAnswer.server_ms).description)) {
            try station.takeHighWater(oldAnswer, source: "stick")
        }
        // The county's answer: events up to h are held
        let statement = try station.takeHighWater(countyAnswer, source: "stick")
        #expect(statement == RestoreStatement(baseSeq: n, baseHash: summary.base_hash.hexDecoded, countySeq: h))
        #expect(statement.eventSeq == h + 1 && statement.hasGap)
        let (seq, _) = try head(station)
        #expect(seq == h + 1)
        #expect(try station.restorePending() == nil)
        // The log verifies across the declared jump; scans go on after it
        #expect(try station.verifyLog().ok)
        #expect(try station.scan(f.code(3)).result == .accepted)
        #expect(try station.verifyLog().ok)
        // What is sent next starts at the restored event: the county holds the rest
        #expect(try station.syncState().ackedSeq == n)
        let batch = try #require(try station.nextBatch(after: n, limit: 100, maxBytes: 1 << 20)).batch
        #expect(batch.from == h + 1 && batch.to == h + 2)
        #expect(throws: BackupError.notPending) { try station.takeHighWater(countyAnswer, source: "stick") }
    }

    @Test("when the county holds no more than the backup, the restored event simply follows; a different event is a fork")
    func restoreNoGap() throws {
        let f = try Fixture()
        let home = f.dir + "/site"
        f.clock.set("2026-03-02", "08:10")
        _ = try f.station.scan(f.code(0))
        let (h, hHash) = try head(f.station)
        _ = try f.station.scan(f.code(1))
        let backup = f.dir + "/b.db"
        let n = try f.station.backup(to: backup).head_seq
        try Station.restore(home: home, from: backup, force: true, clock: f.clock)
        let station = try Station(home: home, clock: f.clock)
        f.clock.set("2026-03-02", "08:30")
        let forked = try f.county.signReceipt(device: station.deviceID, ackedSeq: h, headHash: [UInt8](repeating: 7, count: 32), deviceMs: 0)
        #expect(throws: BackupError.answerFork(seq: h)) { try station.takeHighWater(forked, source: "x") }
        let answer = try f.county.signReceipt(device: station.deviceID, ackedSeq: h, headHash: hHash, deviceMs: 0)
        let statement = try station.takeHighWater(answer, source: "x")
        #expect(!statement.hasGap && statement.eventSeq == n + 1)
        #expect(try station.verifyLog().ok && head(station).seq == n + 1)
        #expect(try station.syncState().ackedSeq == h)
    }

    @Test("a key taken with --with-key restores onto a PC that has none")
    func restoreOnNewPC() throws {
        let f = try Fixture()
        let backup = f.dir + "/b.db"
        try f.station.backup(to: backup, withKey: true)
        let summary = try Station.restore(home: f.dir + "/new-pc", from: backup, clock: f.clock)
        #expect(summary.key_installed && Files.mode(f.dir + "/new-pc/device.key") == 0o600)
        #expect(try Station(home: f.dir + "/new-pc", clock: f.clock).deviceID == f.station.deviceID)
        try Files.remove(backup + ".key")
        #expect(throws: BackupError.noKey(home: f.dir + "/pc3", file: backup)) { try Station.restore(home: f.dir + "/pc3", from: backup, clock: f.clock) }
    }

    @Test("an upgrade copies the database first (0600, the old version); a fresh database needs none")
    func copyBeforeMigration() throws {
        let dir = temporaryDirectory("fk-mig")
        defer { _ = try? removeTree(dir) }
        let path = dir + "/fieldkit.db"
        let v1 = ["CREATE TABLE a(x); INSERT INTO a VALUES (42);"]
        let v2 = v1 + ["CREATE TABLE b(y);"]
        let db = try Database(path: path)
        #expect(try db.migrate(v1) == nil)
        let when = ClassDay(iso: "2026-03-02")!.at(LocalTime("09:00")!)
        let copy = try #require(try db.migrate(v2, now: when))
        #expect(copy.hasPrefix(path + ".before-v2-2026-03-02T"))
        #expect(Files.mode(copy) == 0o600)
        let old = try Database(path: copy, readOnly: true)
        #expect(try old.userVersion == 1 && old.first("SELECT x FROM a") { $0.int64(0) } == 42)
        #expect(try db.userVersion == 2)
        #expect(try db.migrate(v2) == nil)  // nothing pending: no copy
    }

    @Test("a site database of the previous release is copied before it is migrated, and opens")
    func realUpgrade() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:10")
        _ = try f.station.scan(f.code(0))
        let home = f.dir + "/site"
        // Given the database as the previous release left it: the last migration undone
        let known = SiteSchema.migrations.count
        try f.station.db.execute("ALTER TABLE roster DROP COLUMN replaces; PRAGMA user_version = \(known - 1)")
        // When the new program opens it
        let station = try Station(home: home, clock: f.clock)
        // Then a copy of the old one sits beside it, private, at the old version, with the events
        let names = try FileManager.default.contentsOfDirectory(atPath: home).filter { $0.hasPrefix("fieldkit.db.before-v\(known)-2026-03-02T") }
        #expect(names.count == 1)
        let copy = home + "/" + names[0]
        #expect(Files.mode(copy) == 0o600)
        let old = try Database(path: copy, readOnly: true)
        #expect(try old.userVersion == known - 1)
        #expect(try old.first("SELECT max(seq) FROM events") { $0.int64(0) } == head(station).seq)
        #expect(try station.db.userVersion == known && station.verifyLog().ok)
    }

    @Test("a database newer than the program is refused, naming both versions")
    func downgradeRefused() throws {
        let f = try Fixture()
        try f.station.db.execute("PRAGMA user_version = 99")
        let error = SchemaTooNew(path: f.dir + "/site/fieldkit.db", fileVersion: 99, knownVersion: SiteSchema.migrations.count)
        #expect(throws: error) { try Station(home: f.dir + "/site", clock: f.clock) }
        #expect(error.text(Localizer(.en)).contains("version 99"))
    }
}

extension String {
    var hexDecoded: [UInt8] { hexBytes(self) ?? [] }
}
