import Foundation
import Testing

/// Enrolls a site's PC by files carried on a USB stick, through the real binaries: the code file,
/// the request, the answer. `at` runs each step at a faked China time (nil: now).
func enrollByFile(county: String, site: String, dir: String, at moment: String? = nil) throws {
    func step(_ program: String, _ args: [String]) throws {
        try expectOK(moment.map { try run(at: $0, program, args) } ?? run(program, args))
    }
    try step("fieldkit-county", ["device", "code", "--home", county, "--site", "S01", "--file", dir + "/code.json"])
    try step("fieldkit", ["enroll", "--home", site, "--file", dir + "/code.json", "--out", dir + "/request.json"])
    try step("fieldkit-county", ["device", "enroll", "--home", county, "--file", dir + "/request.json", "--out", dir + "/answer.json"])
    try step("fieldkit", ["enroll", "--home", site, "--answer", dir + "/answer.json"])
}

/// China time `minutes` from now, as `run(at:)` takes it.
func chinaTime(minutesFromNow minutes: Double) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
    f.dateFormat = "yyyy-MM-dd HH:mm"
    return f.string(from: Date().addingTimeInterval(minutes * 60))
}

@Suite("End to end: a USB-only site enrolls by file")
struct FileEnrollmentTests {
    @Test("code file → request → answer, each step twice; then export, import, receipt, all by files")
    func enrollAndSyncByFile() throws {
        let w = try World(trainees: 2)
        let stick = w.dir + "/stick"
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))

        // Never enrolled: the county refuses its transfer file, as before.
        try expectOK(run("fieldkit", ["sync", "export", "--home", w.site, "--out", stick + "/early.fktransfer"]))
        let early = try run("fieldkit-county", ["import", "--home", w.county, stick + "/early.fktransfer"])
        #expect(early.status == 1 && early.stderr.contains("refused"), "\(early.stderr)")

        // The clerk writes the code file; at the site the instructor writes the request (twice: harmless).
        let made = try run("fieldkit-county", ["device", "code", "--home", w.county, "--site", "S01", "--file", stick + "/code.json"])
        try expectOK(made)
        #expect(made.stdout.contains(stick + "/code.json"))
        let code = try String(contentsOfFile: stick + "/code.json", encoding: .utf8)
        #expect(code.contains("fieldkit-enrollment-code/1") && code.contains("SHA256:"))
        for _ in 0..<2 {
            try expectOK(run("fieldkit", ["enroll", "--home", w.site, "--file", stick + "/code.json", "--out", stick + "/request.json"]))
        }
        // The county answers; the same request twice gets the same answer, not "device exists".
        try expectOK(run("fieldkit-county", [
            "device", "enroll", "--home", w.county, "--file", stick + "/request.json", "--out", stick + "/answer.json",
        ]))
        let first = try Data(contentsOf: URL(fileURLWithPath: stick + "/answer.json"))
        let again = try run("fieldkit-county", [
            "device", "enroll", "--home", w.county, "--file", stick + "/request.json", "--out", stick + "/answer2.json",
        ])
        #expect(again.status == 0, "\(again.stderr)")
        let firstAnswer = try JSONSerialization.jsonObject(with: first) as! [String: Any]
        let secondAnswer = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stick + "/answer2.json"))) as! [String: Any]
        #expect(NSDictionary(dictionary: firstAnswer["answer"] as! [String: Any]).isEqual(to: secondAnswer["answer"] as! [String: Any]))
        // Home again: the answer is stored (twice: harmless).
        for _ in 0..<2 {
            let took = try run("fieldkit", ["enroll", "--home", w.site, "--answer", stick + "/answer.json"])
            #expect(took.status == 0 && took.stdout.contains("141023"), "\(took.stderr)")
        }
        let devices = try run("fieldkit-county", ["device", "list", "--home", w.county, "--json"])
        #expect(devices.stdout.split(separator: "\n").count == 1)
        // Enrolled, with no address: status says so, and `sync` points at the stick.
        let status = try run("fieldkit", ["status", "--home", w.site])
        #expect(!status.stdout.contains("not enrolled"), "\(status.stdout)")
        let online = try run("fieldkit", ["sync", "--home", w.site])
        #expect(online.status == 1 && online.stderr.contains("enrolled by USB stick"), "\(online.stderr)")

        // Now the USB loop works: export, import (twice), receipt back.
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[1].code]))
        try expectOK(run("fieldkit", ["sync", "export", "--home", w.site, "--out", stick + "/day.fktransfer"]))
        try expectOK(run("fieldkit-county", ["import", "--home", w.county, stick + "/day.fktransfer"]))
        try expectOK(run("fieldkit-county", ["import", "--home", w.county, stick + "/day.fktransfer"]))
        #expect(try w.countyHolds().all == (try w.head()))
        try expectOK(run("fieldkit", ["sync", "receipt", "--home", w.site, stick + "/day.fktransfer.receipt"]))
        let nothing = try run("fieldkit", ["sync", "export", "--home", w.site, "--out", stick + "/again"])
        #expect(nothing.status == 1 && nothing.stderr.contains("already holds every event"), "\(nothing.stderr)")
    }

    @Test("hostile files: tampered answer, another device's answer, expired code, not JSON, huge, wrong kind")
    func hostileFiles() throws {
        let w = try World(trainees: 1)
        let dir = w.dir
        try enrollByFile(county: w.county, site: w.site, dir: dir)

        // A tampered answer (another device id written in) is refused with one line; nothing changes.
        let answer = try String(contentsOfFile: dir + "/answer.json", encoding: .utf8)
        let device = try #require((try JSONSerialization.jsonObject(with: Data(answer.utf8)) as! [String: Any])["answer"] as? [String: Any])["device"] as! String
        try answer.replacingOccurrences(of: device, with: "S01-00000000").write(toFile: dir + "/tampered.json", atomically: true, encoding: .utf8)
        let tampered = try run("fieldkit", ["enroll", "--home", w.site, "--answer", dir + "/tampered.json"])
        #expect(tampered.status == 1 && tampered.stderr.contains("not signed by this station's county"), "\(tampered.stderr)")
        #expect(tampered.stderr.split(separator: "\n").count == 1)

        // Another PC of the same site: the first PC's answer is not its own.
        let other = dir + "/site2"
        try expectOK(run("fieldkit", ["init", "--home", other, "--site", "S01", "--county-root", w.county + "/root.pub"]))
        let notMine = try run("fieldkit", ["enroll", "--home", other, "--answer", dir + "/answer.json"])
        #expect(notMine.status == 1 && notMine.stderr.contains("is for device \(device)"), "\(notMine.stderr)")

        // An expired code: the site refuses it, and so does the county for a request made in time.
        try expectOK(run("fieldkit-county", ["device", "code", "--home", w.county, "--site", "S01", "--hours", "1", "--file", dir + "/short.json"]))
        let late = try run(at: chinaTime(minutesFromNow: 120), "fieldkit", [
            "enroll", "--home", other, "--file", dir + "/short.json", "--out", dir + "/late-request.json",
        ])
        #expect(late.status == 1 && late.stderr.contains("expired"), "\(late.stderr)")
        try expectOK(run("fieldkit", ["enroll", "--home", other, "--file", dir + "/short.json", "--out", dir + "/request2.json"]))
        let lateCounty = try run(at: chinaTime(minutesFromNow: 120), "fieldkit-county", [
            "device", "enroll", "--home", w.county, "--file", dir + "/request2.json", "--out", dir + "/answer2.json",
        ])
        #expect(lateCounty.status == 1 && lateCounty.stderr.contains("expired on"), "\(lateCounty.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/answer2.json"))

        // Bytes that are not JSON, a huge file, a file of the wrong kind, a missing file.
        try Data([0xFF, 0x00, 0x7B]).write(to: URL(fileURLWithPath: dir + "/garbage.json"))
        try Data(repeating: 0x20, count: 8 << 20).write(to: URL(fileURLWithPath: dir + "/huge.json"))
        for (file, words) in [
            ("garbage.json", "is not the enrollment file needed"), ("huge.json", "larger than"),
            ("code.json", "is not the enrollment file needed"), ("missing.json", "cannot be read"),
        ] {
            let r = try run("fieldkit", ["enroll", "--home", other, "--answer", dir + "/" + file])
            #expect(r.status == 1 && r.stderr.contains(words) && r.stderr.split(separator: "\n").count == 1, "\(file): \(r.stderr)")
            let c = try run("fieldkit-county", ["device", "enroll", "--home", w.county, "--file", dir + "/" + file, "--out", dir + "/x.json"])
            #expect(c.status == 1 && c.stderr.contains(words), "\(file): \(c.stderr)")
        }
        // A code file of another county is refused at the site.
        let stranger = dir + "/county2"
        try expectOK(run("fieldkit-county", ["init", "--home", stranger, "--county", "141024"]))
        try expectOK(run("fieldkit-county", ["site", "add", "--home", stranger, "--id", "S01", "--name", "别县学校"]))
        try expectOK(run("fieldkit-county", ["device", "code", "--home", stranger, "--site", "S01", "--file", dir + "/foreign.json"]))
        let foreign = try run("fieldkit", ["enroll", "--home", other, "--file", dir + "/foreign.json", "--out", dir + "/r3.json"])
        #expect(foreign.status == 1 && foreign.stderr.contains("not signed by this station's county"), "\(foreign.stderr)")
        // Mixed modes are a usage error.
        let mixed = try run("fieldkit", ["enroll", "--home", other, "--file", dir + "/short.json", "--answer", dir + "/answer.json"])
        #expect(mixed.status != 0 && mixed.stderr.contains("choose one way to enroll"), "\(mixed.stderr)")
    }
}
