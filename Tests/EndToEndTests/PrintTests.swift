import Foundation
import Testing

@Suite("End to end: printed pages")
struct PrintTests {
    @Test("cards.html rendered by headless Chromium: zbarimg reads every card's code from the screenshot; PNGs too")
    func cardsScreenshot() throws {
        let w = try World(trainees: 8)
        try expectOK(run("fieldkit-county", [
            "voucher", "cards", "--home", w.county, "--class", "12", "--out", w.dir + "/cards.html", "--png", w.dir + "/png",
        ]))
        // Given the first A4 page as Chromium prints it (at 2× for a sharp image)
        let shot = w.dir + "/cards.png"
        let chrome = try run("/usr/bin/chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=2",
            "--window-size=794,1123", "--user-data-dir=" + w.dir + "/chromium", "--no-first-run", "--disable-crash-reporter",
            "--screenshot=" + shot, "file://" + w.dir + "/cards.html",
        ], timeout: 90)
        #expect(FileManager.default.fileExists(atPath: shot), "\(chrome.stderr)")
        // Then every code on it reads back exactly
        let decoded = try run("/usr/bin/zbarimg", ["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", shot])
        let codes = Set(decoded.stdout.split(separator: "\n").map(String.init))
        #expect(codes == Set(w.codes.map(\.code)))
        for (id, code) in w.codes {
            let png = try run("/usr/bin/zbarimg", ["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", w.dir + "/png/voucher-\(id).png"])
            #expect(png.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == code)
        }
        // The phone PNG carries the name, voucher number and class under the code: taller than wide.
        let image = try #require(FileManager.default.contents(atPath: w.dir + "/png/voucher-\(w.codes[0].id).png"))
        let width = image[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = image[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(height > width + 150, "\(width)×\(height)")
        // A font file that is not one: one line naming it, and nothing written.
        let bad = try run("fieldkit-county", [
            "voucher", "cards", "--home", w.county, "--class", "12", "--out", w.dir + "/cards2.html", "--png", w.dir + "/png2",
            "--font", "/etc/passwd",
        ])
        #expect(bad.status == 1 && bad.stderr.contains("/etc/passwd") && bad.stderr.contains("--font"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.dir + "/cards2.html") && !FileManager.default.fileExists(atPath: w.dir + "/png2"))
        // FreeType is the county's alone: the classroom binary, whose size is tight, never links it.
        let site = try run("/usr/bin/ldd", [binDirectory + "/fieldkit"]), county = try run("/usr/bin/ldd", [binDirectory + "/fieldkit-county"])
        #expect(!site.stdout.contains("freetype") && county.stdout.contains("libfreetype"))
    }

    @Test("the day's sign-in sheet: HTML in Chinese by default, CSV with a BOM in English")
    func daySheet() throws {
        let w = try World(trainees: 3)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        let html = try run("fieldkit", ["report", "day", "--home", w.site, "--class", "12"], env: ["LANG": "C.UTF-8"])
        #expect(html.status == 0 && html.stdout.contains("签到表") && html.stdout.contains("学员0"))
        #expect(html.stdout.contains("应到 3 人，签到 1 人"))
        let csv = try run("fieldkit", ["report", "day", "--home", w.site, "--class", "12", "--format", "csv", "--lang", "en"])
        #expect(csv.stdout.hasPrefix("\u{FEFF}Date,Class,Session,Record,No.,Name,ID number,Voucher,Signed in,Signed out,Minutes attended,"
            + "Late,Early leave,Manual entry reason,State,Flags,Scan time,Refusal reason\r\n"), "\(csv.stdout.prefix(300))")
        #expect(!csv.stdout.contains(validID(0)))
        let zh = try run("fieldkit", ["report", "day", "--home", w.site, "--class", "12", "--format", "csv", "--lang", "zh"])
        #expect(zh.stdout.hasPrefix("\u{FEFF}日期,培训班,节次,记录,序号,姓名,身份证号,券号,签到时间,签退时间,在课分钟,迟到,早退,补录原因,状态,标记,扫码时间,拒绝原因\r\n"))
        #expect(!zh.stdout.contains("第节"))
        let bad = try run("fieldkit", ["report", "day", "--home", w.site, "--class", "99"])
        #expect(bad.status == 1 && bad.stderr.contains("class 99"))
        let name = try run("fieldkit", ["report", "day", "--home", w.site, "--class", "12", "--instructor", String(repeating: "王", count: 41)])
        #expect(name.status == 64 && name.stderr.contains("--instructor"), "\(name.stderr)")
    }

    /// A class of 30 on one day: on time, late, early leave, a manual entry, no sign-out,
    /// absent, a revoked voucher scanned, a WeChat link scanned.
    static func busyDay() throws -> (dir: String, site: String, codes: [(id: UInt64, code: String)]) {
        let dir = temporaryDirectory()
        let county = dir + "/county", site = dir + "/site"
        let setup = "2026-02-26 10:00"
        try fakeTimeCounty(county, at: setup, classArgs: [
            "--name", "中式烹调师", "--trade", "4-03-02-01", "--level", "5", "--start", "2026-03-02", "--end", "2026-03-13",
            "--sessions", "08:30-11:30,14:00-17:00", "--location", "古县城关镇培训楼三层",
        ])
        let roster = (0..<30).map { "学员\($0),\(validID($0))" }.joined(separator: "\n") + "\n"
        try roster.write(toFile: dir + "/roster.csv", atomically: true, encoding: .utf8)
        let issued = try json(run(at: setup, "fieldkit-county", [
            "voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv", "--json",
        ])) as! [[String: Any]]
        let codes = issued.map { (($0["voucher_id"] as! NSNumber).uint64Value, $0["code"] as! String) }
        try expectOK(run(at: setup, "fieldkit-county", ["voucher", "revoke", "--home", county, "\(codes[29].0)", "--reason", "离开培训班"]))
        try expectOK(run(at: setup, "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/S01.bundle"]))
        try expectOK(run(at: setup, "fieldkit", ["init", "--home", site, "--site", "S01", "--county-root", county + "/root.pub"]))
        try expectOK(run(at: "2026-03-02 07:50", "fieldkit", ["trust", "import", "--home", site, dir + "/S01.bundle"]))
        let scan = { (time: String, which: [Int]) in
            try expectOK(run(at: "2026-03-02 \(time)", "fieldkit", ["scan", "--home", site, "--stdin"],
                             stdin: which.map { codes[$0].1 }.joined(separator: "\n") + "\n"))
        }
        try scan("08:25", Array(0...24))
        _ = try run(at: "2026-03-02 08:26", "fieldkit", ["scan", "--home", site, codes[29].1])  // revoked: refused
        _ = try run(at: "2026-03-02 08:27", "fieldkit", ["scan", "--home", site, "https://weixin.qq.com/r/abc"])  // refused
        try scan("08:50", [25])  // late
        try expectOK(run(at: "2026-03-02 09:10", "fieldkit", [
            "manual", "--home", site, "\(codes[26].0)", "--direction", "in", "--reason", "手机没电", "--at", "08:40",
        ]))
        try scan("10:30", [1])  // early leave
        try scan("11:32", [0] + Array(2...25))  // 26 never signs out; 27, 28 never come
        return (dir, site, codes)
    }

    @Test("the 签到表 an auditor accepts: printed by Chromium to PDF, read back with pdftotext, two pages or more")
    func daySheetPrinted() throws {
        let (dir, site, codes) = try Self.busyDay()
        let html = dir + "/sheet.html"
        try expectOK(run(at: "2026-03-02 18:00", "fieldkit", [
            "report", "day", "--home", site, "--class", "12", "--date", "2026-03-02", "--instructor", "王建国", "--out", html, "--lang", "zh",
        ]))
        // Given the page printed to PDF by headless Chromium, as an instructor prints it
        let pdf = dir + "/sheet.pdf"
        let chrome = try run("/usr/bin/chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--user-data-dir=" + dir + "/chromium",
            "--no-first-run", "--disable-crash-reporter", "--print-to-pdf=" + pdf, "file://" + html,
        ], timeout: 120)
        #expect(FileManager.default.fileExists(atPath: pdf), "\(chrome.stderr)")
        let text = try run("/usr/bin/pdftotext", ["-layout", pdf, "-"])
        try expectOK(text)
        // pdftotext drops or keeps the spaces between Chinese and digits as the layout falls: compare without them.
        let flat = text.stdout.filter { !$0.isWhitespace }
        let pages = text.stdout.split(separator: "\u{0C}", omittingEmptySubsequences: true).filter { !$0.allSatisfy(\.isWhitespace) }
        #expect(pages.count >= 2, "\(text.stdout)")
        // Then every page is numbered "第 i 页 共 N 页" and repeats the table's header
        for (i, page) in pages.enumerated() {
            let p = page.filter { !$0.isWhitespace }
            #expect(p.contains("第\(i + 1)页共\(pages.count)页"), "page \(i + 1): \(p.suffix(80))")
        }
        #expect(pages.filter { $0.filter { !$0.isWhitespace }.contains("学员签字（签到）") }.count >= 2)
        // And the sheet holds what an auditor asks for
        for words in [
            "签到表", "培训机构:古县职业培训学校", "培训地点:古县城关镇培训楼三层", "授课教师:王建国", "中式烹调师（班级编号12）",
            "学员签字（签到）", "学员签字（签退）", "签到时间", "签退时间", "在课分钟", "负责人（签字）", "授课教师（签字）", "盖章处",
            "迟到", "早退", "补录：手机没电", "未签退", "缺勤", "已作废（2026-02-26）", "被拒绝的扫码", "无法识别的码", "此券已作废",
            "第1节08:30-11:30", "第2节14:00-17:00",
        ] {
            #expect(flat.contains(words), "missing \(words)")
        }
        #expect(!text.stdout.contains(validID(0)), "ID numbers are masked")
        // A picture of the first page for a person to look at.
        let shot = dir + "/sheet.png"
        _ = try run("/usr/bin/chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1123,794",
            "--user-data-dir=" + dir + "/chromium", "--no-first-run", "--disable-crash-reporter", "--screenshot=" + shot, "file://" + html,
        ], timeout: 120)
        print("day sheet: \(pdf) and \(shot)")
        #expect(FileManager.default.fileExists(atPath: shot))

        // The same day as CSV: the marks as columns, the refusals as rows, in English too.
        let csv = try run(at: "2026-03-02 18:00", "fieldkit", [
            "report", "day", "--home", site, "--class", "12", "--date", "2026-03-02", "--format", "csv", "--lang", "en",
        ])
        let rows = csvRows(csv.stdout)
        let morning = rows.filter { $0.count == 18 && $0[3] == "attendance" && $0[2].hasPrefix("Session 1 ") }
        #expect(morning.count == 30, "\(csv.stdout.prefix(600))")
        let byName = Dictionary(morning.map { ($0[5], $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["学员0"]?[10] == "180" && byName["学员0"]?[14] == "signed out")
        #expect(byName["学员1"]?[12] == "yes" && byName["学员1"]?[10] == "120")
        #expect(byName["学员25"]?[11] == "yes")
        #expect(byName["学员26"]?[13] == "手机没电" && byName["学员26"]?[14] == "no sign-out")
        #expect(byName["学员27"]?[14] == "absent")
        // The revoked voucher left the roster; its refused scan keeps it on the sheet, by number.
        #expect(morning.first { $0[7] == "\(codes[29].id)" }?[14] == "revoked")
        let refused = rows.filter { $0.count == 18 && $0[3] == "refused scan" }
        #expect(Set(refused.map { $0[17] }) == ["voucher revoked", "unreadable code"], "\(refused)")

        // The log's export: a refusal's reason in the user's words, its stable code beside it.
        for (lang, revoked, manual) in [("zh", "此券已作废", "手机没电"), ("en", "voucher revoked", "手机没电")] {
            let export = try run("fieldkit", ["export", "--home", site, "--format", "csv", "--lang", lang])
            let log = csvRows(export.stdout)
            let header = try #require(log.first)
            let reason = try #require(header.firstIndex(of: "reason")), code = try #require(header.firstIndex(of: "reason_code"))
            let kind = try #require(header.firstIndex(of: "kind"))
            #expect(log.contains { $0.count == header.count && $0[kind] == "refused" && $0[reason] == revoked && $0[code] == "revoked" })
            #expect(log.contains { $0.count == header.count && $0[kind] == "refused" && $0[code] == "malformed" })
            #expect(log.contains { $0.count == header.count && $0[kind] == "manual" && $0[reason] == manual && $0[code].isEmpty })
        }
    }
}
