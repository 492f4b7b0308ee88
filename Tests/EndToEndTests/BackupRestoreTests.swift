import Foundation
import Testing

/// Backup and restore through the real binaries and the real county server on loopback.
@Suite("End to end: backup, restore, and a county that sees the gap")
struct BackupRestoreTests {
    /// The station's device id (from the county's list).
    func deviceID(_ w: World) throws -> String {
        let list = try run("fieldkit-county", ["device", "list", "--home", w.county, "--json"])
        try expectOK(list)
        let line = try #require(list.stdout.split(separator: "\n").first)
        let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        return obj["device"] as! String
    }

    /// Removes the site's database and its write-ahead log: a disk that lost it.
    func loseDatabase(_ w: World) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: w.site + "/fieldkit.db" + suffix) }
    }

    @Test("scan, sync, backup, scan more, sync, lose the database, restore online: the county's high-water is learned, scans and sync go on, the county shows the statement")
    func restoreOnline() throws {
        let w = try World()
        let server = try CountyServer(home: w.county, log: w.dir + "/serve.log")
        defer { server.stop() }
        try w.enroll(server)
        // Given events at the county and a backup of them
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        try w.recordNoise(3)
        try expectOK(run("fieldkit", ["sync", "--home", w.site]))
        let backup = try json(run("fieldkit", ["backup", "--home", w.site, "--out", w.dir + "/stick.db", "--json"])) as! [String: Any]
        let n = (backup["head_seq"] as! NSNumber).intValue
        #expect(n == (try w.head()) && backup["key_file"] == nil)
        let mode = try FileManager.default.attributesOfItem(atPath: w.dir + "/stick.db")[.posixPermissions] as! NSNumber
        #expect(mode.intValue == 0o600)
        // And more events the county received after the backup
        try w.recordNoise(4)
        try expectOK(run("fieldkit", ["sync", "--home", w.site]))
        let h = try w.head()
        #expect(h == n + 4)

        // When the database is lost and restored from the stick
        loseDatabase(w)
        let restore = try run("fieldkit", ["restore", "--home", w.site, w.dir + "/stick.db", "--lang", "en"])
        try expectOK(restore)
        #expect(restore.stdout.contains("restored from \(w.dir)/stick.db: events up to \(n)"))
        #expect(restore.stdout.contains("the county holds \(n + 1) to \(h)"))
        #expect(restore.stdout.contains("recorded as event \(h + 1)"))

        // Then scans go on after the county's events, and the log verifies
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[1].code]))
        #expect(try w.head() == h + 2)
        try expectOK(run("fieldkit", ["log", "verify", "--home", w.site]))
        // And the sync is taken without a fork alarm
        let sync = try run("fieldkit", ["sync", "--home", w.site, "--json"])
        try expectOK(sync)
        let holds = try w.countyHolds()
        #expect(holds.all == h + 2)
        #expect(holds.pairs.last?.hasSuffix(":\(h + 2)") == true)
        // The county shows the device's statement
        let list = try run("fieldkit-county", ["device", "list", "--home", w.county, "--lang", "en"])
        #expect(list.stdout.contains("restored from a backup") && list.stdout.contains("events after \(h) made before the restore may be lost (device statement)"))
        let attendance = try run("fieldkit-county", ["attendance", "--home", w.county, "--class", "12", "--lang", "en"])
        try expectOK(attendance)
        #expect(attendance.stdout.contains("may be lost (device statement)"))
        // A second sync sends nothing
        try expectOK(run("fieldkit", ["sync", "--home", w.site]))
        // The evidence bag carries the declared jump and verifies
        try expectOK(run("fieldkit", ["evidence", "bundle", "--home", w.site, "--class", "12", "--out", w.dir + "/bag.tar"]))
        try expectOK(run("fieldkit", ["evidence", "verify", w.dir + "/bag.tar"]))
    }

    @Test("an offline restore refuses scans until the county's answer file is taken; then scans and the next sync go on")
    func restoreOffline() throws {
        let w = try World()
        var server = try CountyServer(home: w.county, log: w.dir + "/serve.log")
        try w.enroll(server)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        try expectOK(run("fieldkit", ["sync", "--home", w.site]))
        try expectOK(run("fieldkit", ["backup", "--home", w.site, "--out", w.dir + "/stick.db"]))
        try w.recordNoise(2)
        try expectOK(run("fieldkit", ["sync", "--home", w.site]))
        let h = try w.head()
        server.stop()
        // When restored with the county out of reach
        loseDatabase(w)
        let restore = try run("fieldkit", ["restore", "--home", w.site, w.dir + "/stick.db", "--lang", "zh"])
        try expectOK(restore)
        #expect(restore.stdout.contains("恢复后需先与县里核对记录编号"))
        // Then scans are refused, saying why and what to do, and nothing is recorded
        let refused = try run("fieldkit", ["scan", "--home", w.site, w.codes[1].code, "--lang", "zh"])
        #expect(refused.status == 1 && refused.stderr.contains("恢复后需先与县里核对记录编号"))
        let refusedEn = try run("fieldkit", ["scan", "--home", w.site, w.codes[1].code, "--lang", "en"])
        #expect(refusedEn.stderr.contains("fieldkit restore --answer"))
        // A transfer file waits too: the county says first how far it holds
        let export = try run("fieldkit", ["sync", "export", "--home", w.site, "--out", w.dir + "/transfer.json", "--lang", "en"])
        #expect(export.status == 1 && export.stderr.contains("check the event numbers with the county"))
        let status = try json(run("fieldkit", ["status", "--home", w.site, "--json"])) as! [String: Any]
        let warnings = (status["warnings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(warnings.contains("restore_pending"))
        // The county's answer, carried on the stick
        let device = try deviceID(w)
        try expectOK(run("fieldkit-county", ["device", "status", device, "--home", w.county, "--out", w.dir + "/answer.json"]))
        let taken = try run("fieldkit", ["restore", "--home", w.site, "--answer", w.dir + "/answer.json", "--lang", "en"])
        try expectOK(taken)
        #expect(taken.stdout.contains("recorded as event \(h + 1)"))
        // Taking it twice is a clear refusal
        let again = try run("fieldkit", ["restore", "--home", w.site, "--answer", w.dir + "/answer.json", "--lang", "en"])
        #expect(again.status == 1 && again.stderr.contains("no restore waits"))
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[1].code]))
        server = try CountyServer(home: w.county, log: w.dir + "/serve-2.log")
        defer { server.stop() }
        try expectOK(run("fieldkit", ["sync", "--home", w.site, "--county", server.url]))
        #expect(try w.countyHolds().all == h + 2)
    }

    @Test("a backup taken while another process scans in a loop is whole and verifies")
    func backupWhileScanning() throws {
        let w = try World()
        let lines = (0..<4000).map { "noise-\($0)" }.joined(separator: "\n") + "\n"
        try lines.write(toFile: w.dir + "/noise.txt", atomically: true, encoding: .utf8)
        let scanner = try Child(
            binDirectory + "/fieldkit", ["scan", "--home", w.site, "--stdin", "--json"], stdin: w.dir + "/noise.txt",
            stdout: w.dir + "/scan.out", stderr: w.dir + "/scan.err", env: ["LANG": "en_US.UTF-8"])
        defer {
            scanner.kill()
            _ = scanner.wait(seconds: 10)
        }
        var heads: [Int] = []
        for i in 0..<5 {
            let out = w.dir + "/b\(i).db"
            let b = try json(run("fieldkit", ["backup", "--home", w.site, "--out", out, "--json"])) as! [String: Any]
            heads.append((b["head_seq"] as! NSNumber).intValue)
            let check = try run("/usr/bin/sqlite3", [out, "PRAGMA integrity_check; SELECT count(*), max(seq) FROM events"])
            #expect(check.stdout == "ok\n\(heads[i])|\(heads[i])\n")
            // The copy restores onto a fresh home with the key (its log verifies there)
            let key = try String(contentsOfFile: w.site + "/device.key", encoding: .utf8)
            try key.write(toFile: out + ".key", atomically: true, encoding: .utf8)
            try expectOK(run("fieldkit", ["restore", "--home", w.dir + "/pc-\(i)", out]))
            try expectOK(run("fieldkit", ["log", "verify", "--home", w.dir + "/pc-\(i)"]))
        }
        #expect(heads.last! > heads.first!)
    }

    @Test("a database newer than the program: one clear line and exit 6, for the site and the county")
    func downgradeRefused() throws {
        let w = try World()
        try expectOK(run("/usr/bin/sqlite3", [w.site + "/fieldkit.db", "PRAGMA user_version = 99"]))
        let site = try run("fieldkit", ["status", "--home", w.site, "--lang", "en"])
        #expect(site.status == 6)
        #expect(site.stderr.split(separator: "\n").count == 1)
        #expect(site.stderr.contains("version 99") && site.stderr.contains("install the newer fieldkit package"))
        let zh = try run("fieldkit", ["status", "--home", w.site, "--lang", "zh"])
        #expect(zh.status == 6 && zh.stderr.contains("请安装较新的 fieldkit 安装包"))
        try expectOK(run("/usr/bin/sqlite3", [w.county + "/county.db", "PRAGMA user_version = 99"]))
        let county = try run("fieldkit-county", ["device", "list", "--home", w.county, "--lang", "en"])
        #expect(county.status == 6 && county.stderr.contains("version 99"))
    }

    @Test("a restore killed at any moment leaves the old database or the new one, never a mix")
    func restoreKilled() throws {
        let w = try World()
        try w.recordNoise(5)
        try expectOK(run("fieldkit", ["backup", "--home", w.site, "--out", w.dir + "/stick.db"]))
        let n = try w.head()
        try w.recordNoise(300)
        let live = try w.head()
        for round in 0..<12 {
            let child = try Child(
                binDirectory + "/fieldkit", ["restore", "--force", "--home", w.site, w.dir + "/stick.db"], stdin: "/dev/null",
                stdout: w.dir + "/r.out", stderr: w.dir + "/r.err", env: ["LANG": "en_US.UTF-8"])
            usleep(UInt32(round * 3_000))
            child.kill()
            _ = child.wait(seconds: 10)
            let head = try w.head()
            #expect(head == live || head == n, "round \(round): head \(head)")
            try expectOK(run("fieldkit", ["log", "verify", "--home", w.site]))
        }
    }
}
