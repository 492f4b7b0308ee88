import Foundation
import Testing

@Suite("End to end: classroom recordings")
struct VideoCommandTests {
    /// `YYYYMMDDHHMMSS` in China time, `minutes` from now.
    func stamp(_ minutes: Double) -> String {
        let f = DateFormatter()
        f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        f.dateFormat = "yyyyMMddHHmmss"
        return f.string(from: Date().addingTimeInterval(minutes * 60))
    }

    @Test("scan a recorder folder, coverage of the session, audit after a file goes missing, alarm when one changes")
    func recordings() throws {
        let w = try World(trainees: 2)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        // Given a recorder folder: two clips around now, and a file without times in its name
        let nvr = w.dir + "/nvr/2026/ch01"
        try FileManager.default.createDirectory(atPath: nvr, withIntermediateDirectories: true)
        let a = nvr + "/ch01_\(stamp(-30))_\(stamp(-10)).mp4"
        let b = nvr + "/ch01_\(stamp(-10))_\(stamp(30)).mp4"
        try "clip a".write(toFile: a, atomically: true, encoding: .utf8)
        try "clip b".write(toFile: b, atomically: true, encoding: .utf8)
        try "no times".write(toFile: nvr + "/lesson.mp4", atomically: true, encoding: .utf8)
        // When the folder is scanned, twice
        let first = try run("fieldkit", ["video", "scan", "--home", w.site, w.dir + "/nvr", "--camera", "ch01"])
        try expectOK(first)
        #expect(first.stdout.contains("2 new recordings registered, 0 unchanged, 1 skipped"), "\(first.stdout)")
        #expect(first.stdout.contains("lesson.mp4"))
        let again = try run("fieldkit", ["video", "scan", "--home", w.site, w.dir + "/nvr", "--camera", "ch01"])
        #expect(again.stdout.contains("0 new recordings registered, 2 unchanged"), "\(again.stdout)")
        // Then the session is covered
        let coverage = try run("fieldkit", ["video", "coverage", "--home", w.site, "--class", "12"])
        #expect(coverage.status == 0 && coverage.stdout.contains("covered 100%, no gaps"), "\(coverage.stdout)")
        // A clip deleted on the recorder: the audit names it (exit 5)
        try FileManager.default.removeItem(atPath: a)
        let audit = try run("fieldkit", ["video", "audit", "--home", w.site])
        #expect(audit.status == 5 && audit.stdout.contains("missing: \(a)"), "\(audit.stdout)")
        // A clip whose content changed: an alarm, recorded, never an update
        try "edited".write(toFile: b, atomically: true, encoding: .utf8)
        let alarm = try run("fieldkit", ["video", "add", "--home", w.site, b, "--camera", "ch01"])
        #expect(alarm.status == 5 && alarm.stdout.contains("ALARM"), "\(alarm.stdout)")
        let events = try run("fieldkit", ["export", "--home", w.site, "--format", "jsonl"]).stdout
        #expect(events.components(separatedBy: "\"kind\":\"video\"").count - 1 == 2)
        #expect(events.contains("\"kind\":\"video_changed\""))
        #expect(try run("fieldkit", ["log", "verify", "--home", w.site]).status == 0)
        // Times given by hand for a file whose name has none; a bad time is a usage error
        try expectOK(run("fieldkit", [
            "video", "add", "--home", w.site, nvr + "/lesson.mp4", "--camera", "ch02", "--start", "2026-03-02T08:30", "--end", "2026-03-02T09:30",
        ]))
        let bad = try run("fieldkit", ["video", "add", "--home", w.site, a, "--camera", "ch02", "--start", "8:30", "--end", "9:30"])
        #expect(bad.status == 64 && bad.stderr.contains("--start"), "\(bad.stderr)")
    }

    @Test("evidence bundle as a folder and as .tar through the real binary; verify passes, then names a change (exit 5)")
    func evidenceBundles() throws {
        let w = try World(trainees: 2)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        let nvr = w.dir + "/nvr"
        try FileManager.default.createDirectory(atPath: nvr, withIntermediateDirectories: true)
        let clip = nvr + "/ch01_\(stamp(-30))_\(stamp(30)).mp4"
        try "clip".write(toFile: clip, atomically: true, encoding: .utf8)
        try expectOK(run("fieldkit", ["video", "scan", "--home", w.site, nvr, "--camera", "ch01"]))
        let bundle = try run("fieldkit", ["evidence", "bundle", "--home", w.site, "--class", "12", "--out", w.dir + "/class-12"])
        try expectOK(bundle)
        #expect(bundle.stdout.contains("class-12.video-ch01-"), "\(bundle.stdout)")
        let verify = try run("fieldkit", ["evidence", "verify", w.dir + "/class-12"])
        #expect(verify.status == 0 && verify.stdout.contains("good") && verify.stdout.contains("hash chain"), "\(verify.stdout)")
        try expectOK(run("fieldkit", ["evidence", "bundle", "--home", w.site, "--class", "12", "--out", w.dir + "/class-12.tar"]))
        let tar = try run("fieldkit", ["evidence", "verify", w.dir + "/class-12.tar", "--json"])
        let checks = try JSONSerialization.jsonObject(with: Data(tar.stdout.utf8)) as! [[String: Any]]
        #expect(tar.status == 0 && checks.count == 2 && (checks[1]["fetched"] as? Int) == 1, "\(tar.stdout)")
        // Someone edits the roster in the archive copy: named, exit 5
        let roster = w.dir + "/class-12/data/roster.csv"
        try (String(contentsOfFile: roster, encoding: .utf8) + "9,extra,1410**********0000,\r\n").write(toFile: roster, atomically: true, encoding: .utf8)
        let tampered = try run("fieldkit", ["evidence", "verify", w.dir + "/class-12"])
        #expect(tampered.status == 5 && tampered.stdout.contains("data/roster.csv"), "\(tampered.stdout)")
        // Not a bag at all: one line, exit 1
        let junk = try run("fieldkit", ["evidence", "verify", w.dir + "/roster.csv"])
        #expect(junk.status == 1 && junk.stderr.split(separator: "\n").count == 1, "\(junk.stderr)")
    }
}
