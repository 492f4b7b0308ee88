import CountyKit
import FieldKitCore
import FieldKitStore
import FoundationEssentials
import Testing

@Suite("Station: an ended session stays ended; a manual entry is checked first")
struct SessionEndTests {
    @Test("after E, scans and manual entries for the session are refused session_ended and recorded; the sheet shows open_at_end")
    func endSticks() throws {
        let f = try Fixture()
        let day = ClassDay(iso: "2026-03-02")!
        f.clock.set("2026-03-02", "08:30")
        _ = try f.station.scan(f.code(0))
        _ = try f.station.scan(f.code(1))
        f.clock.set("2026-03-02", "10:00")
        #expect(try f.station.scan(f.code(1)).direction == .signOut)
        // Given the instructor ends the morning at 10:41 with trainee 0 still in
        f.clock.set("2026-03-02", "10:41")
        let morning = SessionKey(classID: 12, day: day, index: 0)
        #expect(try f.station.endSession(morning) == 1)
        #expect(try f.station.sessionEnd(morning) == day.at(LocalTime("10:41")!))
        // When trainee 0 scans to sign out, and trainee 2 arrives
        f.clock.set("2026-03-02", "10:50")
        let out = try f.station.scan(f.code(0))
        #expect(out.result == .rejected && out.reason == .sessionEnded)
        #expect(out.facts["window"] == "08:30-11:30" && out.facts["ended"] == "10:41")
        #expect(out.name == "Trainee 0" && out.sessionKey == morning)
        #expect(out.explanation(Localizer(.zhHans)) == "本节已结束（08:30-11:30，结束于 10:41），不能再签到或签退")
        let arrive = try f.station.scan(f.code(2))
        #expect(arrive.result == .rejected && arrive.reason == .sessionEnded)
        // A real sign-out before the end stands
        let again = try f.station.scan(f.code(1))
        #expect(again.result == .duplicate && again.reason == .alreadyOut)
        // A manual entry is refused too (naming the end), and recorded
        let manual = try f.station.manual(voucherID: f.vouchers[0].voucherID, direction: .signOut, reason: "forgot")
        #expect(manual.result == .rejected && manual.reason == .sessionEnded && manual.facts["ended"] == "10:41")
        let refused = try f.station.events().filter { $0.kind == .refused }
        #expect(refused.map(\.reason) == ["session_ended", "session_ended", "session_ended"])
        #expect(refused.last?.flags == "manual")
        // Then the state says what the log says: trainee 0 left open, never signed out
        let sheet = try f.station.daySheet(classID: 12, day: day)
        let row = try #require(sheet.sessions[0].rows.first { $0.voucherID == f.vouchers[0].voucherID })
        #expect(row.signedOut == nil && row.flags.contains(.open))
        #expect(try f.station.status().today[0].openAtEnd == 1)
        #expect(try f.station.events().filter { $0.kind == .openAtEnd }.map(\.voucherID) == [f.vouchers[0].voucherID])
        // The afternoon is a new session
        f.clock.set("2026-03-02", "13:40")
        let afternoon = try f.station.scan(f.code(0))
        #expect(afternoon.result == .accepted && afternoon.direction == .signIn && afternoon.sessionKey?.index == 1)
        #expect(try f.station.verifyLog().ok)
    }

    @Test("an ended morning does not hold a trainee out of the afternoon when the windows overlap")
    func overlap() throws {
        let f = try Fixture(sessions: "08:30-11:30,12:00-15:00")
        f.clock.set("2026-03-02", "08:30")
        _ = try f.station.scan(f.code(0))
        f.clock.set("2026-03-02", "11:35")
        _ = try f.station.endSession(SessionKey(classID: 12, day: ClassDay(iso: "2026-03-02")!, index: 0))
        f.clock.set("2026-03-02", "11:50")
        let o = try f.station.scan(f.code(0))
        #expect(o.result == .accepted && o.direction == .signIn && o.sessionKey?.index == 1)
    }

    @Test("manual preview: unknown, revoked (with the name), and the trainee's state")
    func preview() throws {
        let f = try Fixture()
        try f.county.revokeVoucher(f.vouchers[3].voucherID, reason: "reissued")
        f.clock.time = f.clock.time.adding(minutes: 1)
        _ = try f.station.importTrust(fileBytes: f.county.exportBundle(site: "S01").fileBytes)
        f.clock.set("2026-03-02", "08:03")
        #expect(throws: StationError.notOnRoster(999)) { try f.station.manualPreview(voucherID: 999) }
        let revoked = try f.station.manualPreview(voucherID: f.vouchers[3].voucherID)
        #expect(revoked.name == "Trainee 3" && revoked.revokedOn == "2026-03-01" && revoked.revokedWhy == "reissued")
        #expect(try f.station.manualPreview(voucherID: f.vouchers[0].voucherID).state == .notSignedIn(window: "08:30-11:30"))
        _ = try f.station.scan(f.code(0))
        #expect(try f.station.manualPreview(voucherID: f.vouchers[0].voucherID).state == .signedIn(window: "08:30-11:30", at: "08:03"))
        // A revoked voucher's refusal names the trainee, by scan and by manual entry (not "not on the roster")
        let scan = try f.station.scan(f.code(3))
        #expect(scan.reason == .revoked && scan.who.hasPrefix("Trainee 3 "))
        let manual = try f.station.manual(voucherID: f.vouchers[3].voucherID, direction: .signIn, reason: "phone dead")
        #expect(manual.reason == .revoked && manual.name == "Trainee 3")
        f.clock.set("2026-03-02", "12:45")
        #expect(try f.station.manualPreview(voucherID: f.vouchers[1].voucherID).state == .noSession(sessions: "08:30-11:30, 14:00-17:00"))
    }

    @Test("the recent list comes back from the log: today's scans, manual entries and refusals, newest first")
    func recent() throws {
        let f = try Fixture()
        f.clock.set("2026-03-02", "08:30")
        _ = try f.station.scan(f.code(0))
        _ = try f.station.scan("https://u.wechat.com/abc")
        _ = try f.station.manual(voucherID: f.vouchers[1].voucherID, direction: .signIn, reason: "phone dead")
        _ = try f.station.scan(f.code(0))  // a duplicate: nothing recorded
        let list = try f.station.recentScans()
        #expect(list.map(\.result) == [.accepted, .rejected, .accepted])
        #expect(list[0].flags == ["manual"] && list[0].name == "Trainee 1" && list[0].facts["why"] == "phone dead")
        #expect(list[1].reason == .malformed && list[1].who.isEmpty)
        #expect(list[2].direction == .signIn && list[2].sessionKey?.index == 0)
        f.clock.set("2026-03-03", "08:30")
        #expect(try f.station.recentScans().isEmpty)
    }
}
