import Foundation
import Testing

@Suite("End to end: an expired trust bundle has 7 days' grace, then scans are refused until a fresh one")
struct StaleTrustTests {
    @Test("day 3 after expiry accepted and flagged, the county sees the flag; day 8 refused with the way out; a fresh bundle cures it")
    func graceThenRefusal() throws {
        let dir = temporaryDirectory()
        let county = dir + "/county", site = dir + "/site"
        let setup = "2026-10-01 10:00"
        try fakeTimeCounty(county, at: setup, classArgs: [
            "--name", "中式烹调师", "--trade", "4-03-02-01", "--level", "5", "--start", "2026-10-05", "--end", "2026-11-30",
            "--sessions", "08:30-11:30,14:00-17:00", "--program", "order_project", "--policy", "gu-county-2023",
        ])
        try "学员甲,\(validID(1))\n学员乙,\(validID(2))\n学员丙,\(validID(3))\n".write(toFile: dir + "/roster.csv", atomically: true, encoding: .utf8)
        let issued = try json(run(at: setup, "fieldkit-county", [
            "voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv", "--json",
        ])) as! [[String: Any]]
        let ids = issued.map { ($0["voucher_id"] as! NSNumber).uint64Value }
        let codes = issued.map { $0["code"] as! String }
        try expectOK(run(at: setup, "fieldkit", ["init", "--home", site, "--site", "S01", "--county-root", county + "/root.pub"]))
        do {
            let server = try CountyServer(home: county, log: dir + "/serve1.log", at: utc(setup))
            defer { server.stop() }
            let code = try json(run(at: setup, "fieldkit-county", ["device", "add", "--home", county, "--site", "S01", "--json"]))
            try expectOK(run(at: setup, "fieldkit", [
                "enroll", "--home", site, "--county", server.url, "--code", (code as! [String: Any])["code"] as! String,
            ]))
        }
        // Given a bundle valid 30 days: it expires on 2026-11-09 at 10:00
        try expectOK(run(at: "2026-10-10 10:00", "fieldkit-county", [
            "bundle", "--home", county, "--site", "S01", "--valid-days", "30", "--out", dir + "/old.bundle",
        ]))
        try expectOK(run(at: "2026-10-10 10:05", "fieldkit", ["trust", "import", "--home", site, dir + "/old.bundle"]))

        // Day 3 after expiry: accepted, flagged, the days left shown by scan and status
        let day3 = try run(at: "2026-11-12 08:35", "fieldkit", ["scan", "--home", site, codes[0], "--json"])
        try expectOK(day3)
        let accepted = try JSONSerialization.jsonObject(with: Data(day3.stdout.utf8)) as! [String: Any]
        #expect((accepted["flags"] as? [String])?.contains("stale_trust") == true, "\(day3.stdout)")
        let warned = (accepted["warnings"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "trust_expired" }
        #expect((warned?["message"] as? String)?.contains("stop in 5 days") == true, "\(day3.stdout)")
        let status3 = try run(at: "2026-11-12 08:40", "fieldkit", ["status", "--home", site, "--lang", "zh"])
        #expect(status3.status == 0 && status3.stdout.contains("信任包已于 2026-11-09 过期，5 天后将不能签到"), "\(status3.stdout)")

        try expectOK(run(at: "2026-11-12 11:35", "fieldkit", ["scan", "--home", site, codes[0]]))

        // The flag is in the signed event: the county sees it after the transfer (by USB stick
        // here: a sync over the link would bring a fresh bundle on the way)
        try expectOK(run(at: "2026-11-12 18:00", "fieldkit", ["sync", "export", "--home", site, "--out", dir + "/transfer.fk"]))
        try expectOK(run(at: "2026-11-12 18:02", "fieldkit-county", ["import", "--home", county, dir + "/transfer.fk"]))
        try expectOK(run(at: "2026-11-12 18:04", "fieldkit", ["sync", "receipt", "--home", site, dir + "/transfer.fk.receipt"]))
        let held = try json(run(at: "2026-11-12 18:05", "fieldkit-county", ["attendance", "--home", county, "--class", "12", "--json"])) as! [[String: Any]]
        let signIn = held.first { ($0["voucher_id"] as? NSNumber)?.uint64Value == ids[0] }
        #expect((signIn?["flags"] as? String)?.contains("stale_trust") == true, "\(held)")
        #expect((signIn?["quarantine"] as? [String]) == [], "flagged, not held apart as forged: \(held)")
        let listed = try run(at: "2026-11-12 18:05", "fieldkit-county", ["attendance", "--home", county, "--class", "12"])
        #expect(listed.status == 0 && listed.stdout.contains("stale_trust"), "\(listed.stdout)")

        // The claim sheet holds the session apart for review, like the other flags, until --accept-flagged
        let claim = try json(run(at: "2026-11-12 18:06", "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--employment-rate", "0.9", "--json",
        ])) as! [[String: Any]]
        let row = try #require(claim.first { ($0["voucher_id"] as? NSNumber)?.uint64Value == ids[0] })
        let review = row["review"] as? [[String: Any]] ?? []
        #expect(review.contains { ($0["flags"] as? [String])?.contains("stale_trust") == true } && (row["hours"] as? NSNumber) == 0, "\(row)")
        let withFlagged = try json(run(at: "2026-11-12 18:06", "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--employment-rate", "0.9", "--accept-flagged", "--json",
        ])) as! [[String: Any]]
        let released = try #require(withFlagged.first { ($0["voucher_id"] as? NSNumber)?.uint64Value == ids[0] })
        #expect(((released["hours"] as? NSNumber)?.intValue ?? 0) > 0, "\(released)")

        // Day 8: refused, with the way out, in Chinese and in English; the kiosk's line is the status warning
        let zh = try run(at: "2026-11-17 08:35", "fieldkit", ["scan", "--home", site, codes[1], "--lang", "zh"])
        #expect(zh.status == 4, "\(zh.stdout) \(zh.stderr)")
        #expect(zh.stdout.contains(
            "信任包已于 2026-11-09 过期超过 7 天，不能再签到。请联网运行 fieldkit sync，或用U盘从县里带回新的信任包后运行 fieldkit trust import 文件"),
            "\(zh.stdout)")
        let en = try run(at: "2026-11-17 08:36", "fieldkit", ["scan", "--home", site, codes[2]])
        #expect(en.status == 4 && en.stdout.contains("expired on 2026-11-09, more than 7 days ago") && en.stdout.contains("fieldkit trust import"),
            "\(en.stdout)")
        let manual = try run(at: "2026-11-17 08:37", "fieldkit", [
            "manual", "--home", site, "\(ids[1])", "--direction", "in", "--reason", "扫码枪坏了",
        ])
        #expect(manual.status == 4 && manual.stdout.contains("more than 7 days ago"), "\(manual.stdout) \(manual.stderr)")
        let status8 = try run(at: "2026-11-17 08:38", "fieldkit", ["status", "--home", site])
        #expect(status8.stdout.contains("more than 7 days ago"), "\(status8.stdout)")

        // The kiosk shows it in red, at the top (under tmux at 80×24, through faketime)
        do {
            let session = "fk-stale-\(UUID().uuidString.prefix(8))"
            let command = "env LANG=C.UTF-8 FAKETIME_DONT_FAKE_MONOTONIC=1 /usr/bin/faketime -f '@\(utc("2026-11-17 08:38"))' "
                + "\(binDirectory)/fieldkit kiosk --home \(site)"
            try expectOK(run("/usr/bin/tmux", ["new-session", "-d", "-s", session, "-x", "80", "-y", "24", command], timeout: 30))
            defer { _ = try? run("/usr/bin/tmux", ["kill-session", "-t", session]) }
            var painted: [Substring] = []
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                painted = try run("/usr/bin/tmux", ["capture-pane", "-e", "-p", "-t", session]).stdout.split(separator: "\n")
                if painted.contains(where: { $0.contains("过期超过 7 天") }) { break }
                usleep(100_000)
            }
            let band = painted.first { $0.contains("信任包已于 2026-11-09 过期超过 7 天") }
            #expect(band?.contains("41m") == true, "a red band: \(painted.joined(separator: "\n"))")
        }

        // Nothing typed is lost: three refused events with the reason
        let log = try run(at: "2026-11-17 08:39", "fieldkit", ["export", "--home", site, "--format", "jsonl"])
        try expectOK(log)
        let refused = log.stdout.split(separator: "\n").filter { $0.contains("\"trust_stale\"") }
        #expect(refused.count == 3, "\(log.stdout)")

        // A fresh bundle from the county (carried on a stick): accepted again, without the flag
        try expectOK(run(at: "2026-11-17 08:40", "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/new.bundle"]))
        try expectOK(run(at: "2026-11-17 08:41", "fieldkit", ["trust", "import", "--home", site, dir + "/new.bundle"]))
        let cured = try run(at: "2026-11-17 08:45", "fieldkit", ["scan", "--home", site, codes[1], "--json"])
        try expectOK(cured)
        #expect(!cured.stdout.contains("stale_trust") && !cured.stdout.contains("trust_expired"), "\(cured.stdout)")
    }
}
