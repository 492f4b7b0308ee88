import Foundation
import Testing

/// Splits CSV text (RFC 4180, a byte-order mark allowed) into rows of cells, as a spreadsheet reads it.
func csvRows(_ text: String) -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], cell = "", quoted = false
    var chars = Array((text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text).unicodeScalars)[...]
    while let c = chars.popFirst() {
        if quoted {
            if c == "\"" {
                if chars.first == "\"" { chars.removeFirst(); cell.unicodeScalars.append("\"") } else { quoted = false }
            } else { cell.unicodeScalars.append(c) }
        } else if c == "\"" && cell.isEmpty {
            quoted = true
        } else if c == "," {
            row.append(cell); cell = ""
        } else if c == "\r" && chars.first == "\n" {
            continue
        } else if c == "\n" {
            row.append(cell); rows.append(row); row = []; cell = ""
        } else { cell.unicodeScalars.append(c) }
    }
    if !cell.isEmpty || !row.isEmpty { row.append(cell); rows.append(row) }
    return rows
}

/// How a spreadsheet takes a cell: a formula (starts with = + - @ but is no plain number), a number, or text.
func spreadsheetKind(_ cell: String) -> String {
    if Double(cell) != nil && cell.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-") }) { return "number" }
    if let f = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(f) { return "formula" }
    return "text"
}

/// Runs sqlite3 on a database file.
@discardableResult
func sqlite(_ db: String, _ sql: String) throws -> Run {
    let r = try run("/usr/bin/sqlite3", [db, sql])
    try expectOK(r)
    return r
}

@Suite("End to end: output hygiene, bounded options, a missing database")
struct HygieneTests {
    static let formulaNames = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2+3", "=HYPERLINK(\"http://x\",\"y\")"]

    @Test("formula-looking names: issued, scanned, then shown as text in the day sheet, export, claim sheet and estimate CSVs; numbers stay numbers")
    func formulaNamesInCSV() throws {
        let dir = temporaryDirectory()
        let county = dir + "/county", site = dir + "/site"
        let setup = "2026-02-26 10:00"
        try fakeTimeCounty(county, at: setup, classArgs: [
            "--name", "焊工", "--trade", "6-18-02-04", "--level", "4", "--start", "2026-03-02", "--end", "2026-03-13",
            "--sessions", "08:30-11:30,14:00-17:00", "--program", "apprenticeship", "--policy", "shanxi-2023",
        ])
        let roster = Self.formulaNames.enumerated().map { i, name in
            "\"\(name.replacingOccurrences(of: "\"", with: "\"\""))\",\(validID(i + 1))"
        }.joined(separator: "\n") + "\n"
        try roster.write(toFile: dir + "/roster.csv", atomically: true, encoding: .utf8)
        let issued = try json(run(at: setup, "fieldkit-county", [
            "voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv", "--json",
        ])) as! [[String: Any]]
        #expect(issued.map { $0["name"] as? String } == Self.formulaNames, "names are issued as written")
        let codes = issued.map { $0["code"] as! String }
        try expectOK(run(at: setup, "fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/S01.bundle"]))
        try expectOK(run(at: setup, "fieldkit", ["init", "--home", site, "--site", "S01", "--county-root", county + "/root.pub"]))
        try expectOK(run(at: "2026-03-02 07:50", "fieldkit", ["trust", "import", "--home", site, dir + "/S01.bundle"]))
        for (start, end) in [("08:25", "11:33"), ("13:56", "17:02")] {
            try expectOK(run(at: "2026-03-02 \(start)", "fieldkit", ["scan", "--home", site, "--stdin"], stdin: codes.joined(separator: "\n") + "\n"))
            try expectOK(run(at: "2026-03-02 \(end)", "fieldkit", ["scan", "--home", site, "--stdin"], stdin: codes.joined(separator: "\n") + "\n"))
        }

        // The day sheet: every name cell is text starting with ', the voucher cells numbers.
        let day = try run(at: "2026-03-02 18:00", "fieldkit", ["report", "day", "--home", site, "--class", "12", "--date", "2026-03-02", "--format", "csv"])
        try expectOK(day)
        let dayRows = csvRows(day.stdout).filter { $0.count == 18 && Int($0[4]) != nil }
        #expect(dayRows.count == 2 * Self.formulaNames.count, "\(day.stdout)")
        #expect(Set(dayRows.map { $0[5] }) == Set(Self.formulaNames.map { "'" + $0 }), "\(day.stdout)")
        #expect(dayRows.allSatisfy { spreadsheetKind($0[7]) == "number" && spreadsheetKind($0[4]) == "number" && spreadsheetKind($0[10]) == "number" })
        #expect(csvRows(day.stdout).joined().allSatisfy { spreadsheetKind($0) != "formula" }, "\(day.stdout)")

        // The export of the log.
        let export = try run(at: "2026-03-02 18:00", "fieldkit", ["export", "--home", site, "--format", "csv"])
        try expectOK(export)
        let exportRows = csvRows(export.stdout)
        #expect(Set(exportRows.dropFirst().filter { $0.count == 16 && !$0[6].isEmpty }.map { $0[6] }).isSubset(of: Set(Self.formulaNames.map { "'" + $0 })))
        #expect(exportRows.filter { $0.count == 16 && $0[6].hasPrefix("'=cmd") }.count == 4)
        #expect(exportRows.dropFirst().allSatisfy { spreadsheetKind($0[0]) == "number" })
        #expect(exportRows.joined().allSatisfy { spreadsheetKind($0) != "formula" })

        // The site's estimate, with real days and amounts: amounts are numbers that add up.
        try expectOK(run(at: "2026-03-02 18:00", "fieldkit", [
            "report", "class", "--home", site, "--class", "12", "--format", "csv", "--out", dir + "/estimate.csv",
        ]))
        let estimate = csvRows(String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/estimate.csv")), as: UTF8.self))
        let trainees = estimate.filter { $0.count == 12 && $0[1].allSatisfy(\.isNumber) && !$0[1].isEmpty }
        #expect(trainees.count == Self.formulaNames.count)
        #expect(Set(trainees.map { $0[2] }) == Set(Self.formulaNames.map { "'" + $0 }))
        #expect(trainees.allSatisfy { $0[5] == "1" && spreadsheetKind($0[9]) == "number" && Double($0[9])! > 0 }, "\(trainees)")
        let total = try #require(estimate.last)
        #expect(Double(total[9]) == trainees.reduce(0) { $0 + Double($1[9])! })
        #expect(estimate.joined().allSatisfy { spreadsheetKind($0) != "formula" })

        // The county's claim sheet.
        try expectOK(run(at: "2026-03-20 10:00", "fieldkit-county", [
            "claims", "--home", county, "--class", "12", "--csv", dir + "/claims.csv",
        ]))
        let claims = csvRows(String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/claims.csv")), as: UTF8.self))
        let claimRows = claims.filter { $0.count == 12 && $0[1].allSatisfy(\.isNumber) && !$0[1].isEmpty }
        #expect(Set(claimRows.map { $0[2] }) == Set(Self.formulaNames.map { "'" + $0 }), "\(claims)")
        #expect(claimRows.allSatisfy { $0[0] == "12" && $0[5] == "0" && $0[9] == "0.00" })
        #expect(claims.joined().allSatisfy { spreadsheetKind($0) != "formula" })
    }

    @Test("a roster with ESC, BEL, a quoted newline or U+202E is refused naming the line and the code point; site and class names too")
    func hiddenCharactersRefused() throws {
        let dir = temporaryDirectory()
        let county = dir + "/c"
        try expectOK(run("fieldkit-county", ["init", "--home", county, "--county", "141023"]))
        try expectOK(run("fieldkit-county", ["site", "add", "--home", county, "--id", "S01", "--name", "古县职业培训学校"]))
        try expectOK(run("fieldkit-county", [
            "class", "add", "--home", county, "--id", "12", "--site", "S01", "--name", "中式烹调师", "--trade", "4-03-02-01",
            "--level", "5", "--start", "2026-03-02", "--end", "2026-03-31", "--sessions", "08:30-11:30",
        ]))
        let roster = "阿依古丽·买买提,\(validID(1))\n张\u{1B}[2J三,\(validID(2))\n李四\u{07},\(validID(3))\n\"王\n五\",\(validID(4))\n\u{202E}赵六,\(validID(5))\n"
        try roster.write(toFile: dir + "/roster.csv", atomically: true, encoding: .utf8)
        let r = try run("fieldkit-county", ["voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv"])
        #expect(r.status == 1, "\(r.stderr)")
        for (line, code) in [(2, "U+001B"), (3, "U+0007"), (4, "U+000A"), (6, "U+202E")] {
            #expect(r.stderr.contains("line \(line): the name holds the control or bidirectional character \(code)"), "\(r.stderr)")
        }
        #expect(!r.stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E })
        #expect(r.stderr.split(separator: "\n").count == 1)
        let list = try run("fieldkit-county", ["voucher", "list", "--home", county, "--json"])
        #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "nothing was issued")

        for (args, flag) in [
            (["site", "add", "--home", county, "--id", "S02", "--name", "学校\u{202E}"], "--name"),
            (["class", "add", "--home", county, "--id", "13", "--site", "S01", "--name", "焊工\u{1B}[31m", "--trade", "4-03-02-01",
              "--level", "5", "--start", "2026-03-02", "--end", "2026-03-31", "--sessions", "08:30-11:30"], "--name"),
            (["class", "add", "--home", county, "--id", "13", "--site", "S01", "--name", "焊工", "--trade", "4-03-02-01",
              "--level", "5", "--start", "2026-03-02", "--end", "2026-03-31", "--sessions", "08:30-11:30", "--location", "古县\u{2028}"], "--location"),
        ] {
            let bad = try run("fieldkit-county", args)
            #expect(bad.status == 64 && bad.stderr.contains(flag) && bad.stderr.contains("U+"), "\(bad.stderr)")
            #expect(!bad.stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E || $0.value == 0x2028 })
        }
    }

    @Test("names and class names with controls that reach a station anyway are shown escaped by scan, status and report; JSON stays JSON")
    func escapedOnTheSite() throws {
        let w = try World(trainees: 2)
        let db = w.county + "/county.db"
        // Given: a county database edited behind the county's back (no command lets such names in).
        try sqlite(db, "UPDATE vouchers SET name = '张' || char(27) || '[2J' || char(7) || '三' || char(8238) WHERE id = \(w.codes[0].id)")
        try sqlite(db, "UPDATE classes SET json = json_set(json, '$.name', '烹调' || char(27) || ']0;owned' || char(7)) WHERE id = 12")
        try expectOK(run("fieldkit-county", ["bundle", "--home", w.county, "--site", "S01", "--out", w.dir + "/S01.bundle"]))
        try expectOK(run("fieldkit", ["trust", "import", "--home", w.site, w.dir + "/S01.bundle"]))
        // When: the trainee scans. Then: the terminal sees escapes, never the characters.
        let scan = try run("fieldkit", ["scan", "--home", w.site, w.codes[0].code])
        #expect(scan.status == 0, "\(scan.stderr)")
        #expect(scan.stdout.contains("张\\u001B[2J\\u0007三\\u202E") && scan.stdout.contains("烹调\\u001B]0;owned\\u0007"), "\(scan.stdout)")
        let raw: [UInt32] = [0x1B, 0x07, 0x202E]
        #expect(!scan.stdout.unicodeScalars.contains { raw.contains($0.value) })
        let status = try run("fieldkit", ["status", "--home", w.site])
        #expect(status.status == 0 && status.stdout.contains("烹调\\u001B]0;owned\\u0007"), "\(status.stdout)")
        #expect(!status.stdout.unicodeScalars.contains { raw.contains($0.value) })
        let report = try run("fieldkit", ["report", "class", "--home", w.site, "--class", "12", "--policy", "shanxi-2023", "--program", "apprenticeship"])
        #expect(report.status == 0 && report.stdout.contains("张\\u001B[2J"), "\(report.stderr)")
        #expect(!report.stdout.unicodeScalars.contains { raw.contains($0.value) })
        // JSON output decodes to the name as it is stored.
        let again = try run("fieldkit", ["scan", "--home", w.site, "--json", w.codes[0].code])
        let object = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any]
        #expect(object["name"] as? String == "张\u{1B}[2J\u{07}三\u{202E}")
        #expect(!again.stdout.unicodeScalars.contains { raw.contains($0.value) })
    }

    @Test("the kiosk draws such a name escaped: the screen is not cleared, the text not reversed")
    func escapedOnTheKiosk() throws {
        let w = try World(trainees: 2)
        try sqlite(w.county + "/county.db", "UPDATE vouchers SET name = '张' || char(27) || '[2J三' || char(8238) WHERE id = \(w.codes[0].id)")
        try expectOK(run("fieldkit-county", ["bundle", "--home", w.county, "--site", "S01", "--out", w.dir + "/S01.bundle"]))
        try expectOK(run("fieldkit", ["trust", "import", "--home", w.site, w.dir + "/S01.bundle"]))
        let k = try KioskSession(home: w.site, args: ["--lang", "en"])
        try k.waitFor("Ready to scan")
        try k.type(w.codes[0].code)
        let screen = try k.waitFor("Signed in", "张\\u001B[2J三\\u202E")
        #expect(screen.contains("Ready to scan") == false && screen.contains("in class 1"), "\(screen)")
        try k.type("q", enter: false)
        try k.waitFor("Quit the kiosk?")
        try k.type("y", enter: false)
    }

    @Test("device-sent kind, flags and device id with ESC reach `fieldkit-county attendance` and `device list` escaped; an absurd time is no crash")
    func escapedAtTheCounty() throws {
        let w = try World(trainees: 1)
        let db = w.county + "/county.db"
        let device = "'S01-EVIL' || char(27) || '[2J'"
        try sqlite(db, """
            INSERT INTO devices(id, site_id, public_key, status, enrolled_ms) VALUES (\(device), 'S01', 'x', 'active', 0);
            INSERT INTO events(device_id, seq, site_id, kind, direction, voucher_id, class_id, class_day, session_index, flags, wall_ms, hash, body, received_ms)
            VALUES (\(device), 1, 'S01', 'scan' || char(27) || '[31m', 'in' || char(7), \(w.codes[0].id), 12, '2026-03-02', 0,
                    'late' || char(8238) || char(13), -9223372036854775808, zeroblob(32), '{}', 0);
            """)
        let r = try run("fieldkit-county", ["attendance", "--home", w.county, "--class", "12"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("S01-EVIL\\u001B[2J #1 ms:-9223372036854775808 scan\\u001B[31m in\\u0007"), "\(r.stdout)")
        #expect(r.stdout.contains("late\\u202E\\r"), "\(r.stdout)")
        let raw: [UInt32] = [0x1B, 0x07, 0x202E, 0x0D]
        #expect(!r.stdout.unicodeScalars.contains { raw.contains($0.value) })
        let devices = try run("fieldkit-county", ["device", "list", "--home", w.county])
        #expect(devices.status == 0 && devices.stdout.contains("S01-EVIL\\u001B[2J"), "\(devices.stdout)")
        #expect(!devices.stdout.unicodeScalars.contains { raw.contains($0.value) })
    }

    static let huge = "9223372036854775807"
    static let hugeOptions: [(String, [String], String)] = [
        ("claims employment rate", ["fieldkit-county", "claims", "--home", "/tmp", "--class", "12", "--employment-rate=\(huge)/\(huge)"], "--employment-rate"),
        ("claims offline share", ["fieldkit-county", "claims", "--home", "/tmp", "--class", "12", "--offline-share", "1/\(huge)"], "--offline-share"),
        ("claims catalogue amount", ["fieldkit-county", "claims", "--home", "/tmp", "--class", "12", "--catalogue-amount", huge], "--catalogue-amount"),
        ("claims catalogue amount as a fraction", ["fieldkit-county", "claims", "--home", "/tmp", "--class", "12", "--catalogue-amount", "\(huge)/1"], "--catalogue-amount"),
        ("claims catalogue amount too large", ["fieldkit-county", "claims", "--home", "/tmp", "--class", "12", "--catalogue-amount", "1000000.01"], "--catalogue-amount"),
        ("claims extra days", ["fieldkit-county", "claims", "--home", "/tmp", "--class", "12", "--extra-days", huge], "--extra-days"),
        ("report class employment rate", ["fieldkit", "report", "class", "--home", "/tmp", "--class", "12", "--employment-rate=\(huge)/\(huge)"], "--employment-rate"),
        ("report class rate digits", ["fieldkit", "report", "class", "--home", "/tmp", "--class", "12", "--employment-rate", "0.\(huge)"], "--employment-rate"),
        ("device add hours", ["fieldkit-county", "device", "add", "--home", "/tmp", "--site", "S01", "--hours", huge], "--hours"),
        ("device add negative hours", ["fieldkit-county", "device", "add", "--home", "/tmp", "--site", "S01", "--hours=-9223372036854775808"], "--hours"),
        ("serve port", ["fieldkit-county", "serve", "--home", "/tmp", "--port", huge], "--port"),
        ("bundle days", ["fieldkit-county", "bundle", "--home", "/tmp", "--site", "S01", "--out", "/tmp/x", "--valid-days", huge], "--valid-days"),
        ("sync interval", ["fieldkit", "sync", "--home", "/tmp", "--watch", "--interval", huge], "--interval"),
        ("sync batch", ["fieldkit", "sync", "--home", "/tmp", "--batch", huge], "--batch"),
        ("kiosk sync", ["fieldkit", "kiosk", "--home", "/tmp", "--sync-every", huge], "--sync-every"),
        ("class id past UInt32", ["fieldkit-county", "claims", "--home", "/tmp", "--class", "99999999999999999999"], "--class"),
        ("manual time", ["fieldkit", "manual", "1", "--home", "/tmp", "--direction", "in", "--reason", "x", "--at", "99999999999999999999:00"], "--at"),
    ]

    @Test("huge numbers in options answer exit 64 with one line naming the flag", arguments: hugeOptions)
    func hugeNumbers(name: String, argv: [String], flag: String) throws {
        let r = try run(argv[0], Array(argv.dropFirst()))
        #expect(r.status == 64, "\(name): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(flag), "\(name): \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), "\(name)")
        #expect(r.stderr.split(separator: "\n").filter { $0.contains("rror") }.count == 1, "\(name): \(r.stderr)")
    }

    @Test("a deleted site database: every command says restore it from backup; init refuses; --new-device makes a new device and keeps the old key")
    func deletedDatabase() throws {
        let w = try World(trainees: 1)
        let before = try run("fieldkit", ["status", "--home", w.site, "--json"])
        let oldDevice = try #require((try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [String: Any])?["device_id"] as? String)
        let oldKey = try Data(contentsOf: URL(fileURLWithPath: w.site + "/device.key"))
        for name in ["fieldkit.db", "fieldkit.db-wal", "fieldkit.db-shm"] { try? FileManager.default.removeItem(atPath: w.site + "/" + name) }

        for args in [["status"], ["scan", w.codes[0].code], ["log", "verify"], ["export"], ["sync"]] {
            let r = try run("fieldkit", args + ["--home", w.site])
            #expect(r.status == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("database missing: \(w.site)/fieldkit.db is gone"), "\(args): \(r.stderr)")
            #expect(r.stderr.contains("restore") && r.stderr.contains("-" + oldDevice.split(separator: "-").last!), "\(r.stderr)")
            #expect(!r.stderr.contains("run `fieldkit init"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
        let zh = try run("fieldkit", ["status", "--home", w.site], env: ["LANG": "zh_CN.UTF-8"])
        #expect(zh.stderr.contains("数据库缺失") && zh.stderr.contains("备份"), "\(zh.stderr)")

        let refused = try run("fieldkit", ["init", "--home", w.site, "--site", "S01", "--county-root", w.county + "/root.pub"])
        #expect(refused.status == 1 && refused.stderr.contains("--new-device"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.site + "/fieldkit.db"))

        let fresh = try run("fieldkit", ["init", "--home", w.site, "--site", "S01", "--county-root", w.county + "/root.pub", "--new-device"])
        try expectOK(fresh)
        let after = try json(run("fieldkit", ["status", "--home", w.site, "--json"])) as! [String: Any]
        let newDevice = try #require(after["device_id"] as? String)
        #expect(newDevice != oldDevice && newDevice.hasPrefix("S01-"))
        #expect(fresh.stdout.contains(newDevice) && fresh.stdout.contains("enrollment code") && fresh.stdout.contains("device.key.retired-"), "\(fresh.stdout)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: w.site).filter { $0.hasPrefix("device.key.retired-") }
        #expect(kept.count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.site + "/" + kept[0])) == oldKey)
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.site + "/device.key")) != oldKey)
        try expectOK(run("fieldkit", ["log", "verify", "--home", w.site]))
    }
}
