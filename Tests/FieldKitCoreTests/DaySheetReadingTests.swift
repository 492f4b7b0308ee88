import FieldKitCore
import Testing

@Suite("Day sheet readings: minutes attended, early leave, absent, marks")
struct DaySheetReadingTests {
    static let day = ClassDay(iso: "2026-03-02")!
    static let window = SessionWindow("08:30-11:30")!

    static func at(_ time: String) -> Timestamp { day.at(LocalTime(time)!) }

    /// A sheet of one session holding one row, made at `now`.
    static func sheet(_ row: DaySheet.Row, now: String = "18:00", lateAfter: Int = 15) -> (DaySheet, DaySheet.Session) {
        let session = DaySheet.Session(index: 0, window: window, rows: [row])
        let info = ClassInfo(
            id: 12, name: "中式烹调师", trade: OccupationCode("4-03-02-01")!, level: 5, location: "古县", startDate: day,
            endDate: day, sessions: [window], rules: AttendanceRules(lateAfter: lateAfter))
        let sheet = DaySheet(
            siteID: "S01", siteName: "古县职业培训学校", deviceID: "d", classInfo: info, day: day, sessions: [session],
            generatedAt: at(now), lastSeq: 1, utcOffset: UTCOffset.china)
        return (sheet, session)
    }

    static func row(_ signedIn: String?, _ signedOut: String?, flags: [EventFlag] = []) -> DaySheet.Row {
        DaySheet.Row(
            voucherID: 1000001, name: "张三", idMasked: "1410**********1234", signedIn: signedIn.map(at),
            signedOut: signedOut.map(at), flags: flags)
    }

    @Test("minutes attended count only the session's window", arguments: [
        ("08:25", "11:32", 180),  // early in, late out: the window
        ("08:50", "11:30", 160),
        ("08:30", "10:30", 120),
        ("08:25", "08:29", 0),  // signed out before it started
        ("11:31", "11:40", 0),  // after the end
    ])
    func minutes(_ signedIn: String, _ signedOut: String, _ expected: Int) {
        let (sheet, session) = Self.sheet(Self.row(signedIn, signedOut))
        #expect(sheet.minutesAttended(session.rows[0], in: session) == expected)
    }

    @Test("no sign-out: no minutes")
    func openHasNoMinutes() {
        let (sheet, session) = Self.sheet(Self.row("08:25", nil, flags: [.open]))
        #expect(sheet.minutesAttended(session.rows[0], in: session) == nil)
        #expect(sheet.marks(session.rows[0], in: session) == [.open])
        #expect(sheet.state(session.rows[0], in: session) == .open)
    }

    @Test("early leave: a sign-out earlier than the class's lateness tolerance before the end", arguments: [
        ("11:14", 15, true), ("11:15", 15, false), ("11:29", 15, false), ("11:29", 0, true), ("11:30", 0, false),
        ("12:10", 15, false),
    ])
    func earlyLeave(_ signedOut: String, _ lateAfter: Int, _ early: Bool) {
        let (sheet, session) = Self.sheet(Self.row("08:25", signedOut), lateAfter: lateAfter)
        #expect(sheet.leftEarly(session.rows[0], in: session) == early)
        #expect(sheet.marks(session.rows[0], in: session).contains(.earlyLeave) == early)
    }

    @Test("absent only once the session is over; a revoked voucher is revoked, not absent")
    func absent() {
        let nobody = Self.row(nil, nil)
        let (before, s1) = Self.sheet(nobody, now: "10:00")
        #expect(before.marks(nobody, in: s1).isEmpty && before.state(nobody, in: s1) == .pending)
        let (after, s2) = Self.sheet(nobody, now: "11:30")
        #expect(after.marks(nobody, in: s2) == [.absent] && after.state(nobody, in: s2) == .absent)
        var revoked = nobody
        revoked.revokedAt = ClassDay(iso: "2026-02-26")!.at(LocalTime("10:00")!)
        #expect(after.marks(revoked, in: s2) == [.revoked(on: ClassDay(iso: "2026-02-26")!)])
        #expect(after.state(revoked, in: s2) == .revoked)
    }

    @Test("late and manual marks carry the instructor's reasons, in order")
    func marks() {
        var row = Self.row("08:50", "10:00", flags: [.late, .manual])
        row.manualReasons = ["手机没电", "提前离开"]
        let (sheet, session) = Self.sheet(row)
        #expect(sheet.marks(row, in: session) == [.late, .earlyLeave, .manual(reason: "手机没电"), .manual(reason: "提前离开")])
        #expect(sheet.state(row, in: session) == .signedOut)
    }

    @Test("a refusal falls in the session whose sign-in and sign-out margins hold it")
    func refusalSession() {
        let (sheet, _) = Self.sheet(Self.row(nil, nil))
        let r = { (time: String) in DaySheet.Refusal(time: Self.at(time), voucherID: nil, name: "", reason: "malformed") }
        #expect(sheet.session(of: r("08:00"))?.index == 0)
        #expect(sheet.session(of: r("12:30"))?.index == 0)
        #expect(sheet.session(of: r("07:59")) == nil && sheet.session(of: r("12:31")) == nil)
        #expect(DaySheet.Refusal.words(forReason: "revoked", Localizer(.zhHans)) == "此券已作废")
        #expect(DaySheet.Refusal.words(forReason: "something_new", Localizer(.en)) == "something_new")
    }
}
