import Crypto
import FoundationEssentials
import Testing

@testable import FieldKitCore

/// A trust bundle held in memory.
struct MemoryTrust: TrustLookup {
    var siteID = "S01"
    var keys: [KeyID: SigningKeyEntry] = [:]
    var classes: [UInt32: ClassInfo] = [:]
    var revoked: [UInt64: Revocation] = [:]
    func signingKey(_ kid: KeyID) -> SigningKeyEntry? { keys[kid] }
    func classInfo(_ id: UInt32) -> ClassInfo? { classes[id] }
    func revocation(_ voucherID: UInt64) -> Revocation? { revoked[voucherID] }
}

@Suite("Attendance rules")
struct RulesTests {
    static let key = Curve25519.Signing.PrivateKey()
    static let day = ClassDay(iso: "2026-03-02")!
    let kid = KeyID(of: RulesTests.key.publicKey)

    var trust: MemoryTrust {
        var t = MemoryTrust()
        t.keys[kid] = SigningKeyEntry(
            kid: kid, publicKey: Base64.encode(RulesTests.key.publicKey.rawRepresentation),
            validFrom: ClassDay(iso: "2026-01-01")!, validTo: nil, status: .active)
        t.classes[12] = ClassInfo(
            id: 12, name: "Cooking", trade: OccupationCode("4-03-02-01")!, level: 5, location: "Town",
            startDate: RulesTests.day, endDate: RulesTests.day.adding(days: 29),
            sessions: SessionWindow.parseList("08:30-11:30,14:00-17:00")!)
        t.revoked[99] = Revocation(voucherID: 99, revokedAt: Timestamp(seconds: 0), reason: "reissued")
        return t
    }

    func code(voucher: UInt64 = 1, classID: UInt32 = 12, from: String = "2026-03-01", to: String = "2026-03-31")
        -> VoucherCode
    {
        let body = VoucherBody(
            kid: kid, voucherID: voucher, traineeRef: 42, classID: classID, trade: OccupationCode("4-03-02-01")!,
            level: 5, validFrom: ClassDay(iso: from)!, validTo: ClassDay(iso: to)!)
        return try! VoucherCode(signing: body, with: RulesTests.key)
    }

    /// 2026-03-02 at a local time.
    func at(_ time: String, day: ClassDay = RulesTests.day) -> Timestamp { day.at(LocalTime(time)!) }

    func decide(
        _ c: VoucherCode, _ time: String, trust: MemoryTrust? = nil, record: SessionAttendance? = nil
    ) throws -> ScanDecision {
        try ScanEvaluator(trust: trust ?? self.trust).evaluate(c, at: at(time)) { _ in record }
    }

    static let refusals: [(String, String, ScanReason)] = [
        ("before sign-in opens", "07:59", .outsideSession),
        ("between sessions", "12:31", .outsideSession),
        ("evening", "18:01", .outsideSession),
        ("after the session ended, never signed in", "11:31", .outsideSession),
    ]

    @Test("scans outside the windows are refused", arguments: RulesTests.refusals)
    func outsideWindows(name: String, time: String, reason: ScanReason) throws {
        guard case .reject(let r, _) = try decide(code(), time) else {
            Issue.record("\(name) accepted")
            return
        }
        #expect(r == reason, "\(name)")
    }

    static let signIns: [(String, Int, Bool)] = [
        ("08:00", 0, false), ("08:30", 0, false), ("08:45", 0, false), ("08:46", 0, true), ("11:30", 0, true),
        ("13:30", 1, false), ("16:59", 1, true),
    ]

    @Test("first scan in a window is the sign-in, late after 15 min", arguments: RulesTests.signIns)
    func signIn(time: String, session: Int, late: Bool) throws {
        let d = try decide(code(), time)
        #expect(d == .accept(direction: .signIn, session: SessionKey(classID: 12, day: RulesTests.day, index: session), late: late))
    }

    @Test("a scan within 5 minutes is a duplicate naming the earlier time; later it is the sign-out")
    func direction() throws {
        let record = SessionAttendance(signedInAt: at("08:30"), signedOutAt: nil)
        let s0 = SessionKey(classID: 12, day: RulesTests.day, index: 0)
        #expect(try decide(code(), "08:34", record: record) == .duplicate(reason: .alreadyIn, session: s0, earlier: at("08:30")))
        #expect(try decide(code(), "08:35", record: record) == .accept(direction: .signOut, session: s0, late: false))
        #expect(try decide(code(), "12:30", record: record) == .accept(direction: .signOut, session: s0, late: false))
        let out = SessionAttendance(signedInAt: at("08:30"), signedOutAt: at("11:31"))
        #expect(try decide(code(), "11:40", record: out) == .duplicate(reason: .alreadyOut, session: s0, earlier: at("11:31")))
    }

    @Test("overlapping windows: signed out of the morning, the afternoon's sign-in wins")
    func overlap() throws {
        var t = trust
        t.classes[12]!.sessions = SessionWindow.parseList("08:30-11:30,12:00-15:00")!
        let morning = SessionKey(classID: 12, day: RulesTests.day, index: 0)
        let d = try ScanEvaluator(trust: t).evaluate(code(), at: at("11:50")) { key in
            key == morning ? SessionAttendance(signedInAt: self.at("08:30"), signedOutAt: self.at("11:31")) : nil
        }
        #expect(d == .accept(direction: .signIn, session: SessionKey(classID: 12, day: RulesTests.day, index: 1), late: false))
    }

    @Test("voucher, key, class and revocation checks")
    func refusalsByTrust() throws {
        func reason(_ d: ScanDecision) -> ScanReason? {
            if case .reject(let r, _) = d { return r }
            return nil
        }
        #expect(reason(try decide(code(voucher: 99), "08:30")) == .revoked)
        #expect(reason(try decide(code(from: "2026-03-03"), "08:30")) == .notYetValid)
        #expect(reason(try decide(code(to: "2026-03-01"), "08:30")) == .expired)
        #expect(reason(try decide(code(classID: 13), "08:30")) == .wrongSite)
        var t = trust
        t.classes[12]!.startDate = RulesTests.day.adding(days: 1)
        #expect(reason(try decide(code(), "08:30", trust: t)) == .outsideClassDates)
        t = trust
        t.keys[kid]!.status = .revoked
        #expect(reason(try decide(code(), "08:30", trust: t)) == .keyNotValid)
        t = trust
        t.keys[kid]!.validTo = RulesTests.day.adding(days: -1)
        #expect(reason(try decide(code(), "08:30", trust: t)) == .keyNotValid)
        t = trust
        t.keys = [:]
        #expect(reason(try decide(code(), "08:30", trust: t)) == .unknownKey)
        let forged = VoucherCode(body: code().body, signature: [UInt8](repeating: 7, count: 64))
        #expect(reason(try decide(forged, "08:30")) == .badSignature)
    }
}

@Suite("Dates, times, IDs")
struct BasicsTests {
    @Test("days since 2020-01-01", arguments: [("2020-01-01", 0), ("2026-03-02", 2252), ("2199-06-06", 65_535)])
    func days(text: String, number: Int) {
        #expect(ClassDay(iso: text)?.number == number)
        #expect(ClassDay(number: number).description == text)
    }

    @Test("invalid dates are refused", arguments: ["2026-02-29", "2026-13-01", "2026-3-1", "yesterday", ""])
    func badDates(text: String) { #expect(ClassDay(iso: text) == nil) }

    @Test("local day and clock at UTC+8")
    func local() {
        let t = Timestamp(rfc3339: "2026-03-01T16:30:00Z")!
        #expect(t.classDay().description == "2026-03-02")
        #expect(t.localClock() == "00:30")
        #expect(Timestamp(rfc3339: "2026-03-02T00:30:00+08:00") == t)
        #expect(t.description == "2026-03-01T16:30:00.000Z")
        #expect(Timestamp(rfc3339: t.description) == t)
    }

    @Test("occupation codes", arguments: [("4-10-01-02", UInt32(4_100_102)), ("1-01-00-01", 1_010_001)])
    func trades(text: String, value: UInt32) {
        #expect(OccupationCode(text)?.value == value)
        #expect(OccupationCode(value: value)?.description == text)
    }

    @Test("ID numbers: MOD 11-2, length, birth date; masked form", arguments: [
        ("11010519491231002X", true), ("11010519491231002x", true), ("110105194912310021", false),
        ("1101051949123100", false), ("11010519491331002X", false), ("1101051949123100AX", false),
    ])
    func ids(text: String, ok: Bool) {
        #expect(((try? IDNumber(text)) != nil) == ok)
    }

    @Test("masking keeps 4 and 4")
    func masked() throws {
        #expect(try IDNumber("11010519491231002X").masked == "1101**********002X")
    }

    @Test("times and key ids accept only their digits", arguments: ["+8:30", "-0:30", "8:3", "08:60", "24:00", " 8:30"])
    func strictTimes(text: String) { #expect(LocalTime(text) == nil) }

    @Test("key ids are 8 hex digits", arguments: ["+1234567", "-0000000", "1234567", "123456789", "abcdefgz"])
    func strictKeyIDs(text: String) { #expect(KeyID(hex: text) == nil) }

    @Test("session lists")
    func sessions() {
        #expect(SessionWindow.parseList("08:30-11:30,14:00-17:00")?.count == 2)
        #expect(SessionWindow.parseList("11:30-08:30") == nil)
        #expect(SessionWindow.parseList("08:30-11:30,11:00-12:00") == nil)
        #expect(SessionWindow.parseList("8.30-11") == nil)
    }
}

@Suite("UUID v7")
struct UUIDv7Tests {
    @Test("version and variant bits; time order")
    func shape() {
        let a = uuidV7(milliseconds: 1_700_000_000_000)
        let b = uuidV7(milliseconds: 1_700_000_000_001)
        #expect(a.count == 36 && Array(a)[14] == "7" && "89ab".contains(Array(a)[19]))
        #expect(a < b)
        #expect(a.hasPrefix("018bcfe5-6800-7"))
    }
}
