@testable import CountyKit
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

@Suite("Reissue: a new voucher for the same person; attendance under both counts once")
struct ReissueTests {
    let clock = TestClock("2026-02-20")
    let county: CountyOffice

    init() throws {
        let clock = self.clock
        county = try CountyOffice.initialize(home: temporaryDirectory() + "/county", countyID: "141023") {
            Timestamp(milliseconds: clock.ms)
        }
        try county.addSite(id: "S01", name: "School")
        try county.addClass(
            ClassInfo(
                id: 7, name: "Welding", trade: OccupationCode("6-18-02-04")!, level: 4, location: "",
                startDate: ClassDay(iso: "2026-03-02")!, endDate: ClassDay(iso: "2026-03-13")!,
                sessions: SessionWindow.parseList("08:30-11:30,14:00-17:00")!, program: "universal", policy: "shanxi-2023"),
            site: "S01")
        try county.issueVouchers(classID: 7, roster: Array("A,\(validID(1)),失业人员\nB,\(validID(2))\n".utf8))
        try county.db.run(
            "INSERT INTO devices (id, site_id, public_key, status, enrolled_ms) VALUES ('D1', 'S01', 'k', 'active', 0)")
    }

    /// A synced scan, as the sync server stores it.
    func scan(_ seq: Int64, voucher: UInt64, _ direction: String, day: String, session: Int, at hhmm: String) throws {
        let parts = hhmm.split(separator: ":").map { Int64($0)! }
        let ms = ClassDay(iso: day)!.start().milliseconds + (parts[0] * 60 + parts[1]) * 60_000
        try county.db.run(
            """
            INSERT INTO events (device_id, seq, site_id, kind, direction, voucher_id, class_id, class_day, session_index,
                                flags, wall_ms, hash, body, received_ms)
            VALUES ('D1', ?, 'S01', 'scan', ?, ?, 7, ?, ?, ?, ?, zeroblob(32), '{}', 0)
            """,
            [
                .integer(seq), .text(direction), .integer(Int64(voucher)), .text(day), .integer(Int64(session)),
                .text(hhmm > "14:05" && direction == "in" ? "late" : ""), .integer(ms),
            ])
    }

    @Test("the new voucher is the same person's, signed with the active key; the old one is revoked and linked")
    func reissue() throws {
        let new = try county.reissueVoucher(1_000_001, reason: "lost the card")
        let old = try #require(try county.issuedVoucher(1_000_001))
        #expect(new.voucherID == 1_000_003)
        #expect((new.name, new.idMasked, new.category, new.classID) == (old.name, old.idMasked, old.category, old.classID))
        #expect((new.validFrom, new.validTo) == (old.validFrom, old.validTo))
        #expect(new.replaces == 1_000_001 && old.replacedBy == 1_000_003)
        #expect(old.revokedAt != nil && old.revokeReason == "lost the card")
        let body = try VoucherCode(text: new.code).body
        let first = try VoucherCode(text: old.code).body
        #expect(body.traineeRef == first.traineeRef && body.voucherID == 1_000_003 && body.classID == 7)
        // One holder per person: the new voucher stands for A.
        #expect(try county.holders(classID: 7).map(\.voucherID) == [1_000_002, 1_000_003])
    }

    @Test("refused: unknown voucher, empty reason, already replaced (naming the replacement), class ended")
    func refusals() throws {
        #expect(throws: CountyError.unknownVoucher(42)) { try county.reissueVoucher(42, reason: "lost") }
        #expect(throws: CountyError.reasonRequired) { try county.reissueVoucher(1_000_001, reason: "  ") }
        _ = try county.reissueVoucher(1_000_001, reason: "lost")
        #expect(throws: CountyError.alreadyReplaced(1_000_001, by: 1_000_003)) { try county.reissueVoucher(1_000_001, reason: "again") }
        // The replacement can itself be replaced; the chain ends at the newest.
        _ = try county.reissueVoucher(1_000_003, reason: "lost again")
        #expect(try county.currentVouchers(classID: 7) == [1_000_001: 1_000_004, 1_000_003: 1_000_004])
        clock.set("2026-03-14")
        #expect(throws: CountyError.classEnded(7, ended: ClassDay(iso: "2026-03-13")!.at(LocalTime("17:00")!).localDescription())) {
            try county.reissueVoucher(1_000_002, reason: "lost")
        }
        #expect(try county.issuedVoucher(1_000_002)?.revokedAt == nil, "nothing changed")
    }

    @Test("issuing again to a holder of a revoked voucher names the reissue command")
    func issueNamesReissue() throws {
        try county.revokeVoucher(1_000_001, reason: "left")
        let error = #expect(throws: CountyError.self) {
            try county.issueVouchers(classID: 7, roster: Array("A,\(validID(1))\n".utf8))
        }
        #expect(error?.text(Localizer(.en)).contains("voucher reissue 1000001") == true, "\(String(describing: error))")
    }

    @Test("attendance under the old and the new voucher is one person's: a session seen twice counts once, days add up")
    func attendanceJoins() throws {
        // Day 1 with the old voucher; in the afternoon the card is lost: signed in with the old
        // one, out with the new one after the site took the next bundle.
        try scan(1, voucher: 1_000_001, "in", day: "2026-03-02", session: 0, at: "08:29")
        try scan(2, voucher: 1_000_001, "out", day: "2026-03-02", session: 0, at: "11:31")
        try scan(3, voucher: 1_000_001, "in", day: "2026-03-02", session: 1, at: "13:58")
        clock.set("2026-03-02")
        let new = try county.reissueVoucher(1_000_001, reason: "lost").voucherID
        try scan(4, voucher: new, "in", day: "2026-03-02", session: 1, at: "14:30")
        try scan(5, voucher: new, "out", day: "2026-03-02", session: 1, at: "17:01")
        // Day 2 with the new one only.
        try scan(6, voucher: new, "in", day: "2026-03-03", session: 0, at: "08:28")
        try scan(7, voucher: new, "out", day: "2026-03-03", session: 0, at: "11:32")
        let held = try county.heldAttendance(classID: 7)
        #expect(held.allSatisfy { $0.voucherID == new }, "\(held)")
        #expect(held.map { "\($0.day) \($0.sessionIndex)" } == ["2026-03-02 0", "2026-03-02 1", "2026-03-03 0"])
        // The new voucher's state counts the person's attendance under both.
        #expect(try county.voucherStatus(voucherID: new).events == 7)
        #expect(try county.voucherStatus(voucherID: 1_000_001).state == .revoked)
        let afternoon = try #require(held.first { $0.day == ClassDay(iso: "2026-03-02")! && $0.sessionIndex == 1 })
        #expect(afternoon.outMs != nil && afternoon.inMs < afternoon.outMs!, "signed in with the old voucher, out with the new")
        #expect(!afternoon.flags.contains("late"), "the new voucher's later sign-in does not make the person late")
    }

    @Test("claims, payment and write-off: once per person")
    func writeOffOnce() throws {
        let new = try county.reissueVoucher(1_000_001, reason: "lost").voucherID
        clock.set("2026-03-14")
        let holders = try county.holders(classID: 7)
        try county.recordClaims(holders.map {
            ClaimRecord(
                voucherID: $0.voucherID, classID: 7, traineeRef: $0.traineeRef, policyID: "shanxi-2023", program: "universal",
                trade: "6-18-02-04", level: 4, year: 2026, amountFen: 100_000, detail: "[]")
        })
        try county.recordPayment(classID: 7, reference: "P-1")
        #expect(try county.writeOff(classID: 7) == [1_000_002, new])
        #expect(try county.voucherStatus(voucherID: 1_000_001).state == .revoked)
        #expect(try county.db.first("SELECT count(*) FROM claims", [], { $0.int64(0) }) == 2)
    }

    @Test("migration 7 rebuilds vouchers and claims of an existing county: every row, trigger and check kept")
    func migrationKeepsEverything() throws {
        let db = try Database(path: temporaryDirectory() + "/old.db")
        try db.migrate(Array(CountySchema.migrations.prefix(6)))
        try db.execute(
            """
            INSERT INTO signing_keys VALUES (5, 'k', 0, NULL, 'active', 0);
            INSERT INTO sites(id, name) VALUES ('S01', 'School');
            INSERT INTO classes VALUES (7, 'S01', 'W', '6-18-02-04', 4, '', 1, 2, '{}');
            INSERT INTO vouchers(id, class_id, trainee_ref, name, id_masked, kid, valid_from, valid_to, flags, code, issued_ms)
                VALUES (1000001, 7, 42, 'A', '1401**********1234', 5, 1, 2, 0, 'c', 0);
            INSERT INTO claims(voucher_id, class_id, trainee_ref, policy_id, program, trade, level, year, amount_fen, detail,
                               claimed_ms, paid_ms, payment_ref, written_off_ms, pays_for)
                VALUES (1000001, 7, 42, 'p', 'universal', '6-18-02-04', 4, 2026, 100000, '[]', 1, 2, 'P-1', 3, 'certificate');
            """)
        try db.migrate(CountySchema.migrations)
        #expect(try db.first("SELECT count(*) FROM vouchers", [], { $0.int64(0) }) == 1)
        #expect(try db.first("SELECT amount_fen || payment_ref || pays_for FROM claims", [], { $0.text(0) }) == "100000P-1certificate")
        #expect(try db.query("PRAGMA foreign_key_check", [], { $0.text(0) }).isEmpty)
        #expect(throws: SQLiteError.self) { try db.run("DELETE FROM claims") }
        #expect(throws: SQLiteError.self) { try db.run("UPDATE claims SET amount_fen = 0") }
        // One live voucher per person and class; a revoked one may be replaced, once.
        let copy = "INSERT INTO vouchers(id, class_id, trainee_ref, name, id_masked, kid, valid_from, valid_to, flags, code, issued_ms, replaces) "
        #expect(throws: SQLiteError.self) { try db.run(copy + "VALUES (1000002, 7, 42, 'A', 'x', 5, 1, 2, 0, 'c', 0, 1000001)") }
        try db.run("UPDATE vouchers SET revoked_ms = 5 WHERE id = 1000001")
        try db.run(copy + "VALUES (1000002, 7, 42, 'A', 'x', 5, 1, 2, 0, 'c', 0, 1000001)")
        try db.run("UPDATE vouchers SET revoked_ms = 6 WHERE id = 1000002")
        #expect(throws: SQLiteError.self) { try db.run(copy + "VALUES (1000003, 7, 42, 'A', 'x', 5, 1, 2, 0, 'c', 0, 1000001)") }
    }
}
