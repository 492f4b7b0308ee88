import Foundation
import Testing

/// The kiosk running under tmux at 80×24: keys in with send-keys, the screen read with capture-pane.
final class KioskSession {
    let name = "fk-kiosk-\(UUID().uuidString.prefix(8))"

    init(home: String, args: [String], env: [String: String] = [:]) throws {
        let vars = env.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let command = "env LANG=C.UTF-8 \(vars) \(binDirectory)/fieldkit kiosk --home \(home) \(args.joined(separator: " "))"
        // tmux forks its server, which outlives this call: run() gives it files, not pipes.
        try expectOK(run("/usr/bin/tmux", ["new-session", "-d", "-s", name, "-x", "80", "-y", "24", command], timeout: 30))
    }

    deinit { _ = try? run("/usr/bin/tmux", ["kill-session", "-t", name]) }

    func keys(_ keys: String...) throws { try expectOK(run("/usr/bin/tmux", ["send-keys", "-t", name] + keys)) }

    /// Types text literally (a scanner, or the instructor), then Enter if asked.
    func type(_ text: String, enter: Bool = true) throws {
        try expectOK(run("/usr/bin/tmux", ["send-keys", "-t", name, "-l", text]))
        if enter { try keys("Enter") }
    }

    func screen() throws -> String { try run("/usr/bin/tmux", ["capture-pane", "-p", "-t", name]).stdout }

    /// Waits until the screen shows every text, up to 5 seconds; returns the screen.
    @discardableResult
    func waitFor(_ texts: String..., timeout: Double = 5) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var s = ""
        while Date() < deadline {
            s = try screen()
            if texts.allSatisfy({ s.contains($0) }) { return s }
            usleep(100_000)
        }
        Issue.record("screen never showed \(texts):\n\(s)")
        return s
    }
}

@Suite("End to end: the kiosk under tmux", .serialized)
struct KioskTests {
    /// What the screen says, per language.
    struct Words: Sendable, CustomStringConvertible {
        var args: [String]
        var ready, expected4, signedIn, inClass1, duplicate, already, refused, unreadable, help, noSuchKey: String
        var manualPrompt, directionPrompt, reason, manualNote, inClass2, endPrompt, ended, open2, quitPrompt: String
        var reasonPrompt, unreadableShort, notOnRoster, revoked, notSignedIn, signedInAt, sessionEnded, ended1, otherKiosk, helpText, noSignIn, looksLikeID: String
        var description: String { args.isEmpty ? "zh-Hans (default)" : args.joined(separator: " ") }
    }

    static let languages = [
        Words(
            args: [], ready: "请扫码", expected4: "应到 4", signedIn: "签到成功", inClass1: "在课 1", duplicate: "重复扫码",
            already: "已于", refused: "拒绝", unreadable: "无法识别此码", help: "帮助", noSuchKey: "无此按键：x",
            manualPrompt: "手工录入：输入券号", directionPrompt: "按 I 签到", reason: "手机没电", manualNote: "手工录入：手机没电",
            inClass2: "在课 2", endPrompt: "未签退的学员将被标记", ended: "本节已结束：2 人未签退", open2: "未签退 2", quitPrompt: "退出签到？",
            reasonPrompt: "原因（如", unreadableShort: "拒绝 无法识别", notOnRoster: "券号 999 不在本培训点的花名册上",
            revoked: "作废（原因：reissued）", notSignedIn: "还没有签到", signedInAt: "签到，还没有签退",
            sessionEnded: "本节已结束（", ended1: "本节已结束：1 人未签退", otherKiosk: "另一个签到窗口已在运行（进程", helpText: "功能键：F1", noSignIn: "本节还没有签到，不能签退", looksLikeID: "这像是身份证号码"),
        Words(
            args: ["--lang", "en"], ready: "Ready to scan", expected4: "expected 4", signedIn: "Signed in",
            inClass1: "in class 1", duplicate: "Duplicate", already: "already signed in at", refused: "Refused",
            unreadable: "cannot read this code", help: "Help", noSuchKey: "no such key: x", manualPrompt: "Manual entry: type",
            directionPrompt: "press I for sign-in", reason: "phone dead", manualNote: "manual entry: phone dead",
            inClass2: "in class 2", endPrompt: "End session", ended: "Session ended: 2 not signed out",
            open2: "not signed out 2", quitPrompt: "Quit the kiosk?",
            reasonPrompt: "Reason (", unreadableShort: "Refused unreadable", notOnRoster: "voucher 999 is not on this site's",
            revoked: "revoked on", notSignedIn: "not signed in yet", signedInAt: "not signed out yet",
            sessionEnded: "This session has ended (", ended1: "Session ended: 1 not signed out",
            otherKiosk: "Another sign-in window is running (process", helpText: "Function keys: F1", noSignIn: "not signed in to this session, so no sign-out",
            looksLikeID: "looks like an ID number"),
    ]

    @Test("accepted, double-send absorbed, duplicate, refused, bad key, manual, end of session, quit", arguments: languages)
    func instructorsDay(_ w: Words) throws {
        let world = try World(trainees: 4)
        let k = try KioskSession(home: world.site, args: w.args)
        try k.waitFor(w.ready, w.expected4)
        // A scan: green panel, name, counters
        try k.type(world.codes[0].code)
        try k.waitFor(w.signedIn, "学员0", w.inClass1)
        // The scanner sends the same code twice at once: absorbed
        try k.type(world.codes[0].code)
        usleep(500_000)
        #expect(!(try k.screen()).contains(w.duplicate))
        // Later the same code is a duplicate naming the earlier time
        usleep(1_200_000)
        try k.type(world.codes[0].code)
        try k.waitFor(w.duplicate, w.already)
        // Garbage is refused in plain words
        try k.type("12345")
        try k.waitFor(w.refused, w.unreadable)
        // A key that means nothing shows help; any key goes back
        try k.type("x", enter: false)
        try k.waitFor(w.help, w.noSuchKey)
        try k.type(" ", enter: false)
        // Ctrl-C does not stop it either
        try k.keys("C-c")
        try k.waitFor(w.help, "^C")
        try k.type(" ", enter: false)
        // Manual entry: voucher, direction, reason (Chinese typed through an input method works too)
        try k.type("m", enter: false)
        try k.waitFor(w.manualPrompt)
        try k.type(String(world.codes[1].id))
        try k.waitFor(w.directionPrompt, "学员1")
        try k.type("i", enter: false)
        try k.waitFor(w.reasonPrompt)
        try k.type(w.reason)
        try k.waitFor(w.signedIn, "学员1", w.manualNote, w.inClass2)
        // End of session: open sign-ins flagged
        try k.type("e", enter: false)
        try k.waitFor(w.endPrompt)
        try k.type("y", enter: false)
        try k.waitFor(w.ended, w.open2)
        // Quit asks first
        try k.type("q", enter: false)
        try k.waitFor(w.quitPrompt)
        try k.type("y", enter: false)
        usleep(500_000)
        #expect(try run("fieldkit", ["log", "verify", "--home", world.site]).status == 0)
        let events = try run("fieldkit", ["export", "--home", world.site, "--format", "jsonl"]).stdout
        #expect(events.components(separatedBy: "\"kind\":\"open_at_end\"").count - 1 == 2)
        #expect(events.components(separatedBy: "\"kind\":\"scan\"").count - 1 == 1)
        #expect(events.components(separatedBy: "\"kind\":\"manual\"").count - 1 == 1)
    }

    @Test("a scanner's burst is a scan whatever its first letter; single keys stay commands", arguments: languages)
    func bursts(_ w: Words) throws {
        let world = try World(trainees: 3)
        let k = try KioskSession(home: world.site, args: w.args)
        try k.waitFor(w.ready)
        // A WeChat link scanned by mistake: refused with a reason, in the panel and the recent list
        try k.type("https://u.wechat.com/abc")
        try k.waitFor(w.refused, w.unreadable, w.unreadableShort)
        // A real scan right after it is recorded
        try k.type(world.codes[0].code)
        try k.waitFor(w.signedIn, "学员0")
        // "monkey" is a refused scan, not manual entry followed by letters
        try k.type("monkey")
        var s = try k.waitFor(w.unreadable)
        #expect(!s.contains(w.manualPrompt))
        // A scan while the Q prompt is open: the prompt closes and the scan is recorded
        try k.type("q", enter: false)
        try k.waitFor(w.quitPrompt)
        try k.type(world.codes[1].code)
        s = try k.waitFor(w.signedIn, "学员1")
        #expect(!s.contains(w.quitPrompt))
        // Single keys typed alone are still commands: h, m (Esc leaves), q; and F1
        try k.type("h", enter: false)
        try k.waitFor(w.help, w.helpText)
        try k.type(" ", enter: false)
        try k.type("m", enter: false)
        try k.waitFor(w.manualPrompt)
        // A scan while the manual entry asks for a voucher number: scanned, not typed into it
        try k.type(world.codes[2].code)
        s = try k.waitFor(w.signedIn, "学员2")
        #expect(!s.contains(w.manualPrompt))
        try k.type("m", enter: false)
        try k.waitFor(w.manualPrompt)
        try k.keys("Escape")
        try k.keys("F1")
        try k.waitFor(w.help, w.helpText)
        try k.type(" ", enter: false)
        try k.type("q", enter: false)
        try k.waitFor(w.quitPrompt)
        try k.type("y", enter: false)
        usleep(500_000)
        // Everything typed is in the log: two refusals, three sign-ins
        let events = try run("fieldkit", ["export", "--home", world.site, "--format", "jsonl"]).stdout
        #expect(events.components(separatedBy: "\"reason\":\"malformed\"").count - 1 == 2)
        #expect(events.components(separatedBy: "\"kind\":\"scan\"").count - 1 == 3)
    }

    @Test("manual entry checks the voucher first: unknown, revoked with the name, the trainee's state", arguments: languages)
    func manualChecksFirst(_ w: Words) throws {
        let world = try World(trainees: 4)
        try expectOK(run("fieldkit-county", [
            "voucher", "revoke", "--home", world.county, String(world.codes[3].id), "--reason", "reissued",
        ]))
        try expectOK(run("fieldkit-county", ["bundle", "--home", world.county, "--site", "S01", "--out", world.dir + "/S01b.bundle"]))
        try expectOK(run("fieldkit", ["trust", "import", "--home", world.site, world.dir + "/S01b.bundle"]))
        let k = try KioskSession(home: world.site, args: w.args)
        try k.waitFor(w.ready)
        // Unknown: said at once, in the user's language, wrapped inside 80 columns
        try k.type("m", enter: false)
        try k.waitFor(w.manualPrompt)
        try k.type("999")
        var s = try k.waitFor(w.notOnRoster)
        for line in s.split(separator: "\n") { #expect(displayWidth(String(line)) <= 80, "\(line)") }
        // An ID number typed by mistake is refused without being shown again
        try k.type(validID(7))
        s = try k.waitFor(w.looksLikeID)
        #expect(!s.contains(validID(7)))
        try k.keys("Escape")
        // Revoked: the name and the revocation, no direction asked
        try k.type("m", enter: false)
        try k.waitFor(w.manualPrompt)
        try k.type(String(world.codes[3].id))
        s = try k.waitFor("学员3", w.revoked)
        #expect(!s.contains(w.directionPrompt))
        // A good voucher: the name and the state before I/O
        try k.type("m", enter: false)
        try k.waitFor(w.manualPrompt)
        try k.type(String(world.codes[0].id))
        try k.waitFor("学员0", w.notSignedIn, w.directionPrompt)
        // O for someone not signed in is answered at once, not after the reason
        try k.type("o", enter: false)
        try k.waitFor(w.noSignIn, w.directionPrompt)
        try k.type("i", enter: false)
        try k.waitFor(w.reasonPrompt)
        try k.type(w.reason)
        try k.waitFor(w.signedIn, "学员0")
        try k.type("m", enter: false)
        try k.waitFor(w.manualPrompt)
        try k.type(String(world.codes[0].id))
        try k.waitFor("学员0", w.signedInAt, w.directionPrompt)
        try k.keys("Escape")
        try k.type("q", enter: false)
        try k.waitFor(w.quitPrompt)
        try k.type("y", enter: false)
    }

    @Test(
        "the view follows the scan into session 2; E sticks: a later sign-out is refused and the sheet shows it open",
        .enabled(if: (130...1300).contains(chinaMinuteNow()), "two sessions around now must fit in the day"), arguments: languages)
    func sessionEnd(_ w: Words) throws {
        // Session 1's sign-out window and session 2's sign-in window are both open now
        let world = try World(trainees: 3, sessions: { now in "\(clockText(now - 120))-\(clockText(now - 10)),\(clockText(now + 10))-\(clockText(now + 120))" })
        let k = try KioskSession(home: world.site, args: w.args)
        try k.waitFor(w.ready)
        #expect(try k.screen().contains(clockText(world.minute - 120)))
        try k.type(world.codes[0].code)
        let s = try k.waitFor(w.signedIn, "学员0", clockText(world.minute + 10) + "-", w.inClass1)
        #expect(!s.split(separator: "\n")[1].contains(clockText(world.minute - 120)))
        // E then Y ends session 2 (the one shown); the sign-out after it is refused and recorded
        try k.type("e", enter: false)
        try k.waitFor(w.endPrompt)
        try k.type("y", enter: false)
        try k.waitFor(w.ended1)
        usleep(1_600_000)
        try k.type(world.codes[0].code)
        try k.waitFor(w.refused, w.sessionEnded)
        try k.type("q", enter: false)
        try k.waitFor(w.quitPrompt)
        try k.type("y", enter: false)
        usleep(500_000)
        let events = try run("fieldkit", ["export", "--home", world.site, "--format", "jsonl"]).stdout
        #expect(events.contains("\"reason\":\"session_ended\""))
        let sheet = try run("fieldkit", ["report", "day", "--home", world.site, "--class", "12", "--format", "csv", "--lang", "en"])
        try expectOK(sheet)
        let row = sheet.stdout.split(separator: "\n").first { $0.contains("学员0") && $0.contains(clockText(world.minute + 10)) }
        #expect(row?.contains("no sign-out") == true, "\(sheet.stdout)")
        #expect(!sheet.stdout.contains("[sheet."), "every refusal reason is worded: \(sheet.stdout)")
    }

    @Test("restart keeps the recent list; a second kiosk on the same home warns; a long site name leaves the clock whole", arguments: languages)
    func restartAndSecondKiosk(_ w: Words) throws {
        let world = try World(trainees: 2, siteName: String(repeating: "古县职业技能培训学校第一分校", count: 4))
        let first = try KioskSession(home: world.site, args: w.args)
        try first.waitFor(w.ready)
        let title = try first.screen().split(separator: "\n").first.map(String.init) ?? ""
        #expect(title.range(of: #"\d\d:\d\d(:\d\d)?\s*$"#, options: .regularExpression) != nil, "\(title)")
        try first.type(world.codes[0].code)
        try first.waitFor(w.signedIn, "学员0")
        try first.type("monkey")
        try first.waitFor(w.unreadable)
        // A second window on the same home: a red warning naming the first one, and the same recent list
        let second = try KioskSession(home: world.site, args: w.args)
        try second.waitFor(w.otherKiosk, w.unreadableShort, "学员0")
        // When the first window closes, the second one's warning goes (within a refresh)
        try first.type("q", enter: false)
        try first.waitFor(w.quitPrompt)
        try first.type("y", enter: false)
        let deadline = Date().addingTimeInterval(10)
        while try second.screen().contains(w.otherKiosk), Date() < deadline { usleep(200_000) }
        #expect(!(try second.screen()).contains(w.otherKiosk))
        try second.type("q", enter: false)
        try second.waitFor(w.quitPrompt)
        try second.type("y", enter: false)
        usleep(500_000)
        // Restarted alone: no warning, and the list is still there
        let again = try KioskSession(home: world.site, args: w.args)
        let s = try again.waitFor(w.ready, w.unreadableShort, "学员0")
        #expect(!s.contains(w.otherKiosk))
        try again.type("q", enter: false)
        try again.waitFor(w.quitPrompt)
        try again.type("y", enter: false)
    }

    @Test("English with --lang en; lines up at 80×24 and adapts to a resize")
    func englishAndResize() throws {
        let w = try World(trainees: 2)
        let k = try KioskSession(home: w.site, args: ["--lang", "en"])
        try k.waitFor("Ready to scan", "expected 2")
        try k.type(w.codes[1].code)
        var s = try k.waitFor("Signed in", "学员1")
        // Every line fits the 80 columns; the title bar ends with the clock at the right edge
        for line in s.split(separator: "\n") { #expect(displayWidth(String(line)) <= 80, "\(line)") }
        try expectOK(run("/usr/bin/tmux", ["resize-window", "-t", k.name, "-x", "100", "-y", "30"]))
        // The title bar stretches to the new width (the clock moves to the right edge)
        var title = ""
        let deadline = Date().addingTimeInterval(5)
        repeat {
            usleep(200_000)
            s = try k.screen()
            title = s.split(separator: "\n").first.map(String.init) ?? ""
        } while displayWidth(title.trimmingCharacters(in: .whitespaces)) <= 80 && Date() < deadline
        #expect(displayWidth(title.trimmingCharacters(in: .whitespaces)) > 80, "\(title)")
        #expect(s.contains("Signed in") && s.contains("Recent scans"))
        try k.type("q", enter: false)
        try k.type("y", enter: false)
    }
}

/// The minute of the day now, China time.
func chinaMinuteNow() -> Int {
    let seconds = Int(Date().timeIntervalSince1970) + 8 * 3600
    return seconds % 86400 / 60
}

/// Terminal cells of a line (CJK two cells).
func displayWidth(_ s: String) -> Int {
    s.unicodeScalars.reduce(0) { w, c in
        let v = c.value
        let wide = (0x1100...0x115F).contains(v) || (0x2E80...0x9FFF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v)
        return w + (wide ? 2 : 1)
    }
}
