import Foundation
import Testing

@Suite("End to end: from attendance to money")
struct ClaimLoopTests {
    @Test("issue, scan a two-week class, sync, claim, pay, write off; a second claim is refused")
    func twoWeekClass() throws {
        let dir = temporaryDirectory()
        let county = dir + "/county", site = dir + "/site"
        let setup = "2023-02-26 10:00"
        try fakeTimeCounty(county, at: setup, classArgs: [
            "--name", "焊工（订单式）", "--trade", "6-18-02-04", "--level", "4", "--start", "2023-03-02", "--end", "2023-03-13",
            "--sessions", "08:30-11:30,14:00-17:00", "--program", "order_project", "--policy", "gu-county-2023",
        ])
        let roster = "学员甲,\(validID(1))\n学员乙,\(validID(2))\n学员丙,\(validID(3)),失业人员\n"
        try roster.write(toFile: dir + "/roster.csv", atomically: true, encoding: .utf8)
        let issued = try json(run(at: setup, "fieldkit-county", [
            "voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv", "--json",
        ])) as! [[String: Any]]
        let ids = issued.map { ($0["voucher_id"] as! NSNumber).uint64Value }
        let codes = issued.map { $0["code"] as! String }
        let (a, b, c) = (codes[0], codes[1], codes[2])

        // The site is set up and enrolled once, with a link.
        try expectOK(run(at: setup, "fieldkit", ["init", "--home", site, "--site", "S01", "--county-root", county + "/root.pub"]))
        do {
            let server = try CountyServer(home: county, log: dir + "/serve1.log", at: utc(setup))
            defer { server.stop() }
            let code = try json(run(at: setup, "fieldkit-county", ["device", "add", "--home", county, "--site", "S01", "--json"]))
            try expectOK(run(at: setup, "fieldkit", [
                "enroll", "--home", site, "--county", server.url, "--code", (code as! [String: Any])["code"] as! String,
            ]))
        }
        try expectOK(run(at: "2023-03-01 17:00", "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/S01.bundle"]))
        try expectOK(run(at: "2023-03-02 07:50", "fieldkit", ["trust", "import", "--home", site, dir + "/S01.bundle"]))

        // Two weeks, Monday to Friday. 甲 comes every day; 乙 the first three days; 丙 every
        // day, but on the last afternoon leaves without signing out.
        let days = ["02", "03", "04", "05", "06", "09", "10", "11", "12", "13"].map { "2023-03-\($0)" }
        for (n, day) in days.enumerated() {
            let present = n < 3 ? [a, b, c] : [a, c]
            for (start, end) in [("08:25", "11:33"), ("13:56", "17:02")] {
                let inRun = try run(at: "\(day) \(start)", "fieldkit", ["scan", "--home", site, "--stdin", "--json"],
                    stdin: present.joined(separator: "\n") + "\n")
                try expectOK(inRun)
                #expect(inRun.stdout.split(separator: "\n").allSatisfy { $0.contains("\"accepted\"") }, "\(day) \(start): \(inRun.stdout)")
                let leaving = n == days.count - 1 && start == "13:56" ? [a] : present
                try expectOK(run(at: "\(day) \(end)", "fieldkit", ["scan", "--home", site, "--stdin", "--json"],
                    stdin: leaving.joined(separator: "\n") + "\n"))
            }
        }

        // The recorder's files of the fortnight (古 四(三): video of the whole training), named as the
        // recorder names them, registered at the site: every session is covered.
        let recorder = dir + "/recorder"
        try FileManager.default.createDirectory(atPath: recorder, withIntermediateDirectories: true)
        for day in days {
            let d = day.replacingOccurrences(of: "-", with: "")
            for (from, to) in [("082000", "113500"), ("135000", "170500")] {
                try Data("video \(d) \(from)".utf8).write(to: URL(fileURLWithPath: "\(recorder)/ch01_\(d)\(from)_\(d)\(to).mp4"))
            }
        }
        try expectOK(run(at: "2023-03-13 17:30", "fieldkit", ["video", "scan", "--home", site, recorder, "--camera", "ch01"]))

        // The institution's view before the county's: the same days and an estimate.
        let report = try json(run(at: "2023-03-13 18:00", "fieldkit", ["report", "class", "--home", site, "--class", "12", "--json"]))
        let rows = (report as! [String: Any])["trainees"] as! [[String: Any]]
        #expect(rows.map { ($0["days"] as! NSNumber).intValue } == [10, 3, 9], "\(rows)")

        // The link is back at the end of the class: everything goes to the county.
        do {
            let server = try CountyServer(home: county, log: dir + "/serve2.log", at: utc("2023-03-13 18:00"))
            defer { server.stop() }
            try expectOK(run(at: "2023-03-13 18:00", "fieldkit", ["sync", "--home", site, "--county", server.url]))
        }

        // Before the class's last session ends its sheet is a preview: shown, never submitted.
        let early = try run(at: "2023-03-13 16:00", "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--employment-rate", "0.8", "--html", dir + "/preview.html", "--submit", "--lang", "zh",
        ])
        #expect(early.status == 1 && early.stderr.contains("2023-03-13 17:00") && early.stderr.contains("预览"), "\(early.stderr)")
        #expect(try String(contentsOfFile: dir + "/preview.html", encoding: .utf8).contains("预览"))

        let month = "2023-03-31 16:00"
        let status = try json(run(at: month, "fieldkit-county", ["voucher", "status", "--home", county, "--class", "12", "--json"]))
        #expect((status as! [[String: Any]]).map { $0["state"] as! String } == ["completed", "completed", "completed"])

        // Employment below 80%: paid as universal training, 100 a day, at most 1000.
        let low = try json(run(at: month, "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--employment-rate", "0.75", "--json",
        ])) as! [[String: Any]]
        #expect(low.map { ($0["amount"] as! NSNumber).doubleValue } == [1000, 300, 900], "\(low)")

        // A file that leaves a trainee out is refused, naming the voucher: the rate is over the whole class
        try "voucher_id,employed\n\(ids[0]),是\n\(ids[1]),是\n".write(toFile: dir + "/partial.csv", atomically: true, encoding: .utf8)
        let partial = try run(at: month, "fieldkit-county", ["claims", "--home", county, "--class", "12", "--employment", dir + "/partial.csv"])
        #expect(partial.status == 1 && partial.stderr.contains(String(ids[2])), "\(partial.stderr)")

        // The same from a file of who found work (4 of 5 would be 80%; here 3 of 3)
        try "voucher_id,employed\n\(ids[0]),是\n\(ids[1]),yes\n\(ids[2]),1\n".write(toFile: dir + "/jobs.csv", atomically: true, encoding: .utf8)
        let byFile = try json(run(at: month, "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--employment", dir + "/jobs.csv", "--json",
        ])) as! [[String: Any]]
        #expect(byFile.map { ($0["amount"] as! NSNumber).doubleValue } == [1500, 450, 1350])
        // Bad input: one line naming the value and what to do, nothing recorded
        try "voucher_id,employed\n\(ids[0]),maybe\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        let badFile = try run(at: month, "fieldkit-county", ["claims", "--home", county, "--class", "12", "--employment", dir + "/bad.csv", "--submit"])
        #expect(badFile.status == 1 && badFile.stderr.contains("line 2") && badFile.stderr.contains("maybe"), "\(badFile.stderr)")
        let badPolicy = try run(at: month, "fieldkit-county", ["claims", "--home", county, "--class", "12", "--policy", "gu-2023"])
        #expect(badPolicy.status == 1 && badPolicy.stderr.contains("gu-county-2023"), "\(badPolicy.stderr)")
        let badRate = try run(at: month, "fieldkit-county", ["claims", "--home", county, "--class", "12", "--employment-rate", "1.5"])
        #expect(badRate.status == 64 && badRate.stderr.contains("1.5"), "\(badRate.stderr)")

        // ≥ 80%: 150 a day for the first 10 days.
        let sheet = try json(run(at: month, "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--employment-rate", "0.8", "--json",
            "--csv", dir + "/claims.csv", "--html", dir + "/claims.html",
        ])) as! [[String: Any]]
        #expect(sheet.map { ($0["voucher_id"] as! NSNumber).uint64Value } == ids)
        #expect(sheet.map { ($0["amount"] as! NSNumber).doubleValue } == [1500, 450, 1350], "\(sheet)")
        #expect(sheet.map { ($0["days"] as! NSNumber).intValue } == [10, 3, 9])
        #expect(sheet.allSatisfy { $0["refused"] is NSNull && !($0["lines"] as! [Any]).isEmpty })
        let csv = try Data(contentsOf: URL(fileURLWithPath: dir + "/claims.csv"))
        #expect(csv.starts(with: [0xEF, 0xBB, 0xBF]))
        let html = try String(contentsOfFile: dir + "/claims.html", encoding: .utf8)
        #expect(html.contains("3,300.00") || html.contains("3300.00"), "the total is on the printed sheet")
        #expect(html.contains("人民币叁仟叁佰元整"), "and in capitals")
        #expect(html.contains("2024-03-31") && !html.contains("预览"), "the deadline (次年3月底), and no preview mark")
        #expect(!html.contains(validID(1)) && !String(decoding: csv, as: UTF8.self).contains(validID(1)))

        // Submitted, paid, written off; then the same vouchers cannot be claimed again.
        try expectOK(run(at: month, "fieldkit-county", ["claims", "--home", county, "--class", "12", "--employment-rate", "0.8", "--submit"]))
        try expectOK(run(at: "2023-04-10 10:00", "fieldkit-county", ["pay", "--home", county, "--class", "12", "--reference", "GK-2023-0410"]))
        try expectOK(run(at: "2023-04-10 10:05", "fieldkit-county", ["write-off", "--home", county, "--class", "12"]))
        let closed = try json(run(at: "2023-04-11 10:00", "fieldkit-county", ["voucher", "status", "--home", county, "--class", "12", "--json"]))
        #expect((closed as! [[String: Any]]).map { $0["state"] as! String } == ["written_off", "written_off", "written_off"])
        let again = try json(run(at: "2023-04-11 10:00", "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--employment-rate", "0.8", "--json", "--submit",
        ])) as! [[String: Any]]
        #expect(again.allSatisfy { $0["refused"] as? String == "already_claimed" && ($0["amount"] as! NSNumber).doubleValue == 0 }, "\(again)")
        let paid = try run("/usr/bin/sqlite3", [county + "/county.db", "SELECT count(*), sum(amount_fen) FROM claims"])
        #expect(paid.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3|330000")
    }
}
