import Foundation
import Testing

/// The readings of the documents played through the real binaries under faketime, and the site's
/// estimate against the county's sheet for every programme of every policy file.
@Suite("End to end: money that follows the documents")
struct MoneyFollowsDocumentsTests {
    /// A county, site S01 and class 12 set up at `setup`, the vouchers issued, the site enrolled and
    /// trusting the bundle. Returns the codes and voucher ids in roster order.
    func classWithSite(_ dir: String, setup: String, classArgs: [String], roster: String) throws -> (codes: [String], ids: [UInt64]) {
        let county = dir + "/county", site = dir + "/site"
        try fakeTimeCounty(county, at: setup, classArgs: classArgs)
        try roster.write(toFile: dir + "/roster.csv", atomically: true, encoding: .utf8)
        let issued = try json(run(at: setup, "fieldkit-county", [
            "voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv", "--json",
        ])) as! [[String: Any]]
        try expectOK(run(at: setup, "fieldkit", ["init", "--home", site, "--site", "S01", "--county-root", county + "/root.pub"]))
        let server = try CountyServer(home: county, log: dir + "/serve-enroll.log", at: utc(setup))
        defer { server.stop() }
        let code = try json(run(at: setup, "fieldkit-county", ["device", "add", "--home", county, "--site", "S01", "--json"]))
        try expectOK(run(at: setup, "fieldkit", ["enroll", "--home", site, "--county", server.url, "--code", (code as! [String: Any])["code"] as! String]))
        try expectOK(run(at: setup, "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/S01.bundle"]))
        try expectOK(run(at: setup, "fieldkit", ["trust", "import", "--home", site, dir + "/S01.bundle"]))
        return (issued.map { $0["code"] as! String }, issued.map { ($0["voucher_id"] as! NSNumber).uint64Value })
    }

    /// Scans `codes` in at the session's start and `leaving` out at its end, for each day.
    func attend(_ site: String, days: [String], sessions: [(String, String)], codes: [String], leaving: [String]? = nil) throws {
        for day in days {
            for (start, end) in sessions {
                try expectOK(run(at: "\(day) \(start)", "fieldkit", ["scan", "--home", site, "--stdin", "--json"], stdin: codes.joined(separator: "\n") + "\n"))
                try expectOK(run(at: "\(day) \(end)", "fieldkit", ["scan", "--home", site, "--stdin", "--json"],
                                 stdin: (leaving ?? codes).joined(separator: "\n") + "\n"))
            }
        }
    }

    func sync(_ dir: String, at moment: String) throws {
        let server = try CountyServer(home: dir + "/county", log: dir + "/serve-sync.log", at: utc(moment))
        defer { server.stop() }
        try expectOK(run(at: moment, "fieldkit", ["sync", "--home", dir + "/site", "--county", server.url]))
    }

    @Test("衡 六(二) uplift on the catalogue standard and 不录不补, in 2020 through the binaries: 1020, 900, and nothing for who never came")
    func hengyangInItsYears() throws {
        let dir = temporaryDirectory()
        let (codes, _) = try classWithSite(dir, setup: "2020-02-26 10:00", classArgs: [
            "--name", "焊工（企业职工）", "--trade", "6-18-02-04", "--level", "4", "--start", "2020-03-02", "--end", "2020-03-03",
            "--sessions", "08:30-11:30,14:00-17:00", "--policy", "hengyang-2019", "--program", "enterprise_catalogue",
        ], roster: "学员甲,\(validID(1)),贫困县园区企业贫困劳动力\n学员乙,\(validID(2)),承接产业转移企业职工\n学员丙,\(validID(3))\n")
        try attend(dir + "/site", days: ["2020-03-02", "2020-03-03"], sessions: [("08:25", "11:33"), ("13:56", "17:02")], codes: Array(codes.prefix(2)))
        try sync(dir, at: "2020-03-03 18:00")
        let sheet = try json(run(at: "2020-03-20 10:00", "fieldkit-county", [
            "claims", "--home", dir + "/county", "--class", "12", "--catalogue-amount", "600", "--certificate-obtained", "--json",
        ])) as! [[String: Any]]
        // 600 × (1 + 70%) = 1020; 600 × (1 + 50%) = 900; no attendance, no subsidy
        #expect(sheet.map { ($0["amount"] as! NSNumber).doubleValue } == [1020, 900, 0], "\(sheet)")
        #expect(sheet.map { $0["refused"] as? String } == [nil, nil, "no_attendance"])
        // Claimed again in 2026, after the plan ended (2021-12-31): the class lies inside it, so the same amounts
        let late = try json(run(at: "2026-03-20 10:00", "fieldkit-county", [
            "claims", "--home", dir + "/county", "--class", "12", "--catalogue-amount", "600", "--certificate-obtained", "--json",
        ])) as! [[String: Any]]
        #expect(late.map { ($0["amount"] as! NSNumber).doubleValue } == [1020, 900, 0], "the class's dates decide, not the day of the claim")
    }

    @Test("古 四(一)1 / 晋 四(一)2: three one-hour evenings are not three days; a 2026 class under 古县's 2023 plan is refused until overridden")
    func shortEveningsAndDates() throws {
        let dir = temporaryDirectory()
        let (codes, _) = try classWithSite(dir, setup: "2026-02-26 10:00", classArgs: [
            "--name", "安全生产（企业职工）", "--trade", "6-18-02-04", "--level", "4", "--start", "2026-03-02", "--end", "2026-03-04",
            "--sessions", "19:00-20:00", "--policy", "gu-county-2023", "--program", "enterprise_staff",
        ], roster: "学员甲,\(validID(1))\n")
        try attend(dir + "/site", days: ["2026-03-02", "2026-03-03", "2026-03-04"], sessions: [("18:55", "20:02")], codes: codes)
        try sync(dir, at: "2026-03-04 20:30")
        let county = dir + "/county"
        let refused = try run(at: "2026-03-10 10:00", "fieldkit-county", ["claims", "--home", county, "--class", "12", "--json", "--lang", "en"])
        let rows = try json(refused) as! [[String: Any]]
        #expect(rows.map { $0["refused"] as? String } == ["policy_not_in_force"])
        #expect((rows[0]["refusal"] as! String).contains("2023-01-01 – 2023-12-31"))
        let overridden = try json(run(at: "2026-03-10 10:00", "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--json", "--outside-policy-dates",
        ])) as! [[String: Any]]
        #expect(overridden.map { $0["refused"] as? String } == ["not_enough_days"], "3 class days of 1 hour: 4 class hours, no full day")
        #expect(overridden.map { ($0["amount"] as! NSNumber).doubleValue } == [0])
    }

    static let programs: [(String, String)] = [
        ("shanxi-2023", "enterprise_staff"), ("shanxi-2023", "apprenticeship"), ("shanxi-2023", "order_project"), ("shanxi-2023", "online"),
        ("shanxi-2023", "certificate"), ("shanxi-2023", "special_certificate"), ("gu-county-2023", "enterprise_staff"),
        ("gu-county-2023", "order_project"), ("gu-county-2023", "universal"), ("hengyang-2019", "free_training"),
        ("hengyang-2019", "enterprise_catalogue"), ("hengyang-2019", "enterprise_outside_catalogue"), ("hengyang-2019", "safety"),
    ]

    @Test("the site's estimate equals the county's sheet for the same events, for every programme of every policy file")
    func estimateEqualsClaim() throws {
        let dir = temporaryDirectory()
        let (codes, _) = try classWithSite(dir, setup: "2026-02-26 10:00", classArgs: [
            "--name", "焊工", "--trade", "6-18-02-04", "--level", "4", "--start", "2026-03-02", "--end", "2026-03-06",
            "--sessions", "08:30-11:30,14:00-17:00", "--location", "古县岳阳镇",
        ], roster: "学员甲,\(validID(1)),脱贫劳动力;贫困县园区企业贫困劳动力\n学员乙,\(validID(2))\n学员丙,\(validID(3)),失业人员\n学员丁,\(validID(4))\n")
        let site = dir + "/site"
        // 甲 and 乙 every day; 丙 three days and once forgets to sign out; 丁 never comes.
        try attend(site, days: ["2026-03-02", "2026-03-03", "2026-03-04"], sessions: [("08:25", "11:33"), ("13:56", "17:02")], codes: Array(codes.prefix(3)))
        try attend(site, days: ["2026-03-05"], sessions: [("08:25", "11:33"), ("13:56", "17:02")], codes: Array(codes.prefix(3)), leaving: Array(codes.prefix(2)))
        try attend(site, days: ["2026-03-06"], sessions: [("08:25", "11:33"), ("13:56", "17:02")], codes: Array(codes.prefix(2)))
        // The recorder covered every session but the afternoon of the 4th: a video gap where video is asked for.
        let recorder = dir + "/recorder"
        try FileManager.default.createDirectory(atPath: recorder, withIntermediateDirectories: true)
        for d in ["02", "03", "04", "05", "06"] {
            let spans = d == "04" ? [("082000", "113500")] : [("082000", "113500"), ("135000", "170500")]
            for (from, to) in spans {
                try Data("v\(d)\(from)".utf8).write(to: URL(fileURLWithPath: "\(recorder)/ch01_202603\(d)\(from)_202603\(d)\(to).mp4"))
            }
        }
        try expectOK(run(at: "2026-03-06 17:30", "fieldkit", ["video", "scan", "--home", site, recorder, "--camera", "ch01"]))
        try sync(dir, at: "2026-03-06 18:00")

        let moment = "2026-03-09 10:00"
        var compared = 0
        for (policyID, program) in Self.programs {
            for extra in [[], ["--outside-policy-dates", "--accept-flagged"]] {
                let options = [
                    "--class", "12", "--policy", policyID, "--program", program, "--employment-rate", "0.9", "--offline-share", "0.25",
                    "--catalogue-amount", "800", "--certificate-obtained", "--lang", "zh",
                ] + extra
                let estimate = try json(run(at: moment, "fieldkit", ["report", "class", "--home", site, "--json"] + options)) as! [String: Any]
                let sheet = try json(run(at: moment, "fieldkit-county", ["claims", "--home", dir + "/county", "--json"] + options)) as! [[String: Any]]
                let site = estimate["trainees"] as! [[String: Any]]
                let label = "\(policyID) \(program) \(extra)"
                #expect(site.count == 4 && sheet.count == 4, "\(label)")
                for (a, b) in zip(site, sheet) {
                    for key in ["voucher_id", "days", "hours", "flagged_days", "flagged_hours", "amount", "refused", "refusal", "lines", "program"] {
                        #expect("\(a[key] ?? "nil")" == "\(b[key] ?? "nil")", "\(label) \(key): site \(a[key] ?? "nil"), county \(b[key] ?? "nil")")
                    }
                }
                #expect((estimate["total"] as! NSNumber).doubleValue == sheet.reduce(0) { $0 + ($1["amount"] as! NSNumber).doubleValue }, "\(label)")
                compared += 1
            }
        }
        #expect(compared == Self.programs.count * 2)
        // The video gap and the open sign-in are held apart on both sides under 古县's 订单式 (with the override).
        let gu = try json(run(at: moment, "fieldkit-county", [
            "claims", "--home", dir + "/county", "--json", "--class", "12", "--policy", "gu-county-2023", "--program", "order_project",
            "--employment-rate", "0.9", "--outside-policy-dates",
        ])) as! [[String: Any]]
        #expect(gu.map { ($0["days"] as! NSNumber).intValue } == [4, 4, 2, 0], "\(gu.map { $0["review"] ?? "" })")
        #expect(gu.map { ($0["amount"] as! NSNumber).doubleValue } == [600, 600, 300, 0])
    }
}
