import Foundation
import Testing

/// `fieldkit-county serve` on a free loopback port.
final class CountyServer {
    let child: Child
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    /// Starts the server; `at` (UTC, `2026-03-13 10:00:00`) runs it at that moment through faketime;
    /// `program` is the binary (the built one unless a test copied it elsewhere).
    init(home: String, log: String, at fakeTime: String? = nil, program: String = binDirectory + "/fieldkit-county") throws {
        let serve = [program, "serve", "--home", home, "--port", "0"]
        if fakeTime != nil { clearStaleFaketime() }
        let argv = fakeTime.map { ["/usr/bin/faketime", "-f", "@" + $0] + serve } ?? serve
        child = try Child(
            argv[0], Array(argv.dropFirst()), stdin: "/dev/null", stdout: log, stderr: log + ".err",
            env: ["LANG": "en_US.UTF-8", "FAKETIME_DONT_FAKE_MONOTONIC": "1"])
        let deadline = Date().addingTimeInterval(20)
        var found: Int?
        while found == nil && Date() < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }),
                let p = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                found = p
            } else {
                usleep(20_000)
            }
        }
        guard let found else { throw CommandFailed(run: Run(status: -1, stdout: "", stderr: "the county server did not start")) }
        port = found
    }

    func stop() {
        child.kill()
        _ = child.wait(seconds: 10)
    }
}

extension World {
    /// Enrolls the station with a fresh code.
    func enroll(_ server: CountyServer) throws {
        let code = try run("fieldkit-county", ["device", "add", "--home", county, "--site", "S01", "--json"])
        try expectOK(code)
        let obj = try JSONSerialization.jsonObject(with: Data(code.stdout.utf8)) as! [String: Any]
        try expectOK(run("fieldkit", ["enroll", "--home", site, "--county", server.url, "--code", obj["code"] as! String]))
    }

    /// Records `n` more events quickly (unreadable input is refused and kept as evidence).
    func recordNoise(_ n: Int) throws {
        let lines = (0..<n).map { "noise-\($0)" }.joined(separator: "\n") + "\n"
        _ = try run("fieldkit", ["scan", "--home", site, "--stdin", "--json"], stdin: lines, timeout: 300)
    }

    /// The station's log head.
    func head() throws -> Int {
        let s = try run("fieldkit", ["status", "--home", site, "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as! [String: Any]
        return (obj["events"] as! NSNumber).intValue
    }

    /// The (device, seq) pairs of every event the county holds, and how many there are.
    func countyHolds() throws -> (pairs: [String], all: Int) {
        let rows = try run("/usr/bin/sqlite3", [county + "/county.db", "SELECT device_id || ':' || seq FROM events ORDER BY device_id, seq"])
        let pairs = rows.stdout.split(separator: "\n").map(String.init)
        return (pairs, pairs.count)
    }
}

@Suite("End to end: sync with the county")
struct SyncTests {
    @Test("enroll, scan, sync: the county holds the events; status shows what is unsynced; a second sync sends nothing")
    func enrollAndSync() throws {
        let w = try World(trainees: 3)
        let server = try CountyServer(home: w.county, log: w.dir + "/serve.log")
        defer { server.stop() }
        // Before enrollment: a clear refusal
        let early = try run("fieldkit", ["sync", "--home", w.site])
        #expect(early.status == 1 && early.stderr.contains("not enrolled"))
        try w.enroll(server)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[1].code]))
        let before = try run("fieldkit", ["status", "--home", w.site])
        #expect(before.stdout.contains("not yet at the county") || before.stdout.contains("unsynced"), "\(before.stdout)")
        let sync = try run("fieldkit", ["sync", "--home", w.site, "--json"])
        try expectOK(sync)
        let report = try JSONSerialization.jsonObject(with: Data(sync.stdout.utf8)) as! [String: Any]
        #expect((report["unsynced"] as! NSNumber).intValue == 0)
        // The county's view of the class
        let held = try run("fieldkit-county", ["attendance", "--home", w.county, "--class", "12", "--json"])
        let events = try JSONSerialization.jsonObject(with: Data(held.stdout.utf8)) as! [[String: Any]]
        #expect(events.count == 2)
        #expect(Set(events.compactMap { ($0["voucher_id"] as? NSNumber)?.uint64Value }) == [w.codes[0].id, w.codes[1].id])
        #expect(events.allSatisfy { $0["direction"] as? String == "in" && $0["device"] != nil && $0["seq"] != nil && $0["time"] != nil })
        // Nothing twice
        let again = try run("fieldkit", ["sync", "--home", w.site, "--json"])
        let r2 = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any]
        #expect((r2["acknowledged"] as! NSNumber).intValue == 0)
        #expect(try w.countyHolds().all == (try w.head()))
        // A device the county cut off is refused with the problem named
        let device = try run("fieldkit-county", ["device", "list", "--home", w.county, "--json"])
        let id = (try JSONSerialization.jsonObject(with: Data(device.stdout.utf8)) as! [String: Any])["device"] as! String
        try expectOK(run("fieldkit-county", ["device", "revoke", "--home", w.county, "--device", id, "--reason", "stolen"]))
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[2].code]))
        let refused = try run("fieldkit", ["sync", "--home", w.site])
        #expect(refused.status == 1 && refused.stderr.contains("device-revoked"), "\(refused.stderr)")
        let status = try run("fieldkit", ["status", "--home", w.site])
        #expect(status.stdout.contains("device-revoked"), "\(status.stdout)")
    }

    @Test("no link: a transfer file on a USB stick, imported twice, stores once; the receipt comes back")
    func usbTransfer() throws {
        let w = try World(trainees: 3)
        // Enrollment needs a link once; then the link is gone
        let server = try CountyServer(home: w.county, log: w.dir + "/serve.log")
        try w.enroll(server)
        server.stop()
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        try w.recordNoise(20)
        let offline = try run("fieldkit", ["sync", "--home", w.site], timeout: 120)
        #expect(offline.status == 1 && offline.stderr.contains("could not be reached"), "\(offline.stderr)")
        // Export, import (twice: the officer double-clicks), carry the receipt back
        let stick = w.dir + "/stick.fktransfer"
        try expectOK(run("fieldkit", ["sync", "export", "--home", w.site, "--out", stick]))
        try expectOK(run("fieldkit-county", ["import", "--home", w.county, stick]))
        let receipt1 = try String(contentsOfFile: stick + ".receipt", encoding: .utf8)
        try expectOK(run("fieldkit-county", ["import", "--home", w.county, stick]))
        #expect(try w.countyHolds().all == (try w.head()))
        // The second import answers with the same receipt it gave the first time
        #expect(try String(contentsOfFile: stick + ".receipt", encoding: .utf8) == receipt1)
        try expectOK(run("fieldkit", ["sync", "receipt", "--home", w.site, stick + ".receipt"]))
        let nothing = try run("fieldkit", ["sync", "export", "--home", w.site, "--out", w.dir + "/again"])
        #expect(nothing.status == 1 && nothing.stderr.contains("already holds every event"))
        // A file changed on the way is refused, and nothing more is stored
        var text = try String(contentsOfFile: stick, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"time\":", with: "\"time\":1")
        try text.write(toFile: w.dir + "/bad", atomically: true, encoding: .utf8)
        let bad = try run("fieldkit-county", ["import", "--home", w.county, w.dir + "/bad"])
        #expect(bad.status == 1 && bad.stderr.contains("refused"), "\(bad.stderr)")
        // A forged receipt is not taken
        let forged = try String(contentsOfFile: stick + ".receipt", encoding: .utf8).replacingOccurrences(of: "\"acked_seq\":", with: "\"acked_seq\":9")
        try forged.write(toFile: w.dir + "/forged", atomically: true, encoding: .utf8)
        #expect(try run("fieldkit", ["sync", "receipt", "--home", w.site, w.dir + "/forged"]).status == 1)
    }

    @Test("SIGKILL the client mid-sync and the server mid-commit, over and over: the county ends with every event once")
    func killDuringSync() throws {
        let w = try World(trainees: 2)
        var server = try CountyServer(home: w.county, log: w.dir + "/serve-0.log")
        try w.enroll(server)
        try w.recordNoise(1500)
        var rng = SystemRandomNumberGenerator()
        var serverKills = 0
        for round in 0..<20 {
            let client = try Child(
                binDirectory + "/fieldkit", ["sync", "--home", w.site, "--county", server.url, "--batch", "40"],
                stdin: "/dev/null", stdout: w.dir + "/sync.out", stderr: w.dir + "/sync.err", env: ["LANG": "en_US.UTF-8"])
            usleep(UInt32.random(in: 20_000...250_000, using: &rng))
            if round % 3 == 2 {
                // The county server dies mid-commit, and comes back
                server.stop()
                serverKills += 1
                server = try CountyServer(home: w.county, log: w.dir + "/serve-\(round).log")
            }
            client.kill()
            _ = client.wait(seconds: 30)
        }
        defer { server.stop() }
        // Then one sync on a good link finishes the job
        let last = try run("fieldkit", ["sync", "--home", w.site, "--county", server.url, "--json"], timeout: 300)
        try expectOK(last)
        let head = try w.head()
        let held = try w.countyHolds()
        #expect(held.all == head)
        #expect(Set(held.pairs).count == held.pairs.count)
        let integrity = try run("/usr/bin/sqlite3", [w.county + "/county.db", "PRAGMA integrity_check"])
        #expect(integrity.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
        #expect(try run("fieldkit", ["log", "verify", "--home", w.site]).status == 0)
        print("sync kill test: \(head) events, 20 client kills, \(serverKills) server kills")
    }

    @Test("the kiosk syncs in the background and says so; the scan never waits for the link")
    func kioskSyncs() throws {
        let w = try World(trainees: 2)
        let server = try CountyServer(home: w.county, log: w.dir + "/serve.log")
        defer { server.stop() }
        try w.enroll(server)
        let k = try KioskSession(home: w.site, args: ["--lang", "en", "--sync-every", "10"])
        try k.waitFor("Ready to scan")
        try k.type(w.codes[0].code)
        try k.waitFor("Signed in", "学员0")
        // Within a sync interval the county has it, and the screen says so
        try k.waitFor("County: has every event", timeout: 30)
        let held = try run("fieldkit-county", ["attendance", "--home", w.county, "--class", "12", "--json"])
        #expect(held.stdout.contains("\"voucher_id\":\(w.codes[0].id)"))
        try k.type("q", enter: false)
        try k.type("y", enter: false)
    }
}
