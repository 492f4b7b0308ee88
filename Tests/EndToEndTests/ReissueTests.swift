import Foundation
import Testing

@Suite("End to end: a lost voucher reissued mid-class")
struct ReissueTests {
    @Test("reissue: the old voucher refused at the site after the next bundle, the new one accepted; the claim counts the person once with both days; one write-off")
    func reissueMidClass() throws {
        let dir = temporaryDirectory()
        let county = dir + "/county", site = dir + "/site"
        let setup = "2023-02-26 10:00"
        try fakeTimeCounty(county, at: setup, classArgs: [
            "--name", "焊工（订单式）", "--trade", "6-18-02-04", "--level", "4", "--start", "2023-03-02", "--end", "2023-03-03",
            "--sessions", "08:30-11:30,14:00-17:00", "--program", "order_project", "--policy", "gu-county-2023",
        ])
        try "学员甲,\(validID(1))\n学员乙,\(validID(2))\n".write(toFile: dir + "/roster.csv", atomically: true, encoding: .utf8)
        let issued = try json(run(at: setup, "fieldkit-county", [
            "voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv", "--json",
        ])) as! [[String: Any]]
        let ids = issued.map { ($0["voucher_id"] as! NSNumber).uint64Value }
        let (a, b) = (issued[0]["code"] as! String, issued[1]["code"] as! String)

        // A USB-only site.
        try expectOK(run(at: setup, "fieldkit", ["init", "--home", site, "--site", "S01", "--county-root", county + "/root.pub"]))
        try enrollByFile(county: county, site: site, dir: dir, at: setup)
        try expectOK(run(at: "2023-03-01 17:00", "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/b1"]))
        try expectOK(run(at: "2023-03-02 07:50", "fieldkit", ["trust", "import", "--home", site, dir + "/b1"]))

        func scan(_ at: String, _ codes: [String]) throws -> [[String: Any]] {
            let r = try run(at: at, "fieldkit", ["scan", "--home", site, "--stdin", "--json"], stdin: codes.joined(separator: "\n") + "\n")
            return r.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        }
        func accepted(_ lines: [[String: Any]]) -> Bool { lines.allSatisfy { $0["result"] as? String == "accepted" } }

        // Day 1: both come; 甲 signs in for the afternoon with the old card, then loses it.
        #expect(accepted(try scan("2023-03-02 08:25", [a, b])))
        #expect(accepted(try scan("2023-03-02 11:33", [a, b])))
        #expect(accepted(try scan("2023-03-02 14:01", [a, b])))

        // The county: issuing again is refused and names the reissue; reissue works once.
        let again = try run(at: "2023-03-02 14:02", "fieldkit-county", [
            "voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv",
        ])
        #expect(again.status == 1 && !again.stderr.contains("voucher reissue"), "not revoked yet: \(again.stderr)")
        let empty = try run(at: "2023-03-02 14:02", "fieldkit-county", ["voucher", "reissue", "--home", county, "\(ids[0])", "--reason", " "])
        #expect(empty.status == 1, "a reason is needed")
        let reissue = try run(at: "2023-03-02 14:02", "fieldkit-county", [
            "voucher", "reissue", "--home", county, "\(ids[0])", "--reason", "卡丢失", "--png", dir + "/png", "--json",
        ])
        let new = try json(reissue) as! [String: Any]
        let newID = (new["voucher_id"] as! NSNumber).uint64Value
        let a2 = new["code"] as! String
        #expect(new["replaces"] as? NSNumber == NSNumber(value: ids[0]) && new["name"] as? String == "学员甲")
        #expect(FileManager.default.fileExists(atPath: dir + "/png/voucher-\(newID).png"))
        let twice = try run(at: "2023-03-02 14:02", "fieldkit-county", ["voucher", "reissue", "--home", county, "\(ids[0])", "--reason", "x"])
        #expect(twice.status == 1 && twice.stderr.contains("already replaced by \(newID)"), "\(twice.stderr)")
        let listed = try run(at: "2023-03-02 14:02", "fieldkit-county", ["voucher", "list", "--home", county, "--class", "12"])
        #expect(listed.stdout.contains("replaced by \(newID)") && listed.stdout.contains("replaces \(ids[0])"), "\(listed.stdout)")
        // Issuing to 甲 again now names the voucher 甲 holds: the new one.
        try "学员甲,\(validID(1))\n".write(toFile: dir + "/one.csv", atomically: true, encoding: .utf8)
        let issueAgain = try run(at: "2023-03-02 14:02", "fieldkit-county", [
            "voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/one.csv",
        ])
        #expect(issueAgain.status == 1 && issueAgain.stderr.contains("holds voucher \(newID)"), "\(issueAgain.stderr)")

        // After the next bundle: the old voucher refused, the new one accepted.
        try expectOK(run(at: "2023-03-02 14:03", "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/b2"]))
        try expectOK(run(at: "2023-03-02 14:04", "fieldkit", ["trust", "import", "--home", site, dir + "/b2"]))
        let old = try scan("2023-03-02 14:05", [a])
        #expect(old.first?["result"] as? String == "rejected" && old.first?["reason"] as? String == "revoked", "\(old)")
        #expect(old.first?["name"] as? String == "学员甲", "the refusal names the trainee: \(old)")
        // A PC that never held the old roster names the trainee too (from the voucher that replaced it).
        let fresh = dir + "/fresh"
        try expectOK(run(at: "2023-03-02 14:04", "fieldkit", ["init", "--home", fresh, "--site", "S01", "--county-root", county + "/root.pub"]))
        try expectOK(run(at: "2023-03-02 14:04", "fieldkit", ["trust", "import", "--home", fresh, dir + "/b2"]))
        let freshScan = try run(at: "2023-03-02 14:05", "fieldkit", ["scan", "--home", fresh, "--json", a])
        #expect(freshScan.stdout.contains("\"name\":\"学员甲\"") && freshScan.stdout.contains("revoked"), "\(freshScan.stdout)")
        // 甲 signed in with the old card: the new one finds that sign-in (one person); a scan of it
        // right away is "already signed in", and its sign-out at the end closes the old card's sign-in.
        let again2 = try scan("2023-03-02 14:05", [a2])
        #expect(again2.first?["result"] as? String == "duplicate" && again2.first?["reason"] as? String == "already_in", "\(again2)")
        let out = try scan("2023-03-02 17:02", [a2, b])
        #expect(accepted(out) && out.allSatisfy { $0["direction"] as? String == "out" }, "\(out)")
        let open = try run("/usr/bin/sqlite3", [site + "/fieldkit.db", "SELECT count(*) FROM attendance WHERE out_seq IS NULL"])
        #expect(open.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the old card's sign-in is closed")
        // Day 2 with the new voucher only.
        for at in ["2023-03-03 08:25", "2023-03-03 11:33", "2023-03-03 13:56", "2023-03-03 17:02"] {
            #expect(accepted(try scan(at, [a2, b])), "\(at)")
        }

        // The recorder's files cover every session (no video, no subsidy under this policy).
        let recorder = dir + "/recorder"
        try FileManager.default.createDirectory(atPath: recorder, withIntermediateDirectories: true)
        for d in ["20230302", "20230303"] {
            for (from, to) in [("082000", "113500"), ("135000", "170500")] {
                try Data("video \(d) \(from)".utf8).write(to: URL(fileURLWithPath: "\(recorder)/ch01_\(d)\(from)_\(d)\(to).mp4"))
            }
        }
        try expectOK(run(at: "2023-03-03 17:20", "fieldkit", ["video", "scan", "--home", site, recorder, "--camera", "ch01"]))

        // All by USB: export, import, receipt.
        try expectOK(run(at: "2023-03-03 17:30", "fieldkit", ["sync", "export", "--home", site, "--out", dir + "/t1"]))
        try expectOK(run(at: "2023-03-04 09:00", "fieldkit-county", ["import", "--home", county, dir + "/t1"]))
        try expectOK(run(at: "2023-03-04 17:00", "fieldkit", ["sync", "receipt", "--home", site, dir + "/t1.receipt"]))

        // The claim: one row per person, 甲 with the days of both vouchers (the afternoon signed
        // in with the old one and out with the new one counts once, closed).
        let month = "2023-03-10 10:00"
        // An employment file that lists 甲 under the lost card's number counts for 甲.
        try "券号,是否就业\n\(ids[0]),是\n\(ids[1]),是\n".write(toFile: dir + "/jobs.csv", atomically: true, encoding: .utf8)
        for (program, home) in [("fieldkit-county", county), ("fieldkit", site)] {
            let args = program == "fieldkit" ? ["report", "class"] : ["claims"]
            let r = try run(at: month, program, args + ["--home", home, "--class", "12", "--employment", dir + "/jobs.csv", "--json"])
            #expect(r.status == 0 && r.stdout.contains("100%"), "\(program): \(r.stderr) \(r.stdout.prefix(300))")
        }
        let rows = try json(run(at: month, "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--employment-rate", "0.8", "--json", "--submit",
        ])) as! [[String: Any]]
        #expect(rows.map { ($0["voucher_id"] as! NSNumber).uint64Value } == [ids[1], newID], "\(rows)")
        #expect(rows.map { ($0["days"] as! NSNumber).intValue } == [2, 2], "\(rows)")
        #expect(rows.allSatisfy { ($0["amount"] as! NSNumber).doubleValue > 0 }, "\(rows)")
        // The site's estimate joins the two vouchers the same way: it equals the county's claim.
        let estimate = try json(run(at: month, "fieldkit", [
            "report", "class", "--home", site, "--class", "12", "--employment-rate", "0.8", "--json",
        ])) as! [String: Any]
        let estimated = (estimate["trainees"] as! [[String: Any]]).filter { ($0["amount"] as! NSNumber).doubleValue > 0 }
        #expect(estimated.map { ($0["voucher_id"] as! NSNumber).uint64Value } == [ids[1], newID], "\(estimate)")
        #expect(estimated.map { ($0["days"] as! NSNumber).intValue } == [2, 2], "\(estimate)")
        #expect(estimated.map { ($0["amount"] as! NSNumber).doubleValue } == rows.map { ($0["amount"] as! NSNumber).doubleValue })
        try expectOK(run(at: "2023-04-10 10:00", "fieldkit-county", ["pay", "--home", county, "--class", "12", "--reference", "GK-1"]))
        try expectOK(run(at: "2023-04-10 10:05", "fieldkit-county", ["write-off", "--home", county, "--class", "12"]))
        let states = try json(run(at: "2023-04-11 10:00", "fieldkit-county", ["voucher", "status", "--home", county, "--class", "12", "--json"]))
        #expect((states as! [[String: Any]]).map { $0["state"] as! String } == ["revoked", "written_off", "written_off"])
        let claims = try run("/usr/bin/sqlite3", [county + "/county.db", "SELECT count(*), count(DISTINCT trainee_ref) FROM claims WHERE written_off_ms IS NOT NULL"])
        #expect(claims.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2|2")
        // After the class, no reissue.
        let ended = try run(at: "2023-04-11 10:00", "fieldkit-county", ["voucher", "reissue", "--home", county, "\(newID)", "--reason", "lost"])
        #expect(ended.status == 1 && ended.stderr.contains("ended"), "\(ended.stderr)")
    }
}
