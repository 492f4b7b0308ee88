@testable import CountyKit
import FieldKitCore
import FieldKitSQLite
import FoundationEssentials
import Glibc
import Testing

/// Three counties of one province (Shanxi, 14): two joined with the province key, one not.
/// Person 1 trains in welding, level 4, 2026 in both 141021 and 141022 and both counties claim
/// for it; person 2 gets the level-4 certificate subsidy in 141021 in 2025 and in 141022 in 2026.
@Suite("Province roll-up: a province pseudonym finds one person's repeat claims across counties")
struct ProvinceTests {
    let clock = TestClock("2026-02-20")
    let folder = temporaryDirectory()
    let keyFile: String
    let a: CountyOffice, b: CountyOffice, c: CountyOffice

    static let welding = OccupationCode("6-18-02-04")!
    static let roster = "A,\(validID(1))\nB,\(validID(2))\nC,\(validID(3))\n"

    init() throws {
        let (clock, folder) = (self.clock, self.folder)
        keyFile = folder + "/province.key"
        _ = try ProvinceKey.create(at: keyFile)
        func county(_ id: String) throws -> CountyOffice {
            let office = try CountyOffice.initialize(home: folder + "/" + id, countyID: id) { Timestamp(milliseconds: clock.ms) }
            try office.addSite(id: "S01", name: "School")
            try office.db.run("INSERT INTO devices (id, site_id, public_key, status, enrolled_ms) VALUES ('D1', 'S01', ?, 'active', 0)", [.text(id)])
            return office
        }
        a = try county("141021")
        b = try county("141022")
        c = try county("141023")
        // 141021 issues before joining (its vouchers are linked later); the others after.
        try addClass(a, 7)
        try a.issueVouchers(classID: 7, roster: Array(Self.roster.utf8))
        _ = try b.joinProvince("14", keyFile: keyFile)
        try addClass(b, 9)
        try b.issueVouchers(classID: 9, roster: Array(Self.roster.utf8))
        try addClass(c, 3)
        try c.issueVouchers(classID: 3, roster: Array(Self.roster.utf8))
    }

    func addClass(_ office: CountyOffice, _ id: UInt32) throws {
        try office.addClass(
            ClassInfo(
                id: id, name: "Welding", trade: Self.welding, level: 4, location: "", startDate: ClassDay(iso: "2026-03-02")!,
                endDate: ClassDay(iso: "2026-03-13")!, sessions: SessionWindow.parseList("08:30-11:30,14:00-17:00")!,
                program: "universal", policy: "shanxi-2023"),
            site: "S01")
    }

    func signIn(_ office: CountyOffice, seq: Int64, voucher: UInt64, classID: UInt32, day: String, quarantine: String? = nil) throws {
        let ms = ClassDay(iso: day)!.start().milliseconds + 30 * 60_000
        try office.db.run(
            """
            INSERT INTO events (device_id, seq, site_id, kind, direction, voucher_id, class_id, class_day, session_index,
                                flags, wall_ms, hash, body, received_ms, quarantine)
            VALUES ('D1', ?, 'S01', 'scan', 'in', ?, ?, ?, 0, '', ?, zeroblob(32), '{}', 0, ?)
            """,
            [.integer(seq), .integer(Int64(voucher)), .integer(Int64(classID)), .text(day), .integer(ms), .string(quarantine)])
    }

    func claim(_ voucher: UInt64, _ classID: UInt32, fen: Int64, year: Int = 2026, paysFor: String = "training") -> ClaimRecord {
        var c = ClaimRecord(
            voucherID: voucher, classID: classID, traineeRef: 1, policyID: "shanxi-2023", program: "universal",
            trade: "6-18-02-04", level: 4, year: year, amountFen: fen, detail: "[]")
        c.paysFor = paysFor
        return c
    }

    func provinceRef(_ office: CountyOffice, _ voucher: UInt64) throws -> Int64? {
        try office.db.first("SELECT province_ref FROM province_refs WHERE voucher_id = ?", [.integer(Int64(voucher))], { $0.int64(0) })
    }

    @Test("the same person has the same province pseudonym in every joined county, and different county pseudonyms")
    func pseudonyms() throws {
        #expect(try provinceRef(a, 1_000_001) == nil)  // issued before 141021 joined
        let (membership, unlinked) = try a.joinProvince("14", keyFile: keyFile)
        #expect(unlinked == 3)
        #expect(try b.provinceMembership() == membership)
        let (linked, unmatched) = try a.linkProvince(classID: 7, roster: Array((Self.roster + "D,\(validID(9))\n").utf8))
        #expect(linked == 3 && unmatched == [4])
        #expect(try a.linkProvince(classID: 7, roster: Array(Self.roster.utf8)).linked == 0)  // once
        #expect(try provinceRef(a, 1_000_001) != nil)
        #expect(try provinceRef(a, 1_000_001) == provinceRef(b, 1_000_001))
        #expect(try provinceRef(a, 1_000_001) != provinceRef(a, 1_000_002))
        // The counties' own pseudonyms differ: without the province's, no county could match them.
        let ref = "SELECT trainee_ref FROM vouchers WHERE id = 1000001"
        #expect(try a.db.first(ref, [], { $0.int64(0) }) != b.db.first(ref, [], { $0.int64(0) }))
        // A reissued voucher is the same person.
        clock.set("2026-03-03")
        let new = try b.reissueVoucher(1_000_002, reason: "lost")
        #expect(try provinceRef(b, new.voucherID) == provinceRef(b, 1_000_002))
        #expect(try c.provinceMembership() == nil && provinceRef(c, 1_000_001) == nil)
    }

    @Test("joining: a two-digit code the county is in, one key for good; a missing or broken key file is named")
    func joining() throws {
        #expect(throws: ProvinceError.badProvinceID("1")) { try a.joinProvince("1", keyFile: keyFile) }
        #expect(throws: ProvinceError.notInProvince(county: "141021", province: "15")) { try a.joinProvince("15", keyFile: keyFile) }
        #expect(throws: ProvinceError.badKeyFile(folder + "/none")) { try a.joinProvince("14", keyFile: folder + "/none") }
        try Files.writeAtomically(Array("not a key\n".utf8), to: folder + "/bad.key")
        #expect(throws: ProvinceError.badKeyFile(folder + "/bad.key")) { try a.joinProvince("14", keyFile: folder + "/bad.key") }
        #expect(throws: ProvinceError.keyFileExists(keyFile)) { try ProvinceKey.create(at: keyFile) }
        let other = folder + "/other.key"
        _ = try ProvinceKey.create(at: other)
        let joined = try #require(try b.provinceMembership())
        #expect(throws: ProvinceError.joinedElsewhere(joined)) { try b.joinProvince("14", keyFile: other) }
        #expect(try b.joinProvince("14", keyFile: keyFile).0 == joined)  // the same again: nothing changes
        #expect(throws: ProvinceError.notJoined) { try c.linkProvince(classID: 3, roster: Array(Self.roster.utf8)) }
        // Keys are private files.
        var st = stat()
        #expect(stat(keyFile, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(folder + "/141022/keys/province.key", &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test("the report: figures per county recomputable by hand, repeats across counties only, unjoined counties named")
    func report() throws {
        _ = try a.joinProvince("14", keyFile: keyFile)
        _ = try a.linkProvince(classID: 7, roster: Array(Self.roster.utf8))
        // 141021: person 1 two days, person 2 one day, one event held apart; 141022: person 1 one day (twice scanned).
        try signIn(a, seq: 1, voucher: 1_000_001, classID: 7, day: "2026-03-02")
        try signIn(a, seq: 2, voucher: 1_000_001, classID: 7, day: "2026-03-03")
        try signIn(a, seq: 3, voucher: 1_000_002, classID: 7, day: "2026-03-02")
        try signIn(a, seq: 4, voucher: 1_000_003, classID: 7, day: "2026-03-02", quarantine: "outside_window")
        try signIn(b, seq: 1, voucher: 1_000_001, classID: 9, day: "2026-03-02")
        try signIn(b, seq: 2, voucher: 1_000_001, classID: 9, day: "2026-03-02")
        clock.set("2026-03-20")
        try a.recordClaims([claim(1_000_001, 7, fen: 30_000), claim(1_000_002, 7, fen: 40_000, year: 2025, paysFor: "certificate")])
        try b.recordClaims([claim(1_000_001, 9, fen: 30_000), claim(1_000_002, 9, fen: 40_000, paysFor: "certificate")])
        try c.recordClaims([claim(1_000_001, 3, fen: 30_000)])
        _ = try a.recordPayment(classID: 7, voucherID: nil, reference: "T-1")

        let facts = try [a, b, c].map { try $0.provinceFacts(year: 2026) }
        let report = ProvinceReport(facts: facts, year: 2026)
        #expect(report.province == "14")
        #expect(report.notCompared == ["141023"])
        let ra = report.counties[0]
        #expect(ra.county == "141021" && ra.classes == 1 && ra.trainees == 3 && ra.days == 3 && ra.heldApart == 1)
        #expect(ra.claims == 1 && ra.claimedFen == 30_000 && ra.paidFen == 30_000 && ra.writtenOffFen == 0)  // 2025's not counted
        #expect(ra.unlinkedVouchers == 0 && ra.repeatedClaims == 2)
        let rb = report.counties[1]
        #expect(rb.days == 1 && rb.claims == 2 && rb.claimedFen == 70_000 && rb.paidFen == 0 && rb.repeatedClaims == 2)
        #expect(report.counties[2].unlinkedVouchers == 3)
        #expect(report.total.claimedFen == 130_000 && report.total.days == 4)
        #expect(report.repeats.map(\.rule).sorted() == ["certificate_level", "same_trade_level_year"])
        for r in report.repeats {
            #expect(r.counties == ["141021", "141022"])  // 141023 holds a claim for person 1 too, but is not compared
        }
        let training = try #require(report.repeats.first { $0.rule == "same_trade_level_year" })
        #expect(training.claims.map(\.state) == ["paid", "claimed"])
        let masked = try IDNumber(validID(1)).masked
        #expect(training.claims.allSatisfy { $0.idMasked == masked })
        // Another year: the training claims are of 2026, the certificate one spans 2025–2026.
        let earlier = ProvinceReport(facts: try [a, b].map { try $0.provinceFacts(year: 2025) }, year: 2025)
        #expect(earlier.repeats.map(\.rule) == ["certificate_level"])
        #expect(earlier.counties[0].claims == 1 && earlier.counties[0].days == 0 && earlier.counties[0].classes == 0)
        // The same from the files, read-only and without keys, as the province reads them.
        let fromFiles = try ["141021", "141022", "141023"].map {
            try CountyOffice.provinceFacts(databaseFile: folder + "/\($0)/county.db", year: 2026)
        }
        #expect(fromFiles.map(\.0) == facts.map(\.0))
    }
}
