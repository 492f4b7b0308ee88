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

/// A program that ran past its time limit (its whole process group was killed).
struct TimedOut: Error, CustomStringConvertible {
    var command: String
    var seconds: Double
    var stdout: String
    var stderr: String
    var description: String { "timed out after \(seconds) s: \(command)\n\(stderr.suffix(2000))\n\(stdout.suffix(2000))" }
}

/// A child process started by a test.
///
/// Not Foundation's `Process`: its `waitUntilExit` was seen to hang for good on a child that had
/// already exited (a zombie never reaped), which stalled a CI run until its time limit. Here:
/// `posix_spawn` with input and output in files (never pipes, so a chatty child or a helper that
/// outlives it cannot block the test), every other descriptor closed, default signal handling,
/// its own process group (so a timeout kills its helpers too), and `waitpid` with a deadline.
final class Child {
    let pid: pid_t
    let command: String

    init(_ path: String, _ args: [String], stdin: String, stdout: String, stderr: String, env: [String: String]) throws {
        command = ([path] + args).joined(separator: " ")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Child.addCloseFrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw CommandFailed(run: Run(status: -1, stdout: "", stderr: "cannot start \(path): errno \(rc)")) }
        self.pid = pid
    }

    /// glibc 2.34+ has it, but Swift's Glibc module does not export it.
    private static let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return { _, _ in 0 } }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private var status: Int32?

    /// The exit status (128 + signal when a signal ended it), or nil when it is still running
    /// after `seconds`.
    func wait(seconds: Double) -> Int32? {
        if let status { return status }
        let deadline = Date().addingTimeInterval(seconds)
        var pause: UInt32 = 500
        while true {
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid {
                let signal = raw & 0x7f
                status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
                return status
            }
            if r < 0 && errno != EINTR { status = -1; return status }
            if Date() >= deadline { return nil }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    /// Sends a signal to the child and everything it started.
    func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(-pid, signal) }

    deinit {
        if status == nil, wait(seconds: 0) == nil {
            kill()
            _ = wait(seconds: 10)
        }
    }
}

/// Runs one of the project's executables (or any program by absolute path) to completion, with
/// a time limit: a hang fails one test with what the program printed instead of stalling the suite.
@discardableResult
func run(_ program: String, _ args: [String], stdin: String? = nil, env: [String: String] = [:], timeout: Double = 120) throws -> Run {
    let path = program.hasPrefix("/") ? program : binDirectory + "/" + program
    let scratch = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let inPath = scratch + "/stdin", outPath = scratch + "/stdout", errPath = scratch + "/stderr"
    _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "FIELDKIT_HOME")
    environment.removeValue(forKey: "FIELDKIT_COUNTY_HOME")
    // Words in English unless a test asks for another language (Chinese is the default).
    environment["LANG"] = "en_US.UTF-8"
    for (k, v) in env { environment[k] = v }
    let child = try Child(path, args, stdin: inPath, stdout: outPath, stderr: errPath, env: environment)
    let status = child.wait(seconds: timeout)
    if status == nil {
        child.kill()
        _ = child.wait(seconds: 10)
    }
    let o = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
    let e = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
    guard let status else { throw TimedOut(command: child.command, seconds: timeout, stdout: o, stderr: e) }
    return Run(status: status, stdout: o, stderr: e)
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
    /// The minute of the day (China time) when the world was made.
    var minute = 0

    /// - Parameters:
    ///   - sessions: the class's sessions from the minute of the day it is now (China time);
    ///     nil for one session from 5 minutes ago to 2 hours from now.
    ///   - siteName: the site's name in the bundle.
    init(trainees: Int = 5, sessions: ((Int) -> String)? = nil, siteName: String = "古县职业培训学校") throws {
        dir = temporaryDirectory()
        let now = Date().addingTimeInterval(8 * 3600)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute], from: now)
        let minute = c.hour! * 60 + c.minute!
        self.minute = minute
        let fmt = { (m: Int) in String(format: "%02d:%02d", m / 60, m % 60) }
        let today = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        let last = cal.dateComponents([.year, .month, .day], from: now.addingTimeInterval(20 * 86400))
        let end = String(format: "%04d-%02d-%02d", last.year!, last.month!, last.day!)
        let sessions = sessions?(minute) ?? "\(fmt(max(0, minute - 5)))-\(fmt(min(1439, minute + 120)))"
        try expectOK(run("fieldkit-county", ["init", "--home", county, "--county", "141023"]))
        try expectOK(run("fieldkit-county", ["site", "add", "--home", county, "--id", "S01", "--name", siteName]))
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

/// `HH:MM` of a minute of the day, clamped to the day.
func clockText(_ minute: Int) -> String {
    let m = min(1439, max(0, minute))
    return String(format: "%02d:%02d", m / 60, m % 60)
}

struct CommandFailed: Error, CustomStringConvertible {
    var run: Run
    var description: String { "exit \(run.status): \(run.stderr) \(run.stdout)" }
}

func expectOK(_ r: Run) throws {
    if r.status != 0 { throw CommandFailed(run: r) }
}

/// A moment in China time (`2026-03-02 08:25`) as faketime wants it: UTC.
func utc(_ chinaTime: String) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
    f.dateFormat = "yyyy-MM-dd HH:mm"
    let g = DateFormatter()
    g.locale = Locale(identifier: "en_US_POSIX")
    g.timeZone = TimeZone(identifier: "UTC")
    g.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return g.string(from: f.date(from: chinaTime)!)
}

/// Runs one of the project's programs as if it were `chinaTime` (libfaketime; the monotonic
/// clock stays real), so a two-week class plays in seconds through the real binaries.
@discardableResult
func run(at chinaTime: String, _ program: String, _ args: [String], stdin: String? = nil) throws -> Run {
    clearStaleFaketime()
    return try run("/usr/bin/faketime", ["-f", "@" + utc(chinaTime), binDirectory + "/" + program] + args, stdin: stdin,
        env: ["FAKETIME_DONT_FAKE_MONOTONIC": "1"])
}

/// Removes what libfaketime left in /dev/shm for processes that are gone (a server stopped by a
/// signal never cleans up): its names carry the process id, so a later process given the same id
/// would otherwise fail with "sem_open: File exists".
func clearStaleFaketime() {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm") else { return }
    for name in names where name.hasPrefix("faketime_shm_") || name.hasPrefix("sem.faketime_sem_") {
        guard let pid = name.split(separator: "_").last.flatMap({ Int32($0) }), pid > 0 else { continue }
        if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: "/dev/shm/" + name) }
    }
}

func json(_ r: Run) throws -> Any {
    try expectOK(r)
    return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
}

/// A county (141023) with site S01 and class 12, made at a faked moment through the real binary;
/// `classArgs` are the rest of `class add` (trade, level, dates, sessions, …).
func fakeTimeCounty(_ county: String, at moment: String, classArgs: [String]) throws {
    try expectOK(run(at: moment, "fieldkit-county", ["init", "--home", county, "--county", "141023"]))
    try expectOK(run(at: moment, "fieldkit-county", ["site", "add", "--home", county, "--id", "S01", "--name", "古县职业培训学校"]))
    try expectOK(run(at: moment, "fieldkit-county", ["class", "add", "--home", county, "--id", "12", "--site", "S01"] + classArgs))
}
