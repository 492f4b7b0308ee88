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
    }

    @Test("the day's sign-in sheet: HTML in Chinese by default, CSV with a BOM in English")
    func daySheet() throws {
        let w = try World(trainees: 3)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        let html = try run("fieldkit", ["report", "day", "--home", w.site, "--class", "12"], env: ["LANG": "C.UTF-8"])
        #expect(html.status == 0 && html.stdout.contains("签到表") && html.stdout.contains("学员0"))
        #expect(html.stdout.contains("应到 3 人，签到 1 人"))
        let csv = try run("fieldkit", ["report", "day", "--home", w.site, "--class", "12", "--format", "csv", "--lang", "en"])
        #expect(csv.stdout.hasPrefix("\u{FEFF}Date,Class,Session"))
        #expect(!csv.stdout.contains(validID(0)))
        let bad = try run("fieldkit", ["report", "day", "--home", w.site, "--class", "99"])
        #expect(bad.status == 1 && bad.stderr.contains("class 99"))
    }
}
