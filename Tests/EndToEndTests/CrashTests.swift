import Foundation
import Testing

@Suite("End to end: SIGKILL during a stream of scans")
struct CrashTests {
    @Test("every scan reported accepted survives SIGKILL; integrity_check ok; log verify passes")
    func killDuringScans() throws {
        let w = try World(trainees: 400)
        var reported = Set<UInt64>()
        var next = 0
        var rng = SystemRandomNumberGenerator()
        var cutShort = 0
        // How long a whole batch takes on this machine, from a first round left to finish: the kills
        // then land at random moments inside that time, not inside a fixed window that a fast
        // machine outruns.
        var wholeBatchMicros: UInt32 = 120_000
        for round in 0..<25 {
            guard next < w.codes.count else { break }
            // Given a scanner stream of the next codes (with repeats, as scanners double-send)
            let batch = w.codes[next..<min(next + 16, w.codes.count)]
            next += batch.count
            let input = batch.flatMap { [$0.code, $0.code] }.joined(separator: "\n") + "\n"
            try input.write(toFile: w.dir + "/stream.txt", atomically: true, encoding: .utf8)
            let child = try Child(
                binDirectory + "/fieldkit", ["scan", "--home", w.site, "--stdin", "--json"], stdin: w.dir + "/stream.txt",
                stdout: w.dir + "/reported.txt", stderr: "/dev/null", env: ["LANG": "en_US.UTF-8"])
            // When the process is killed at a random moment
            if round == 0 {
                let started = Date()
                #expect(child.wait(seconds: 60) != nil)
                wholeBatchMicros = UInt32(max(20_000, min(2_000_000, Date().timeIntervalSince(started) * 1_000_000)))
            } else {
                usleep(UInt32.random(in: 0...(wholeBatchMicros * 8 / 10), using: &rng))
                child.kill()
                #expect(child.wait(seconds: 30) != nil)
            }
            let data = FileManager.default.contents(atPath: w.dir + "/reported.txt") ?? Data()
            // Only whole lines were reported to the instructor
            let text = String(decoding: data, as: UTF8.self)
            if text.split(separator: "\n").count < batch.count * 2 { cutShort += 1 }
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) where text.hasSuffix("\n") || line != text.split(separator: "\n").last {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                if obj["result"] as? String == "accepted", let v = obj["voucher_id"] as? NSNumber { reported.insert(v.uint64Value) }
            }
        }
        // Then every reported acceptance is in the log, once
        let export = try run("fieldkit", ["export", "--home", w.site, "--format", "jsonl"])
        var signIns: [UInt64: Int] = [:]
        for line in export.stdout.split(separator: "\n") {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if obj["kind"] as? String == "scan", obj["direction"] as? String == "in", let v = obj["voucher_id"] as? NSNumber {
                signIns[v.uint64Value, default: 0] += 1
            }
        }
        #expect(!reported.isEmpty)
        #expect(cutShort >= 5, "the kills should land mid-stream in many rounds")
        print("kill test: \(reported.count) acceptances reported over 25 rounds, \(cutShort) rounds cut short")
        for v in reported { #expect(signIns[v] == 1, "voucher \(v) reported accepted but in the log \(signIns[v] ?? 0) times") }
        #expect(signIns.values.allSatisfy { $0 == 1 })
        let integrity = try run("/usr/bin/sqlite3", [w.site + "/fieldkit.db", "PRAGMA integrity_check"])
        #expect(integrity.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
        let verify = try run("fieldkit", ["log", "verify", "--home", w.site])
        #expect(verify.status == 0, "\(verify.stdout)")
    }
}
