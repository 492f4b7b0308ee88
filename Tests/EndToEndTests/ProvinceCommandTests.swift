import Foundation
import Testing

/// `fieldkit-county province …` through the real binary: the key, joining, the report read from
/// the counties' files, and one-line errors.
@Suite("Province commands")
struct ProvinceCommandTests {
    let dir = temporaryDirectory()

    func county(_ id: String, classID: String) throws -> String {
        let home = dir + "/" + id
        try expectOK(run("fieldkit-county", ["init", "--home", home, "--county", id]))
        try expectOK(run("fieldkit-county", ["site", "add", "--home", home, "--id", "S01", "--name", "职业培训学校"]))
        try expectOK(
            run(
                "fieldkit-county",
                [
                    "class", "add", "--home", home, "--id", classID, "--site", "S01", "--name", "焊工", "--trade", "6-18-02-04",
                    "--level", "4", "--start", "2026-03-02", "--end", "2026-03-13", "--sessions", "08:30-11:30",
                ]))
        return home
    }

    @Test("key, join, issue, report: figures per county, Chinese by default, JSON and a safe CSV")
    func roundTrip() throws {
        let key = dir + "/province.key"
        let made = try run("fieldkit-county", ["province", "key", "--out", key])
        try expectOK(made)
        let fingerprint = try #require(made.stdout.firstMatch(of: /[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}/)).0
        let again = try run("fieldkit-county", ["province", "key", "--out", key])
        #expect(again.status == 1 && again.stderr.contains(key) && again.stderr.split(separator: "\n").count == 1)

        let a = try county("141021", classID: "7"), b = try county("141022", classID: "9")
        let roster = dir + "/roster.csv"
        try "=cmd|' /C calc'!A0,\(validID(1))\nB,\(validID(2))\n".write(toFile: roster, atomically: true, encoding: .utf8)
        let joined = try run("fieldkit-county", ["province", "join", "--home", a, "--province", "14", "--key", key])
        try expectOK(joined)
        #expect(joined.stdout.contains(String(fingerprint)))
        try expectOK(run("fieldkit-county", ["voucher", "issue", "--home", a, "--class", "7", "--roster", roster]))
        try expectOK(run("fieldkit-county", ["voucher", "issue", "--home", b, "--class", "9", "--roster", roster]))
        let late = try run("fieldkit-county", ["province", "join", "--home", b, "--province", "14", "--key", key])
        #expect(late.stdout.contains("2 vouchers were issued before joining"))
        let linked = try run("fieldkit-county", ["province", "link", "--home", b, "--class", "9", "--roster", roster])
        #expect(linked.stdout.contains("Class 9: 2 vouchers"))

        let csv = dir + "/province.csv"
        let report = try json(
            run("fieldkit-county", ["province", "report", "--county-home", a, "--county-db", b + "/county.db", "--json", "--csv", csv]))
        let object = try #require(report as? [String: Any])
        #expect(object["province"] as? String == "14" && object["fingerprint"] as? String == String(fingerprint))
        let counties = try #require(object["counties"] as? [[String: Any]])
        #expect(counties.map { $0["county"] as? String } == ["141021", "141022"])
        #expect(counties.map { $0["trainees"] as? Int } == [2, 2] && counties.map { $0["unlinked_vouchers"] as? Int } == [0, 0])
        #expect((object["total"] as? [String: Any])?["classes"] as? Int == 2)
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(text.hasPrefix("County,Classes,Trainees"))
        #expect(text.contains("\r\nTotal,2,4,0,0,0.00,0.00,0.00,0,0,0,0\r\n"))

        // Chinese unless asked otherwise.
        let chinese = try run("fieldkit-county", ["province", "report", "--county-home", a, "--county-home", b], env: ["LANG": "zh_CN.UTF-8"])
        try expectOK(chinese)
        #expect(chinese.stdout.contains("省级汇总") && chinese.stdout.contains("未发现跨县重复申领"))
    }

    @Test("bad input: a one-line error naming the value, nothing changed")
    func badInput() throws {
        let a = try county("141021", classID: "7")
        let key = dir + "/province.key"
        try expectOK(run("fieldkit-county", ["province", "key", "--out", key]))
        for (args, needle) in [
            (["province", "join", "--home", a, "--province", "1x", "--key", key], "'1x'"),
            (["province", "join", "--home", a, "--province", "15", "--key", key], "not in province 15"),
            (["province", "join", "--home", a, "--province", "14", "--key", dir + "/missing.key"], "missing.key"),
            (["province", "link", "--home", a, "--class", "7", "--roster", key], "not joined"),
            (["province", "report", "--county-db", dir + "/nothing.db"], "nothing.db"),
            (["province", "report", "--county-db", key], "province.key"),
        ] {
            let r = try run("fieldkit-county", args)
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.contains(needle) && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
        for args in [["province", "report"], ["province", "report", "--county-home", a, "--year", "99999"]] {
            let r = try run("fieldkit-county", args)
            #expect(r.status == 64, "\(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: a + "/keys/province.key"))
    }
}
