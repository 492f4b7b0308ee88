@testable import CountyKit
import FieldKitCore
import FieldKitSQLite
@testable import FieldKitStore
import FoundationEssentials
import Testing

@Suite("Station: scans on a real SQLite file")
struct StationTests {
    @Test("a class day: sign-in, duplicate, sign-out, already out, refusals")
    func classDay() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:10")
        // Given a trainee arriving 20 minutes early
        var o = try f.station.scan(f.code(0))
        #expect(o.result == .accepted && o.direction == .signIn && o.flags.isEmpty)
        #expect(o.name == "Trainee 0" && o.idMasked == "1410**********" + String(idNumber(0).suffix(4)))
        // When the scanner double-sends, it is a duplicate naming the earlier time
        f.clock.set("2026-03-02", "08:12")
        o = try f.station.scan(f.code(0) + "\r\n")
        #expect(o.result == .duplicate && o.reason == .alreadyIn && o.earlierTime == ClassDay(iso: "2026-03-02")!.at(LocalTime("08:10")!))
        #expect(o.message.contains("08:10"))
        // Then a late one is flagged late
        f.clock.set("2026-03-02", "08:50")
        o = try f.station.scan(f.code(1))
        #expect(o.result == .accepted && o.flags == ["late"])
        // And the sign-out ends the session for trainee 0
        f.clock.set("2026-03-02", "11:31")
        o = try f.station.scan(f.code(0))
        #expect(o.result == .accepted && o.direction == .signOut)
        o = try f.station.scan(f.code(0))
        #expect(o.result == .duplicate && o.reason == .alreadyOut)
        // A class of another site, a malformed code
        o = try f.station.scan(f.vouchers.last!.code)
        #expect(o.result == .rejected && o.reason == .wrongSite)
        o = try f.station.scan("12345")
        #expect(o.result == .rejected && o.reason == .malformed)
        // Between sessions
        f.clock.set("2026-03-02", "12:40")
        o = try f.station.scan(f.code(2))
        #expect(o.result == .rejected && o.reason == .outsideSession)
        // The afternoon is a new session
        f.clock.set("2026-03-02", "13:40")
        o = try f.station.scan(f.code(0))
        #expect(o.result == .accepted && o.direction == .signIn)
        #expect(try f.station.verifyLog().ok)
    }

    @Test("a forged code and a revoked voucher are refused, and the refusals are recorded")
    func forgeryAndRevocation() throws {
        let f = try Fixture()
        try f.county.revokeVoucher(f.vouchers[3].voucherID, reason: "reissued")
        f.clock.time = f.clock.time.adding(minutes: 1)
        _ = try f.station.importTrust(fileBytes: f.county.exportBundle(site: "S01").fileBytes)
        f.clock.set("2026-03-02", "08:30")
        var digits = Array(f.code(1).utf8)
        digits[246] = digits[246] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        var o = try f.station.scan(String(decoding: digits, as: UTF8.self))
        #expect(o.result == .rejected && o.reason == .badSignature)
        o = try f.station.scan(f.code(3))
        #expect(o.result == .rejected && o.reason == .revoked && o.message.contains("reissued"))
        let refused = try f.station.events().filter { $0.kind == .refused }
        #expect(refused.map(\.reason) == ["bad_signature", "revoked"])
        #expect(refused[0].code?.count == 247)
    }

    @Test("malformed input is stored only as a digest: an ID number typed by mistake never reaches the log")
    func noPersonalDataInLog() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:30")
        let typed = idNumber(4)
        _ = try f.station.scan(typed)
        let jsonl = String(decoding: try f.station.exportJSONL(), as: UTF8.self)
        #expect(!jsonl.contains(typed))
        #expect(!jsonl.contains("Trainee"))
        let raw = try Files.read(f.dir + "/site/fieldkit.db") + ((try? Files.read(f.dir + "/site/fieldkit.db-wal")) ?? [])
        #expect(!String(decoding: raw, as: UTF8.self).contains(typed))
    }

    @Test("a sign-in left open is flagged at the session's end, and a checkpoint is signed")
    func openAtEnd() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:30")
        _ = try f.station.scan(f.code(0))
        _ = try f.station.scan(f.code(1))
        f.clock.set("2026-03-02", "11:40")
        _ = try f.station.scan(f.code(1))
        f.clock.set("2026-03-02", "12:31")
        let status = try f.station.status()
        #expect(status.today.first?.openAtEnd == 1)
        #expect(status.today.first?.signedOut == 1)
        let events = try f.station.events()
        let open = events.filter { $0.kind == .openAtEnd }
        #expect(open.count == 1 && open[0].voucherID == f.vouchers[0].voucherID && open[0].has(.open))
        #expect(status.lastCheckpointSeq == events.last?.seq)
        let v = try f.station.verifyLog()
        #expect(v.ok && v.checkpoints == 1)
    }

    @Test("a clock that went back flags every event until it recovers")
    func clockBack() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "09:00")
        _ = try f.station.scan(f.code(0))
        f.clock.set("2026-03-02", "08:50")
        var o = try f.station.scan(f.code(1))
        #expect(o.result == .accepted && o.flags.contains("clock"))
        #expect(o.warnings.contains { $0.code == "clock_behind" })
        f.clock.set("2026-03-02", "09:01")
        o = try f.station.scan(f.code(2))
        #expect(!o.flags.contains("clock") && !o.warnings.contains { $0.code == "clock_behind" })
    }

    @Test("manual entries need a reason, are flagged, and may carry an earlier time")
    func manual() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "09:00")
        #expect(throws: StationError.reasonRequired) {
            try f.station.manual(voucherID: f.vouchers[0].voucherID, direction: .signIn, reason: "  ")
        }
        #expect(throws: StationError.self) {
            try f.station.manual(voucherID: f.vouchers[0].voucherID, direction: .signOut, reason: "phone dead")
        }
        #expect(throws: StationError.notOnRoster(42)) {
            try f.station.manual(voucherID: 42, direction: .signIn, reason: "phone dead")
        }
        let at = ClassDay(iso: "2026-03-02")!.at(LocalTime("08:31")!)
        var o = try f.station.manual(voucherID: f.vouchers[0].voucherID, direction: .signIn, reason: "phone dead", at: at)
        #expect(o.result == .accepted && o.flags == ["manual"] && o.time == at)
        o = try f.station.scan(f.code(0))
        #expect(o.result == .accepted && o.direction == .signOut)
        let e = try f.station.events().first { $0.kind == .manual }!
        #expect(e.reason == "phone dead" && e.wallTime == at)
    }

    @Test("a session ending late at night: the sign-out window runs past midnight")
    func pastMidnight() throws {
        let f = try Fixture(sessions: "19:00-23:30")
        f.clock.set("2026-03-02", "19:00")
        _ = try f.station.scan(f.code(0))
        f.clock.set("2026-03-03", "00:20")
        let o = try f.station.scan(f.code(0))
        #expect(o.result == .accepted && o.direction == .signOut)
        let e = try f.station.events().last!
        #expect(e.classDay?.description == "2026-03-02")
        // A sign-in opening before midnight for a session starting just after it
        let g = try Fixture(sessions: "00:10-02:00")
        g.clock.set("2026-03-02", "23:50")
        let p = try g.station.scan(g.code(0))
        #expect(p.result == .accepted && p.direction == .signIn)
        #expect(try g.station.events().last!.classDay?.description == "2026-03-03")
    }

    @Test("manual entries after the session closed are settled: counters never go negative")
    func lateManualEntries() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:30")
        _ = try f.station.scan(f.code(0))
        f.clock.set("2026-03-02", "13:00")  // the morning closed at 12:30 with voucher 0 open
        let at = ClassDay(iso: "2026-03-02")!.at(LocalTime("11:30")!)
        let out = try f.station.manual(voucherID: f.vouchers[0].voucherID, direction: .signOut, reason: "forgot", at: at)
        #expect(out.result == .accepted && out.flags == ["manual"])
        let late = try f.station.manual(voucherID: f.vouchers[1].voucherID, direction: .signIn, reason: "phone dead", at: at)
        #expect(late.result == .accepted)
        let morning = try f.station.status().today[0]
        #expect(morning.signedInNow == 0 && morning.signedOut == 1 && morning.openAtEnd == 1)
        #expect(try f.station.events().filter { $0.kind == .openAtEnd }.map(\.voucherID) == [f.vouchers[0].voucherID, f.vouchers[1].voucherID])
        #expect(throws: StationError.outBeforeIn(f.vouchers[0].voucherID, signedInAt: "14:10")) {
            f.clock.set("2026-03-02", "14:10")
            _ = try f.station.scan(f.code(0))
            _ = try f.station.manual(voucherID: f.vouchers[0].voucherID, direction: .signOut, reason: "x",
                                 at: ClassDay(iso: "2026-03-02")!.at(LocalTime("14:00")!))
        }
        #expect(try f.station.verifyLog().ok)
    }

    @Test("trust: rollback refused, same bundle idempotent, other site refused, expiry warns")
    func trustRules() throws {
        let f = try Fixture()
        let old = try f.county.exportBundle(site: "S01").fileBytes
        let newer = try f.county.exportBundle(site: "S01").fileBytes
        #expect(try f.station.importTrust(fileBytes: newer).changed)
        #expect(try f.station.importTrust(fileBytes: newer).changed == false)
        #expect(throws: TrustBundleError.rollback(2, held: 3)) { try f.station.importTrust(fileBytes: old) }
        // The same sequence with other content (a county restored from an old backup)
        try f.county.db.run("UPDATE sites SET bundle_sequence = 2 WHERE id = 'S01'")
        try f.county.addSite(id: "S03", name: "x")
        let reused = try f.county.exportBundle(site: "S01", validDays: 5).fileBytes
        #expect(throws: TrustBundleError.sequenceReused(3)) { try f.station.importTrust(fileBytes: reused) }
        #expect(throws: TrustBundleError.self) { try f.station.importTrust(fileBytes: f.county.exportBundle(site: "S02").fileBytes) }
        #expect(throws: TrustBundleError.self) { try f.station.importTrust(fileBytes: Array("garbage".utf8)) }
        // Bundles exported before the class opened (2026-03-02) warn while it runs
        f.clock.set("2026-03-02", "09:00")
        #expect(try f.station.status().warnings.contains { $0.code == "trust_older_than_class" })
        f.clock.set("2026-04-03", "09:00")
        #expect(try f.station.status().warnings.contains { $0.code == "trust_expired" })
        f.clock.set("2026-04-20", "09:00")
        #expect(try f.station.status().warnings.contains { $0.code == "trust_stale" })
    }

    @Test("changing one byte of any column of any event breaks verification at that event")
    func tamper() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:30")
        for i in 0..<5 { _ = try f.station.scan(f.code(i)) }
        _ = try f.station.scan("junk")
        try f.station.checkpoint(reason: "test")
        let count = try f.station.verifyLog().events
        let path = f.dir + "/site/fieldkit.db"
        let copy = f.dir + "/pristine.db"
        try f.station.db.execute("PRAGMA wal_checkpoint(TRUNCATE); VACUUM INTO '\(copy)'")
        var cases = 0
        for seq in 1...count {
            for column in EventHash.columns + ["hash"] where column != "seq" {
                // Given a pristine copy of the log
                try? removeTree(path + "-wal")
                try? removeTree(path + "-shm")
                try Files.writeAtomically(try Files.read(copy), to: path)
                let db = try Database(path: path)
                try db.execute("DROP TRIGGER events_append_only_update; PRAGMA ignore_check_constraints = ON; PRAGMA foreign_keys = OFF")
                // When one byte of one column changes
                let changed = try db.first("SELECT typeof(\(column)) FROM events WHERE seq = ?", [.integer(seq)]) { $0.text(0) } ?? nil
                switch changed {
                case "integer": try db.run("UPDATE events SET \(column) = \(column) + 1 WHERE seq = ?", [.integer(seq)])
                case "text":
                    try db.run(
                        "UPDATE events SET \(column) = CASE WHEN substr(\(column), 1, 1) = 'x' THEN 'y' ELSE 'x' END || substr(\(column), 2) WHERE seq = ?",
                        [.integer(seq)])
                case "blob":
                    // (a hash whose first byte is already zero must still change: 1 in 256)
                    try db.run(
                        "UPDATE events SET \(column) = CASE WHEN substr(\(column), 1, 1) = x'00' THEN x'01' ELSE x'00' END || substr(\(column), 2) WHERE seq = ?",
                        [.integer(seq)])
                default:  // NULL: a value where there was none
                    try db.run("UPDATE events SET \(column) = 1 WHERE seq = ?", [.integer(seq)])
                }
                // Then verification fails and names that event
                let station = try Station(home: f.dir + "/site", clock: f.clock)
                let v = try station.verifyLog()
                #expect(!v.ok && v.firstBrokenSeq == seq, "seq \(seq) column \(column): \(v)")
                cases += 1
            }
        }
        #expect(cases == Int(count) * 18)
        // Deleting an event is named too
        try Files.writeAtomically(try Files.read(copy), to: path)
        let db = try Database(path: path)
        try db.execute("PRAGMA foreign_keys = OFF; DROP TRIGGER events_append_only_delete; DELETE FROM events WHERE seq = 4")
        let v = try Station(home: f.dir + "/site", clock: f.clock).verifyLog()
        #expect(!v.ok && v.firstBrokenSeq == 4)
    }

    @Test("the log refuses updates and deletes")
    func appendOnly() throws {
        let f = try Fixture()
        #expect(throws: SQLiteError.self) { try f.station.db.run("UPDATE events SET note = 'x' WHERE seq = 1") }
        #expect(throws: SQLiteError.self) { try f.station.db.run("DELETE FROM events") }
    }

    @Test("the device key file is private (0600) and the site keeps no full ID number")
    func privacy() throws {
        let f = try Fixture()
        #expect(Files.mode(f.dir + "/site/device.key") == 0o600)
        for name in ["root.key", "pseudonym.key", "voucher-\(try f.county.listKeys()[0].kid).key"] {
            #expect(Files.mode(f.dir + "/county/keys/" + name) == 0o600, "\(name)")
        }
        let site = String(decoding: try Files.read(f.dir + "/site/fieldkit.db") + ((try? Files.read(f.dir + "/site/fieldkit.db-wal")) ?? []), as: UTF8.self)
        let county = String(decoding: try Files.read(f.dir + "/county/county.db") + ((try? Files.read(f.dir + "/county/county.db-wal")) ?? []), as: UTF8.self)
        for i in 0..<5 {
            #expect(!site.contains(idNumber(i)))
            #expect(!county.contains(idNumber(i)))
        }
    }

    @Test("100k random and mutated codes through the scan path: no crash, each refused with a reason")
    func fuzzScanPath() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:30")
        var rng = SplitMix64(seed: 42)
        let base = Array(f.code(0).utf8)
        var reasons: [ScanReason: Int] = [:]
        var accepted = 0
        try f.station.db.transaction(immediate: true) {}  // warm
        for i in 0..<100_000 {
            var s = base
            switch i % 4 {
            case 0: s[Int(rng.next() % 247)] = UInt8(48 + rng.next() % 10)
            case 1: s = (0..<Int(rng.next() % 260)).map { _ in UInt8(48 + rng.next() % 10) }
            case 2: s = Array("9601".utf8) + (0..<243).map { _ in UInt8(48 + rng.next() % 10) }
            default: s = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            let o = try f.station.scan(String(decoding: s, as: UTF8.self))
            if o.result == .accepted {
                accepted += 1
            } else {
                #expect(o.reason != nil && !o.message.isEmpty)
                reasons[o.reason!, default: 0] += 1
            }
        }
        #expect(accepted <= 1)  // only the unchanged code can sign in, once
        #expect(reasons[.malformed, default: 0] > 30_000)
        #expect(reasons[.badSignature, default: 0] + reasons[.unknownKey, default: 0] > 1000)
        #expect(try f.station.verifyLog().ok)
    }
}

@Suite("Day sheet")
struct DaySheetTests {
    @Test("every roster trainee per session, times and flags; totals add up")
    func sheet() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:30")
        _ = try f.station.scan(f.code(0))
        f.clock.set("2026-03-02", "09:00")
        _ = try f.station.scan(f.code(1))
        f.clock.set("2026-03-02", "11:35")
        _ = try f.station.scan(f.code(0))
        _ = try f.station.manual(voucherID: f.vouchers[2].voucherID, direction: .signIn, reason: "phone dead",
                                 at: ClassDay(iso: "2026-03-02")!.at(LocalTime("08:40")!))
        f.clock.set("2026-03-02", "13:00")
        let sheet = try f.station.daySheet(classID: 12, day: ClassDay(iso: "2026-03-02")!)
        let morning = sheet.sessions[0]
        #expect(morning.rows.count == 5 && morning.expected == 5)
        #expect(morning.rows[0].signedOut != nil && morning.rows[0].flags.isEmpty)
        #expect(morning.rows[1].flags == [.late, .open])
        #expect(morning.rows[2].flags == [.manual, .open])
        #expect(morning.signedIn == 3 && morning.signedOut == 1 && morning.open == 2 && morning.absent == 2)
        #expect(sheet.sessions[1].signedIn == 0)
        #expect(throws: StationError.unknownClass(13)) { try f.station.daySheet(classID: 13, day: ClassDay(iso: "2026-03-02")!) }
    }

    @Test("manual reasons, revocations, the day's refusals and the instructor reach the sheet")
    func auditorsSheet() throws {
        let f = try Fixture()
        try f.county.revokeVoucher(f.vouchers[4].voucherID, reason: "left the class")
        _ = try f.station.importTrust(fileBytes: f.county.exportBundle(site: "S01").fileBytes)
        f.clock.set("2026-03-02", "08:26")
        _ = try f.station.scan(f.code(0))
        _ = try f.station.scan(f.code(4))  // revoked
        _ = try f.station.scan("https://weixin.qq.com/r/abc")  // not a voucher
        _ = try f.station.scan(f.vouchers[5].code)  // class 13, another site: not this sheet's
        f.clock.set("2026-03-02", "09:00")
        _ = try f.station.manual(voucherID: f.vouchers[1].voucherID, direction: .signIn, reason: "phone dead")
        f.clock.set("2026-03-02", "10:00")
        _ = try f.station.scan(f.code(0))
        _ = try f.station.manual(voucherID: f.vouchers[1].voucherID, direction: .signOut, reason: "left for hospital")
        f.clock.set("2026-03-02", "18:00")
        let sheet = try f.station.daySheet(classID: 12, day: ClassDay(iso: "2026-03-02")!, instructor: "  王老师 ")
        #expect(sheet.instructor == "王老师" && sheet.location == "古县")
        let morning = sheet.sessions[0]
        #expect(morning.rows[1].manualReasons == ["phone dead", "left for hospital"])
        #expect(sheet.marks(morning.rows[0], in: morning) == [.earlyLeave])
        #expect(sheet.minutesAttended(morning.rows[0], in: morning) == 90)
        #expect(sheet.marks(morning.rows[2], in: morning) == [.absent])
        // The revoked voucher left the roster with the new bundle; its refused scan keeps it on the sheet.
        let revoked = try #require(morning.rows.last)
        #expect(morning.rows.count == 5 && revoked.voucherID == f.vouchers[4].voucherID)
        #expect(sheet.marks(revoked, in: morning) == [.revoked(on: ClassDay(iso: "2026-03-01")!)])
        #expect(morning.expected == 4 && morning.absent == 2)
        try #require(sheet.refusals.map(\.reason) == ["revoked", "malformed"])
        #expect(sheet.refusals[0].voucherID == f.vouchers[4].voucherID && sheet.refusals[1].voucherID == nil)
        let blank = try f.station.daySheet(classID: 12, day: ClassDay(iso: "2026-03-02")!, instructor: " ")
        #expect(blank.instructor == nil)
    }
}
