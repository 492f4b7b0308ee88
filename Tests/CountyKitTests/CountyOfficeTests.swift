import CountyKit
import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

func temporaryDirectory() -> String {
    // Scripts/test points FIELDKIT_TEST_TMP at one folder it removes afterwards.
    let base = getenv("FIELDKIT_TEST_TMP").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(base)/fkc-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

func validID(_ n: Int) -> String {
    let first = "14102319800101" + String(String(1000 + n).suffix(3))
    return first + String(IDNumber.checkCharacter(for: first))
}

@Suite("County office")
struct CountyOfficeTests {
    func makeCounty() throws -> CountyOffice {
        let home = temporaryDirectory() + "/county"
        let county = try CountyOffice.initialize(home: home, countyID: "141023")
        try county.addSite(id: "S01", name: "School")
        try county.addClass(
            ClassInfo(
                id: 7, name: "Welding", trade: OccupationCode("6-18-02-04")!, level: 4, location: "",
                startDate: ClassDay(iso: "2026-03-02")!, endDate: ClassDay(iso: "2026-03-20")!,
                sessions: SessionWindow.parseList("08:30-11:30")!), site: "S01")
        return county
    }

    @Test("init writes root.pub and private keys; a second init changes nothing")
    func initialise() throws {
        let county = try makeCounty()
        #expect(Files.exists(county.home + "/root.pub"))
        #expect(Files.mode(county.home + "/keys/root.key") == 0o600)
        #expect(throws: CountyError.self) { try CountyOffice.initialize(home: county.home, countyID: "141023") }
        #expect(throws: CountyError.badCountyID("abc")) { try CountyOffice.initialize(home: temporaryDirectory(), countyID: "abc") }
    }

    @Test("a roster with one bad row issues nothing; a good one issues all, in order")
    func allOrNothing() throws {
        let county = try makeCounty()
        let bad = "A,\(validID(1))\nB,\(validID(2).dropLast())X\n"
        #expect(throws: RosterError.self) { try county.issueVouchers(classID: 7, roster: Array(bad.utf8)) }
        #expect(try county.vouchers().isEmpty)
        let issued = try county.issueVouchers(classID: 7, roster: Array("A,\(validID(1))\nB,\(validID(2)),失业人员\n".utf8))
        #expect(issued.map(\.voucherID) == [1_000_001, 1_000_002])
        #expect(issued[1].category == "失业人员")
        #expect(issued.allSatisfy { $0.code.count == 247 && !$0.code.contains(validID(1)) })
        // The same person twice in one class is refused, whole roster again
        #expect(throws: CountyError.self) {
            try county.issueVouchers(classID: 7, roster: Array("C,\(validID(3))\nA again,\(validID(1))\n".utf8))
        }
        #expect(try county.vouchers().count == 2)
        #expect(throws: CountyError.unknownClass(99)) { try county.issueVouchers(classID: 99, roster: Array("A,\(validID(1))".utf8)) }
    }

    @Test("the code carries the class, trade, level, dates and the pseudonym; it verifies with the listed key")
    func codeContents() throws {
        let county = try makeCounty()
        let v = try county.issueVouchers(classID: 7, roster: Array("A,\(validID(1))\n".utf8))[0]
        let code = try VoucherCode(text: v.code)
        #expect(code.body.classID == 7 && code.body.trade.description == "6-18-02-04" && code.body.level == 4)
        #expect(code.body.validFrom.description == "2026-03-02" && code.body.validTo.description == "2026-03-20")
        let key = try county.listKeys()[0]
        #expect(code.body.kid == key.kid)
        #expect(code.verify(with: try Curve25519.Signing.PublicKey(rawRepresentation: key.rawPublicKey!)))
    }

    @Test("rotation retires the old key for as long as its vouchers are valid; bundles carry both")
    func rotation() throws {
        let county = try makeCounty()
        let old = try county.listKeys()[0]
        _ = try county.issueVouchers(classID: 7, roster: Array("A,\(validID(1))\n".utf8))
        let new = try county.rotateKey()
        let keys = try county.listKeys()
        #expect(keys.count == 2 && new.status == .active)
        let retired = keys.first { $0.kid == old.kid }!
        #expect(retired.status == .retired && retired.validTo?.description == "2026-03-20")
        let v2 = try county.issueVouchers(classID: 7, roster: Array("B,\(validID(2))\n".utf8))[0]
        #expect(try VoucherCode(text: v2.code).body.kid == new.kid)
        let bundle = try county.exportBundle(site: "S01").open(rootKey: county.rootPublicKey)
        #expect(Set(bundle.signingKeys.map(\.kid)) == [old.kid, new.kid])
        #expect(Files.mode(county.home + "/keys/voucher-\(new.kid).key") == 0o600)
    }

    @Test("revoking a compromised key makes a new active one; the bundle marks it revoked")
    func keyRevocation() throws {
        let county = try makeCounty()
        let old = try county.listKeys()[0]
        try county.revokeKey(old.kid)
        let keys = try county.listKeys()
        #expect(keys.first { $0.kid == old.kid }?.status == .revoked)
        #expect(keys.filter { $0.status == .active }.count == 1)
        #expect(throws: CountyError.self) { try county.revokeKey(old.kid) }
        #expect(throws: CountyError.self) { try county.revokeKey(KeyID(0xDEAD_BEEF)) }
    }

    @Test("revocation: needs a reason, once; the bundle lists it and drops it from the roster")
    func revocation() throws {
        let county = try makeCounty()
        let v = try county.issueVouchers(classID: 7, roster: Array("A,\(validID(1))\nB,\(validID(2))\n".utf8))
        #expect(throws: CountyError.reasonRequired) { try county.revokeVoucher(v[0].voucherID, reason: " ") }
        try county.revokeVoucher(v[0].voucherID, reason: "reissued")
        #expect(throws: CountyError.self) { try county.revokeVoucher(v[0].voucherID, reason: "again") }
        #expect(throws: CountyError.unknownVoucher(5)) { try county.revokeVoucher(5, reason: "x") }
        let b1 = try county.exportBundle(site: "S01").open(rootKey: county.rootPublicKey)
        #expect(b1.revocations.map(\.voucherID) == [v[0].voucherID] && b1.roster.map(\.voucherID) == [v[1].voucherID])
        let b2 = try county.exportBundle(site: "S01").open(rootKey: county.rootPublicKey)
        #expect(b2.sequence == b1.sequence + 1)
        #expect(throws: CountyError.unknownSite("S09")) { try county.exportBundle(site: "S09") }
    }

    @Test("sites and classes: ids checked, duplicates refused")
    func sitesAndClasses() throws {
        let county = try makeCounty()
        #expect(throws: CountyError.siteExists("S01")) { try county.addSite(id: "S01", name: "x") }
        #expect(throws: CountyError.badSiteID("a b")) { try county.addSite(id: "a b", name: "x") }
        let info = ClassInfo(
            id: 7, name: "x", trade: OccupationCode("6-18-02-04")!, level: 4, location: "",
            startDate: ClassDay(number: 1), endDate: ClassDay(number: 2), sessions: SessionWindow.parseList("08:00-09:00")!)
        #expect(throws: CountyError.classExists(7)) { try county.addClass(info, site: "S01") }
        var other = info
        other.id = 8
        #expect(throws: CountyError.unknownSite("S02")) { try county.addClass(other, site: "S02") }
    }
}
