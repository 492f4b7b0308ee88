import Foundation

/// Where the built executables are: FIELDKIT_BIN (set by Scripts/test) or the debug build folder.
let binDirectory: String = {
    if let bin = ProcessInfo.processInfo.environment["FIELDKIT_BIN"], !bin.isEmpty { return bin }
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/.build/debug"
}()

/// What a finished process left.
struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs one of the project's executables (or any program by absolute path) to completion.
@discardableResult
func run(_ program: String, _ args: [String], stdin: String? = nil, env: [String: String] = [:]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : binDirectory + "/" + program)
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "FIELDKIT_HOME")
    environment.removeValue(forKey: "FIELDKIT_COUNTY_HOME")
    // Words in English unless a test asks for another language (Chinese is the default).
    environment["LANG"] = "en_US.UTF-8"
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// A fresh temporary folder.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "fk-e2e-" + UUID().uuidString.prefix(8)
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Valid ID numbers for made-up trainees.
func validID(_ n: Int) -> String {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    let first = "14102319" + String(60 + n / 1000) + "0101" + String(String(1000 + n % 1000).suffix(3))
    let sum = zip(first.map { Int(String($0))! }, weights).reduce(0) { $0 + $1.0 * $1.1 }
    return first + String(Array("10X98765432")[sum % 11])
}

/// A county and a station whose class has a session open now (China time), built with the real CLIs.
struct World {
    let dir: String
    var county: String { dir + "/county" }
    var site: String { dir + "/site" }
    var codes: [(id: UInt64, code: String)] = []

    init(trainees: Int = 5) throws {
        dir = temporaryDirectory()
        let now = Date().addingTimeInterval(8 * 3600)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute], from: now)
        let minute = c.hour! * 60 + c.minute!
        let fmt = { (m: Int) in String(format: "%02d:%02d", m / 60, m % 60) }
        let today = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        let last = cal.dateComponents([.year, .month, .day], from: now.addingTimeInterval(20 * 86400))
        let end = String(format: "%04d-%02d-%02d", last.year!, last.month!, last.day!)
        let sessions = "\(fmt(max(0, minute - 5)))-\(fmt(min(1439, minute + 120)))"
        try expectOK(run("fieldkit-county", ["init", "--home", county, "--county", "141023"]))
        try expectOK(run("fieldkit-county", ["site", "add", "--home", county, "--id", "S01", "--name", "古县职业培训学校"]))
        try expectOK(run("fieldkit-county", [
            "class", "add", "--home", county, "--id", "12", "--site", "S01", "--name", "中式烹调师", "--trade", "4-03-02-01",
            "--level", "5", "--start", today, "--end", end, "--sessions", sessions,
        ]))
        let roster = (0..<trainees).map { "学员\($0),\(validID($0))" }.joined(separator: "\n")
        try roster.write(toFile: dir + "/roster.csv", atomically: true, encoding: .utf8)
        let issued = try run("fieldkit-county", ["voucher", "issue", "--home", county, "--class", "12", "--roster", dir + "/roster.csv", "--json"])
        try expectOK(issued)
        let list = try JSONSerialization.jsonObject(with: Data(issued.stdout.utf8)) as! [[String: Any]]
        codes = list.map { (($0["voucher_id"] as! NSNumber).uint64Value, $0["code"] as! String) }
        try expectOK(run("fieldkit-county", ["bundle", "--home", county, "--site", "S01", "--out", dir + "/S01.bundle"]))
        try expectOK(run("fieldkit", ["init", "--home", site, "--site", "S01", "--county-root", county + "/root.pub"]))
        try expectOK(run("fieldkit", ["trust", "import", "--home", site, dir + "/S01.bundle"]))
    }
}

struct CommandFailed: Error, CustomStringConvertible {
    var run: Run
    var description: String { "exit \(run.status): \(run.stderr) \(run.stdout)" }
}

func expectOK(_ r: Run) throws {
    if r.status != 0 { throw CommandFailed(run: r) }
}
