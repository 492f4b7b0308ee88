@testable import CountyKit
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

/// A clock the test moves.
final class TestClock: @unchecked Sendable {
    var ms: Int64
    init(_ iso: String) { ms = ClassDay(iso: iso)!.start().milliseconds + 12 * 3_600_000 }
    func set(_ iso: String) { ms = ClassDay(iso: iso)!.start().milliseconds + 12 * 3_600_000 }
}

@Suite("Voucher loop: issued → in training → completed → claimed → paid → written off")
struct VoucherLoopTests {
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
        try county.issueVouchers(classID: 7, roster: Array("A,\(validID(1))\nB,\(validID(2))\nC,\(validID(3))\n".utf8))
        try county.db.run(
            "INSERT INTO devices (id, site_id, public_key, status, enrolled_ms) VALUES ('D1', 'S01', 'k', 'active', 0)")
    }

    /// A synced scan, as the sync server stores it.
    func scan(_ seq: Int64, voucher: UInt64, _ direction: String, day: String, session: Int, at hhmm: String, flags: String = "") throws {
        let parts = hhmm.split(separator: ":").map { Int64($0)! }
        let ms = ClassDay(iso: day)!.start().milliseconds + (parts[0] * 60 + parts[1]) * 60_000
        try county.db.run(
            """
            INSERT INTO events (device_id, seq, site_id, kind, direction, voucher_id, class_id, class_day, session_index,
                                flags, wall_ms, hash, body, received_ms)
            VALUES ('D1', ?, 'S01', 'scan', ?, ?, 7, ?, ?, ?, ?, zeroblob(32), '{}', 0)
            """,
            [.integer(seq), .text(direction), .integer(Int64(voucher)), .text(day), .integer(Int64(session)), .text(flags), .integer(ms)])
    }

    func state(_ voucher: UInt64) throws -> VoucherState { try county.voucherStatus(voucherID: voucher).state }

    func claim(_ voucher: UInt64, fen: Int64 = 150_000) -> ClaimRecord {
        ClaimRecord(
            voucherID: voucher, classID: 7, traineeRef: 1, policyID: "shanxi-2023", program: "universal", trade: "6-18-02-04",
            level: 4, year: 2026, amountFen: fen, detail: "[]")
    }

    @Test("a class that has not ended has no claims: recording one before its last session ends is refused, after it works; pays_for is kept")
    func noClaimBeforeTheEnd() throws {
        clock.set("2026-03-13")  // noon of the last day: the afternoon session runs to 17:00
        #expect(throws: CountyError.classRunning(7, ends: ClassDay(iso: "2026-03-13")!.at(LocalTime("17:00")!))) {
            try county.recordClaims([claim(1_000_001)])
        }
        #expect(try county.claims(traineeRefs: [1]).isEmpty)
        clock.set("2026-03-14")
        var certificate = claim(1_000_001)
        certificate.paysFor = "certificate"
        #expect(try county.recordClaims([certificate]) == [1_000_001])
        #expect(try county.claims(traineeRefs: [1]).map(\.paysFor) == ["certificate"])
    }

    @Test("states follow the facts; payment and write-off are idempotent and final")
    func loop() throws {
        #expect(try county.voucherStatus(classID: 7).map(\.state) == [.issued, .issued, .issued])
        try scan(1, voucher: 1_000_001, "in", day: "2026-03-02", session: 0, at: "08:29")
        try scan(2, voucher: 1_000_001, "out", day: "2026-03-02", session: 0, at: "11:31")
        clock.set("2026-03-02")
        #expect(try state(1_000_001) == .inTraining)
        clock.set("2026-03-14")
        #expect(try state(1_000_001) == .completed)
        // B never came: expired once its last valid day has passed; C was revoked.
        #expect(try state(1_000_002) == .expired)
        try county.revokeVoucher(1_000_003, reason: "moved away")
        #expect(try state(1_000_003) == .revoked)

        // Paying or writing off what was not claimed is refused, naming the state.
        #expect(throws: CountyError.notClaimed(1_000_001, state: "completed")) {
            try county.recordPayment(voucherID: 1_000_001, reference: "PAY-1")
        }
        #expect(throws: CountyError.referenceRequired) { try county.recordPayment(classID: 7, reference: "  ") }

        #expect(try county.recordClaims([claim(1_000_001)]) == [1_000_001])
        #expect(try county.recordClaims([claim(1_000_001, fen: 1)]) == [], "a retry records nothing twice")
        #expect(try state(1_000_001) == .claimed)
        #expect(try county.voucherStatus(voucherID: 1_000_001).amount_fen == 150_000)

        #expect(throws: CountyError.notPaid(1_000_001, state: "claimed")) { try county.writeOff(voucherID: 1_000_001) }
        #expect(try county.recordPayment(classID: 7, reference: "PAY-1") == [1_000_001])
        #expect(try county.recordPayment(classID: 7, reference: "PAY-1") == [], "the same payment again changes nothing")
        #expect(throws: CountyError.alreadyPaid(1_000_001, reference: "PAY-1")) {
            try county.recordPayment(voucherID: 1_000_001, reference: "PAY-2")
        }
        #expect(try state(1_000_001) == .paid)
        #expect(try county.writeOff(classID: 7) == [1_000_001])
        #expect(try county.writeOff(classID: 7) == [])
        #expect(try state(1_000_001) == .writtenOff)
        // Final, even for someone with the database open.
        #expect(throws: SQLiteError.self) { try county.db.run("UPDATE claims SET amount_fen = 0") }
        #expect(throws: SQLiteError.self) { try county.db.run("DELETE FROM claims") }
        #expect(try county.claims(traineeRefs: [1]).first?.writtenOffMs != nil)
    }

    @Test("attendance is rebuilt per voucher, day and session: first in, last out, every flag")
    func rebuilt() throws {
        try scan(1, voucher: 1_000_001, "in", day: "2026-03-02", session: 0, at: "08:29")
        try scan(2, voucher: 1_000_001, "in", day: "2026-03-02", session: 0, at: "08:35", flags: "late")
        try scan(3, voucher: 1_000_001, "out", day: "2026-03-02", session: 0, at: "11:00")
        try scan(4, voucher: 1_000_001, "out", day: "2026-03-02", session: 0, at: "11:31")
        try scan(5, voucher: 1_000_002, "out", day: "2026-03-02", session: 1, at: "17:00")
        try scan(6, voucher: 1_000_002, "in", day: "2026-03-03", session: 1, at: "14:00")
        let held = try county.heldAttendance(classID: 7)
        #expect(held.count == 2, "an out with no in is no attendance")
        #expect(held[0].voucherID == 1_000_001 && held[0].flags == ["late"])
        #expect(held[0].outMs! - held[0].inMs == (3 * 60 + 2) * 60_000)
        #expect(held[1].voucherID == 1_000_002 && held[1].outMs == nil && held[1].sessionIndex == 1)
    }
}
