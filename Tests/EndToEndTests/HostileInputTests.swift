import Foundation
import Testing

/// A Python client for what no polite client sends, so that its sockets live in its own process.
let crowdScript = """
    import socket, sys, time
    port, count = int(sys.argv[1]), int(sys.argv[2])
    head = ("POST /v1/devices/S01-%08x/events HTTP/1.1\\r\\nHost: x\\r\\nFieldKit-Device: S01-%08x\\r\\n"
            "FieldKit-Time: 1772000000000\\r\\nFieldKit-Signature: AAAA\\r\\nIdempotency-Key: k\\r\\n"
            "Content-Type: application/json\\r\\nContent-Length: 4194304\\r\\n\\r\\n")
    crowd = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall((head % (i, i)).encode())
        crowd.append(s)
    answers = {}
    for s in crowd:
        s.settimeout(10)
        try:
            data = s.recv(64)
            status = data.split(b" ")[1].decode() if data else "closed"
        except ConnectionResetError:
            status = "closed"
        except Exception as e:
            status = type(e).__name__
        answers[status] = answers.get(status, 0) + 1
    # Another address on the loopback, while the crowd still holds its connections
    h = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
    h.sendall(b"GET /v1/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
    h.settimeout(10)
    print(" ".join("%s=%d" % kv for kv in sorted(answers.items())), "health=" + h.recv(12).decode().split(" ")[-1])
    """

@Suite("Hostile input through the real binaries")
struct HostileInputTests {
    @Test("500 connections from one address announcing 4 MiB bodies: 32 answered 401 before any body, the rest closed; others still served")
    func stalledCrowd() throws {
        let dir = temporaryDirectory()
        try expectOK(run("fieldkit-county", ["init", "--home", dir + "/county", "--county", "141023"]))
        let server = try CountyServer(home: dir + "/county", log: dir + "/serve.log")
        defer { server.stop() }
        let crowd = try run("/usr/bin/python3", ["-c", crowdScript, String(server.port), "500"], timeout: 120)
        #expect(crowd.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "401=32 closed=468 health=200", "\(crowd.stdout) \(crowd.stderr)")
    }

    @Test("an installed server (the binary alone, far from its build folder) serves /openapi.yaml")
    func openAPIFromAnywhere() throws {
        let dir = temporaryDirectory()
        let copy = dir + "/bin/fieldkit-county"
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: binDirectory + "/fieldkit-county", toPath: copy)
        try expectOK(run(copy, ["init", "--home", dir + "/county", "--county", "141023"]))
        let server = try CountyServer(home: dir + "/county", log: dir + "/serve.log", program: copy)
        defer { server.stop() }
        let fetch = try run("/usr/bin/python3", [
            "-c", "import urllib.request,sys; r=urllib.request.urlopen(sys.argv[1]); print(r.status, r.read().decode().splitlines()[0])",
            server.url + "/openapi.yaml",
        ])
        #expect(fetch.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "200 openapi: 3.1.0", "\(fetch.stderr)")
    }

    @Test("a USB transfer file claiming time Int64.min or Int64.max is one line and exit 1, nothing stored")
    func hostileTransfer() throws {
        let world = try World(trainees: 1)
        let server = try CountyServer(home: world.county, log: world.dir + "/serve.log")
        defer { server.stop() }
        try world.enroll(server)
        server.stop()
        try expectOK(run("fieldkit", ["scan", "--home", world.site, world.codes[0].code, "--json"]))
        let file = world.dir + "/S01.fktransfer"
        try expectOK(run("fieldkit", ["sync", "export", "--home", world.site, "--out", file]))
        var transfer = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as! [String: Any]
        for (key, value) in [("time", "-9223372036854775808"), ("time", "9223372036854775807")] {
            transfer[key] = NSDecimalNumber(string: value)
            let hostile = world.dir + "/hostile.fktransfer"
            try JSONSerialization.data(withJSONObject: transfer).write(to: URL(fileURLWithPath: hostile))
            let r = try run("fieldkit-county", ["import", "--home", world.county, hostile])
            #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("FieldKit-Time"), "\(r.stderr)")
        }
        let held = try run("/usr/bin/sqlite3", [world.county + "/county.db", "SELECT count(*) FROM events"])
        #expect(held.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // The genuine file still goes in, and the genuine scan counts
        try expectOK(run("fieldkit-county", ["import", "--home", world.county, file]))
        let summary = try run("fieldkit-county", ["attendance", "--home", world.county, "--class", "12", "--summary", "--json"])
        let obj = try json(summary) as! [String: Any]
        #expect(obj["scanned"] as? Int == 1 && obj["quarantined"] as? Int == 0, "\(summary.stdout)")
    }
}
