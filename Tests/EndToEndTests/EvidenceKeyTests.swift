import Foundation
import Testing

/// `fieldkit evidence verify` run as its own process, so the test knows its pid (and so its
/// temporary folder, `/tmp/fieldkit-verify-<pid>-…`).
func verifyProcess(_ args: [String], env: [String: String] = [:]) throws -> (run: Run, pid: pid_t) {
    let scratch = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    _ = FileManager.default.createFile(atPath: scratch + "/in", contents: Data())
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "FIELDKIT_HOME")
    environment.removeValue(forKey: "TMPDIR")
    environment["LANG"] = "en_US.UTF-8"
    for (k, v) in env { environment[k] = v }
    let child = try Child(
        binDirectory + "/fieldkit", ["evidence", "verify"] + args, stdin: scratch + "/in", stdout: scratch + "/out",
        stderr: scratch + "/err", env: environment)
    guard let status = child.wait(seconds: 120) else { throw TimedOut(command: child.command, seconds: 120, stdout: "", stderr: "") }
    let out = (try? String(contentsOfFile: scratch + "/out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: scratch + "/err", encoding: .utf8)) ?? ""
    return (Run(status: status, stdout: out, stderr: err), child.pid)
}

/// The temporary folders a verify process left in /tmp.
func verifyLeftovers(_ pid: pid_t) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("fieldkit-verify-\(pid)-") }
}

/// A ustar header written byte by byte (an attacker's archive).
func tarHeader(_ name: String, size: Int64 = 0, type: UInt8 = UInt8(ascii: "0"), sizeField: [UInt8]? = nil) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 512)
    func put(_ bytes: [UInt8], _ at: Int) { for (i, x) in bytes.enumerated() { b[at + i] = x } }
    func octal(_ v: Int64, _ width: Int) -> [UInt8] { Array(String(format: "%0\(width - 1)llo", v).utf8) + [0] }
    put(Array(name.utf8.prefix(100)), 0)
    put(octal(0o644, 8), 100)
    put(octal(0, 8), 108)
    put(octal(0, 8), 116)
    put(sizeField ?? octal(size, 12), 124)
    put(octal(1_772_400_000, 12), 136)
    put(Array("        ".utf8), 148)
    b[156] = type
    put(Array("ustar".utf8) + [0] + Array("00".utf8), 257)
    put(Array(String(format: "%06o", b.reduce(0) { $0 + Int($1) }).utf8) + [0, 0x20], 148)
    return b
}

/// A pax header holding one record.
func paxHeader(_ key: String, _ value: String) -> [UInt8] {
    let body = " \(key)=\(value)\n"
    var length = body.utf8.count + 1
    while String(length).utf8.count + body.utf8.count != length { length += 1 }
    let record = Array((String(length) + body).utf8)
    return tarHeader("PaxHeaders/x", size: Int64(record.count), type: UInt8(ascii: "x")) + record
        + [UInt8](repeating: 0, count: (512 - record.count % 512) % 512)
}

@Suite("End to end: evidence verify names and pins the device key, and survives hostile input")
struct EvidenceKeyTests {
    func fingerprint(_ r: Run) throws -> String {
        let checks = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        return try #require((checks.first?["key"] as? [String: Any])?["fingerprint"] as? String)
    }

    @Test("a forged bag passes only unpinned; --expect-key keys.json, device.pub or fingerprint fails it (exit 5), passes the real one")
    func pinning() throws {
        // Given an enrolled station with a scan, its bag, and a forger's station of the same site and county
        let w = try World(trainees: 2)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        let server = try CountyServer(home: w.county, log: w.dir + "/serve.log")
        defer { server.stop() }
        try w.enroll(server)
        let forger = w.dir + "/forger"
        try expectOK(run("fieldkit", ["init", "--home", forger, "--site", "S01", "--county-root", w.county + "/root.pub"]))
        try expectOK(run("fieldkit", ["trust", "import", "--home", forger, w.dir + "/S01.bundle"]))
        try expectOK(run("fieldkit", ["evidence", "bundle", "--home", w.site, "--class", "12", "--out", w.dir + "/real.tar"]))
        try expectOK(run("fieldkit", ["evidence", "bundle", "--home", forger, "--class", "12", "--out", w.dir + "/forged.tar"]))
        let keys = w.dir + "/keys.json"
        let export = try run("fieldkit-county", ["device", "keys", "--home", w.county, "--out", keys])
        #expect(export.status == 0 && export.stdout.contains("1 device keys (0 revoked)") && export.stdout.contains("SHA256:"), "\(export.stdout)")
        let realKey = try fingerprint(try run("fieldkit", ["evidence", "verify", w.dir + "/real.tar", "--json"]))
        let forgedJSON = try run("fieldkit", ["evidence", "verify", w.dir + "/forged.tar", "--json"])
        let forgedKey = try fingerprint(forgedJSON)
        #expect(forgedJSON.stdout.contains("\"pinned\":false") && realKey != forgedKey)

        // Unpinned: it passes, and says plainly that the key was not checked
        let loose = try run("fieldkit", ["evidence", "verify", w.dir + "/forged.tar"])
        #expect(loose.status == 0 && loose.stdout.contains("NOT checked") && loose.stdout.contains(forgedKey), "\(loose.stdout)")

        // Pinned, four ways: the forgery fails naming device and key; the real bag passes and names its key
        for pin in [
            ["--expect-key", keys, "--county-root", w.county + "/root.pub"], ["--expect-key", keys, "--home", w.site],
            ["--expect-key", w.site + "/device.pub"], ["--expect-key", realKey], ["--expect-key", realKey.lowercased().replacingOccurrences(of: ":", with: "")],
        ] {
            let forged = try run("fieldkit", ["evidence", "verify", w.dir + "/forged.tar"] + pin)
            #expect(forged.status == 5, "\(pin): \(forged.stdout) \(forged.stderr)")
            #expect(forged.stdout.contains("not one of the expected keys") && forged.stdout.contains(forgedKey), "\(forged.stdout)")
            let real = try run("fieldkit", ["evidence", "verify", w.dir + "/real.tar"] + pin)
            #expect(real.status == 0 && real.stdout.contains(realKey) && real.stdout.contains("an expected key"), "\(pin): \(real.stdout)")
            #expect(!real.stdout.contains("NOT checked"))
        }

        // The county's list without a root to check it, or changed: one line, exit 1
        let noRoot = try run("fieldkit", ["evidence", "verify", w.dir + "/real.tar", "--expect-key", keys])
        #expect(noRoot.status == 1 && noRoot.stderr.split(separator: "\n").count == 1 && noRoot.stderr.contains("--county-root"), "\(noRoot.stderr)")
        let changed = w.dir + "/changed.json"
        try String(contentsOfFile: keys, encoding: .utf8).replacingOccurrences(of: "\"active\"", with: "\"revoked\"")
            .write(toFile: changed, atomically: true, encoding: .utf8)
        let bad = try run("fieldkit", ["evidence", "verify", w.dir + "/real.tar", "--expect-key", changed, "--county-root", w.county + "/root.pub"])
        #expect(bad.status == 1 && bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("does not verify"), "\(bad.stderr)")
        let junk = try run("fieldkit", ["evidence", "verify", w.dir + "/real.tar", "--expect-key", "SHA256:12"])
        #expect(junk.status == 1 && junk.stderr.split(separator: "\n").count == 1, "\(junk.stderr)")
    }

    @Test("a revoked device: a bag from before passes with the revocation named; one with events after it fails (exit 5)")
    func revoked() throws {
        let w = try World(trainees: 2)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        let server = try CountyServer(home: w.county, log: w.dir + "/serve.log")
        defer { server.stop() }
        try w.enroll(server)
        try expectOK(run("fieldkit", ["evidence", "bundle", "--home", w.site, "--class", "12", "--out", w.dir + "/before.tar"]))
        let device = try #require((try json(run("fieldkit", ["status", "--home", w.site, "--json"])) as? [String: Any])?["device_id"] as? String)
        usleep(5_000)
        try expectOK(run("fieldkit-county", ["device", "revoke", "--home", w.county, "--device", device, "--reason", "PC stolen"]))
        try expectOK(run("fieldkit-county", ["device", "keys", "--home", w.county, "--out", w.dir + "/keys.json"]))
        let pins = ["--expect-key", w.dir + "/keys.json", "--county-root", w.county + "/root.pub"]
        let before = try run("fieldkit", ["evidence", "verify", w.dir + "/before.tar"] + pins)
        #expect(before.status == 0 && before.stdout.contains("revoked device \(device)"), "\(before.stdout)")
        // The stolen PC records on
        usleep(5_000)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[1].code]))
        try expectOK(run("fieldkit", ["evidence", "bundle", "--home", w.site, "--class", "12", "--out", w.dir + "/after.tar"]))
        let after = try run("fieldkit", ["evidence", "verify", w.dir + "/after.tar"] + pins)
        #expect(after.status == 5 && after.stdout.contains("after the device was revoked"), "\(after.stdout)")
    }

    @Test("hostile archives through the binary: one line, exit 1, no temporary folder left; a hostile bag is exit 5")
    func hostileArchives() throws {
        let dir = temporaryDirectory()
        let end = [UInt8](repeating: 0, count: 1024)
        let base256Max: [UInt8] = [0x80, 0, 0, 0, 0x7F] + [UInt8](repeating: 0xFF, count: 7)  // Int64.max
        let archives: [(String, [UInt8], String)] = [
            ("pax-max", paxHeader("size", "9223372036854775807") + tarHeader("b/data/x") + end, "9223372036854775807 bytes"),
            ("pax-negative", paxHeader("size", "-1") + tarHeader("b/data/x") + end, "<0 bytes"),
            ("base256", tarHeader("b/data/x", sizeField: base256Max) + end, "9223372036854775807 bytes at byte 0"),
            ("pax-8gib", tarHeader("PaxHeaders/x", size: 8 << 30, type: UInt8(ascii: "x")) + end, "extended header"),
            ("tib", tarHeader("b/data/x", size: 1 << 40) + [UInt8](repeating: 7, count: 100), "incomplete"),
            ("tiny", [UInt8](repeating: 7, count: 100), "incomplete"),
            ("dotdot", tarHeader("../../escape", size: 1) + [0x41] + [UInt8](repeating: 0, count: 511) + end, "outside the folder"),
        ]
        for (name, bytes, words) in archives {
            let path = dir + "/\(name).tar"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let (r, pid) = try verifyProcess([path])
            #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(words), "\(name): \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error") && r.stdout.isEmpty)
            #expect(verifyLeftovers(pid).isEmpty, "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escape") && !FileManager.default.fileExists(atPath: dir + "/../escape"))
    }

    @Test("a hostile bag through the binary: paths out of the bag, a link to /etc, fetch.txt sizes past Int64.max; exit 5, each named")
    func hostileBag() throws {
        let w = try World(trainees: 1)
        try expectOK(run("fieldkit", ["scan", "--home", w.site, w.codes[0].code]))
        let bag = w.dir + "/class-12"
        try expectOK(run("fieldkit", ["evidence", "bundle", "--home", w.site, "--class", "12", "--out", bag]))
        let zeros = String(repeating: "0", count: 64)
        let manifest = try String(contentsOfFile: bag + "/manifest-sha256.txt", encoding: .utf8)
            + "\(zeros)  ../../etc/passwd\n\(zeros)  /etc/passwd\n\(zeros)  data/x/passwd\n\(zeros)  data/a.mp4\n\(zeros)  data/b.mp4\n"
        try manifest.write(toFile: bag + "/manifest-sha256.txt", atomically: true, encoding: .utf8)
        try "file:///nowhere/a.mp4 9223372036854775807 data/a.mp4\nfile:///nowhere/b.mp4 9223372036854775807 data/b.mp4\n"
            .write(toFile: bag + "/fetch.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: bag + "/data/x", withDestinationPath: "/etc")
        let (r, pid) = try verifyProcess([bag])
        #expect(r.status == 5, "\(r.stdout) \(r.stderr)")
        for words in ["names a path outside the bag", "../../etc/passwd", "data/x/passwd is, or lies behind, a link", "more than any disk holds"] {
            #expect(r.stdout.contains(words), "\(words): \(r.stdout)")
        }
        #expect(r.stderr.isEmpty && verifyLeftovers(pid).isEmpty)
    }

    @Test("SIGTERM, SIGINT or SIGHUP in the middle of extracting a large archive: the temporary folder goes, the signal ends the process")
    func killedMidExtract() throws {
        // Given an archive of one 2 GiB recording (sparse on disk: the test costs no space)
        let dir = temporaryDirectory()
        let path = dir + "/big.tar"
        let size: Int64 = 2 << 30
        try Data(tarHeader("big/bagit.txt", size: 0) + tarHeader("big/data/video.mp4", size: size)).write(to: URL(fileURLWithPath: path))
        #expect(truncate(path, off_t(1024 + size + 1024)) == 0)
        for signal in [SIGTERM, SIGINT, SIGHUP] {
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "TMPDIR")
            environment["LANG"] = "en_US.UTF-8"
            let child = try Child(
                binDirectory + "/fieldkit", ["evidence", "verify", path], stdin: "/dev/null", stdout: dir + "/out", stderr: dir + "/err",
                env: environment)
            // When the recording is part-way out
            let deadline = Date().addingTimeInterval(30)
            var extracting = false
            while !extracting && Date() < deadline {
                if let folder = verifyLeftovers(child.pid).first,
                    let attributes = try? FileManager.default.attributesOfItem(atPath: "/tmp/\(folder)/big/data/video.mp4"),
                    ((attributes[.size] as? NSNumber)?.int64Value ?? 0) > 1 << 20
                {
                    extracting = true
                } else {
                    usleep(2_000)
                }
            }
            #expect(extracting, "the extraction was seen under way")
            _ = Glibc.kill(child.pid, signal)
            let status = child.wait(seconds: 30)
            // Then the process ended by that signal, and nothing is left in /tmp
            #expect(status == 128 + signal, "signal \(signal): status \(String(describing: status))")
            #expect(verifyLeftovers(child.pid).isEmpty, "signal \(signal)")
        }
    }
}
