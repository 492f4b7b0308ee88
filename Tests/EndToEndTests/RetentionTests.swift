import Foundation
import Testing

@Suite("End to end: two years later")
struct RetentionEndToEndTests {
    @Test("retention lists dates; a hold keeps a recording; purge needs an approver and deletes only what has passed")
    func twoYearsLater() throws {
        let dir = temporaryDirectory()
        let county = dir + "/county", site = dir + "/site"
        let day0 = "2026-03-01 09:00"
        try fakeTimeCounty(county, at: day0, classArgs: [
            "--name", "中式烹调师", "--trade", "4-03-02-01", "--level", "5", "--start", "2026-03-02", "--end", "2026-03-20",
            "--sessions", "08:30-11:30",
        ])
        try expectOK(run(at: day0, "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/b1"]))
        try expectOK(run(at: day0, "fieldkit", ["init", "--home", site, "--site", "S01", "--county-root", county + "/root.pub"]))
        try expectOK(run(at: day0, "fieldkit", ["trust", "import", "--home", site, dir + "/b1"]))
        let videos = dir + "/nvr"
        try FileManager.default.createDirectory(atPath: videos, withIntermediateDirectories: true)
        let held = videos + "/ch01_20260302083000_20260302113000.mp4", free = videos + "/ch02_20260302083000_20260302113000.mp4"
        try Data("camera one".utf8).write(to: URL(fileURLWithPath: held))
        try Data("camera two".utf8).write(to: URL(fileURLWithPath: free))
        let edited = videos + "/ch03_20260302083000_20260302113000.mp4"
        try Data("camera three".utf8).write(to: URL(fileURLWithPath: edited))
        try expectOK(run(at: "2026-03-02 12:00", "fieldkit", ["video", "scan", "--home", site, videos, "--camera", "nvr"]))

        let list = try json(run(at: "2026-03-21 09:00", "fieldkit", ["retention", "--home", site, "--json"])) as! [String: Any]
        #expect((list["records"] as! [[String: Any]]).map { $0["keep_until"] as! String } == ["2028-03-20"])
        #expect((list["videos"] as! [[String: Any]]).map { $0["state"] as! String } == ["keep", "keep", "keep"])
        let human = try run(at: "2026-03-21 09:00", "fieldkit", ["retention", "--home", site, "--lang", "zh-Hans"])
        #expect(human.stdout.contains("保存至 2028-03-20") && human.stdout.contains("从不删除"), "\(human.stdout)")
        try expectOK(run(at: "2026-03-21 09:00", "fieldkit", ["retention", "hold", "--home", site, "--video", held, "--note", "审计调阅 2028-017"]))

        // No approver: refused before anything happens
        let unapproved = try run(at: "2028-04-02 09:00", "fieldkit", ["retention", "purge", "--home", site])
        #expect(unapproved.status == 64 && unapproved.stderr.contains("--approve"), "\(unapproved.stderr)")
        // Two years on, but the newest county-signed bundle is from 2026: nothing may go yet
        let early = try json(run(at: "2028-04-02 09:00", "fieldkit", ["retention", "purge", "--home", site, "--approve", "王主任", "--json"]))
        #expect(((early as! [String: Any])["deleted"] as! [Any]).isEmpty)
        // A bundle the county signed after the date: the free recording goes, the held one stays
        try expectOK(run(at: "2028-04-02 08:00", "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/b2"]))
        try expectOK(run(at: "2028-04-02 08:30", "fieldkit", ["trust", "import", "--home", site, dir + "/b2"]))
        // A third recording edited after it was registered: an alarm, kept, exit 5
        try Data("camera three, edited".utf8).write(to: URL(fileURLWithPath: edited))
        let purge = try run(at: "2028-04-02 09:00", "fieldkit", ["retention", "purge", "--home", site, "--approve", "王主任"])
        #expect(purge.status == 5 && purge.stdout.contains(edited), "\(purge.stdout)")
        #expect(FileManager.default.fileExists(atPath: edited))
        #expect(purge.stdout.contains(free) && !FileManager.default.fileExists(atPath: free), "\(purge.stdout)")
        #expect(FileManager.default.fileExists(atPath: held))
        let verify = try run(at: "2028-04-02 09:01", "fieldkit", ["log", "verify", "--home", site])
        #expect(verify.status == 0, "\(verify.stdout)")
        let log = try run("/usr/bin/sqlite3", [site + "/fieldkit.db", "SELECT kind, reason FROM events WHERE kind IN ('hold', 'disposal')"])
        #expect(log.stdout == "hold|video\ndisposal|王主任\n", "one disposal: the edited file stays")
        // The clock set back afterwards: purging is blocked, with the reason
        let behind = try run(at: "2028-03-01 09:00", "fieldkit", ["retention", "purge", "--home", site, "--approve", "王主任"])
        #expect(behind.status == 1 && behind.stderr.contains("clock"), "\(behind.stderr)")
    }
}
