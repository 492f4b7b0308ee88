import Foundation
import Testing

@Suite("End to end: the real binaries")
struct CommandLineTests {
    @Test("a class on the real binaries: accepted 0, duplicate 3, refused 4, verify 0, CSV with BOM")
    func classOnBinaries() throws {
        let w = try World()
        func scan(_ code: String) throws -> (Int32, [String: Any]) {
            let r = try run("fieldkit", ["scan", "--home", w.site, "--json", code])
            #expect(r.stderr.isEmpty, "\(r.stderr)")
            return (r.status, try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])
        }
        var (status, json) = try scan(w.codes[0].code)
        #expect(status == 0 && json["result"] as? String == "accepted" && json["direction"] as? String == "in")
        #expect((json["voucher_id"] as? NSNumber)?.uint64Value == w.codes[0].id)
        (status, json) = try scan(w.codes[0].code)
        #expect(status == 3 && json["result"] as? String == "duplicate" && json["reason"] as? String == "already_in")
        // Full-width digits from a Chinese input method are the same code
        let fullWidth = String(w.codes[1].code.unicodeScalars.map { Character(Unicode.Scalar($0.value - 48 + 0xFF10)!) })
        (status, json) = try scan(fullWidth)
        #expect(status == 0 && json["result"] as? String == "accepted")
        (status, json) = try scan("not a code")
        #expect(status == 4 && json["reason"] as? String == "malformed")
        let stdinRun = try run("fieldkit", ["scan", "--home", w.site, "--stdin", "--json"], stdin: w.codes[2].code + "\r\n\n" + w.codes[2].code + "\n")
        let lines = stdinRun.stdout.split(separator: "\n")
        #expect(stdinRun.status == 0 && lines.count == 2)
        #expect(lines[0].contains("\"accepted\"") && lines[1].contains("\"duplicate\""))
        let verify = try run("fieldkit", ["log", "verify", "--home", w.site, "--lang", "en"])
        #expect(verify.status == 0 && verify.stdout.contains("chain intact"))
        let status2 = try run("fieldkit", ["status", "--home", w.site, "--json"])
        let s = try JSONSerialization.jsonObject(with: Data(status2.stdout.utf8)) as! [String: Any]
        let today = (s["today"] as! [[String: Any]])[0]
        #expect(today["signed_in_now"] as? Int == 3 && today["not_yet_arrived"] as? Int == 2)
        let csv = try run("fieldkit", ["export", "--home", w.site, "--format", "csv"])
        #expect(csv.stdout.hasPrefix("\u{FEFF}seq,"))
        #expect(!csv.stdout.contains(validID(0)))
        let keys = try run("fieldkit-county", ["key", "list", "--home", w.county, "--json"])
        let k = try JSONSerialization.jsonObject(with: Data(keys.stdout.utf8)) as! [[String: Any]]
        #expect((k[0]["kid"] as? String)?.count == 8 && k[0]["status"] as? String == "active")
        #expect(Data(base64Encoded: k[0]["public_key"] as? String ?? "")?.count == 32)
        let attrs = try FileManager.default.attributesOfItem(atPath: w.site + "/device.key")
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    static let badInputs: [(String, [String], Int32, String)] = [
        ("no home", ["fieldkit", "status"], 64, "--home"),
        ("uninitialised home", ["fieldkit", "status", "--home", "/tmp/fk-nowhere-\(UUID().uuidString)"], 1, "fieldkit init"),
        ("bad direction", ["fieldkit", "manual", "1", "--direction", "sideways", "--reason", "x", "--home", "/tmp"], 64, "sideways"),
        ("export format", ["fieldkit", "export", "--format", "xml", "--home", "/tmp"], 64, "xml"),
        ("missing root key file", ["fieldkit", "init", "--home", "/tmp/fk-x-\(UUID().uuidString)", "--site", "S01", "--county-root", "/nonexistent/root.pub"], 1, "/nonexistent/root.pub"),
        ("bad trade", ["fieldkit-county", "class", "add", "--home", "/tmp", "--id", "1", "--site", "S", "--name", "n", "--trade", "4100102", "--level", "5", "--start", "2026-03-02", "--end", "2026-03-03", "--sessions", "08:00-09:00"], 64, "4100102"),
        ("bad sessions", ["fieldkit-county", "class", "add", "--home", "/tmp", "--id", "1", "--site", "S", "--name", "n", "--trade", "4-10-01-02", "--level", "5", "--start", "2026-03-02", "--end", "2026-03-03", "--sessions", "9-5"], 64, "9-5"),
        ("bad date", ["fieldkit-county", "class", "add", "--home", "/tmp", "--id", "1", "--site", "S", "--name", "n", "--trade", "4-10-01-02", "--level", "5", "--start", "2026-02-30", "--end", "2026-03-03", "--sessions", "08:00-09:00"], 64, "2026-02-30"),
        ("county code", ["fieldkit-county", "init", "--home", "/tmp/fk-y-\(UUID().uuidString)", "--county", "Gu County"], 1, "Gu County"),
        ("unknown flag", ["fieldkit", "scan", "--hme", "/tmp"], 64, "--hme"),
    ]

    @Test("bad flags and files: one clear line naming the value, a distinct exit code, no stack trace", arguments: badInputs)
    func badInput(name: String, argv: [String], status: Int32, mentions: String) throws {
        let r = try run(argv[0], Array(argv.dropFirst()))
        #expect(r.status == status, "\(name): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(mentions), "\(name): \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump") && !r.stderr.contains("0x0"), "\(name)")
        let errorLines = r.stderr.split(separator: "\n").filter { $0.contains("rror") }
        #expect(errorLines.count == 1, "\(name): \(r.stderr)")
    }

    @Test("bad files on a working station: garbage bundle, roster with bad rows, second init; nothing changes")
    func badFiles() throws {
        let w = try World()
        try "garbage".write(toFile: w.dir + "/junk.bundle", atomically: true, encoding: .utf8)
        var r = try run("fieldkit", ["trust", "import", "--home", w.site, w.dir + "/junk.bundle"])
        #expect(r.status == 1 && r.stderr.contains("trust bundle") && r.stderr.split(separator: "\n").count == 1)
        try "张三,\(validID(1))\n李四,123\n王五,\(validID(0).dropLast())Y\n".write(toFile: w.dir + "/bad.csv", atomically: true, encoding: .utf8)
        r = try run("fieldkit-county", ["voucher", "issue", "--home", w.county, "--class", "12", "--roster", w.dir + "/bad.csv"])
        #expect(r.status == 1 && r.stderr.contains("line 2") && r.stderr.contains("line 3") && !r.stderr.contains("123\n"))
        let list = try run("fieldkit-county", ["voucher", "list", "--home", w.county, "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [Any]).count == 5)
        r = try run("fieldkit", ["init", "--home", w.site, "--site", "S01", "--county-root", w.county + "/root.pub"])
        #expect(r.status == 1 && r.stderr.contains("already holds"))
        #expect(try run("fieldkit", ["log", "verify", "--home", w.site]).status == 0)
    }
}

@Suite("End to end: errors in Chinese")
struct ChineseErrorTests {
    @Test("without LANG the error line is Chinese and still names the value")
    func chineseByDefault() throws {
        let r = try run("fieldkit", ["status", "--home", "/tmp/fk-nowhere-zh"], env: ["LANG": "C.UTF-8"])
        #expect(r.status == 1 && r.stderr.contains("错误") && r.stderr.contains("/tmp/fk-nowhere-zh") && r.stderr.contains("签到站"))
        let bad = "张三,11010519491231002X\n李四,110105194912310021\n"
        let dir = temporaryDirectory()
        try bad.write(toFile: dir + "/r.csv", atomically: true, encoding: .utf8)
        try expectOK(run("fieldkit-county", ["init", "--home", dir + "/c", "--county", "141023"]))
        try expectOK(run("fieldkit-county", ["site", "add", "--home", dir + "/c", "--id", "S", "--name", "n"]))
        try expectOK(run("fieldkit-county", [
            "class", "add", "--home", dir + "/c", "--id", "1", "--site", "S", "--name", "n", "--trade", "4-10-01-02",
            "--level", "5", "--start", "2026-03-02", "--end", "2026-03-03", "--sessions", "08:00-09:00",
        ]))
        let issue = try run("fieldkit-county", ["voucher", "issue", "--home", dir + "/c", "--class", "1", "--roster", dir + "/r.csv"], env: ["LANG": ""])
        #expect(issue.status == 1 && issue.stderr.contains("第 2 行") && issue.stderr.contains("校验位"))
    }
}
