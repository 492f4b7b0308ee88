import Foundation

/// A child process started by a test, killed with everything it started when the test lets go
/// of it.
///
/// Not Foundation's `Process`: its `waitUntilExit` was seen to hang for good on Linux. Here, as in
/// the end-to-end harness: `posix_spawn`, its own process group, input from /dev/null, output to
/// files (never pipes, so a chatty child cannot block), every other descriptor closed, default
/// signal handling, and `waitpid` with a deadline.
final class Spawn {
    /// The process id, which is also its process group id.
    let pid: pid_t
    /// What was started, for messages.
    let command: String
    /// The file the child's standard output goes to.
    let stdoutPath: String
    /// The file the child's standard error goes to.
    let stderrPath: String

    /// The exit status once reaped.
    private var status: Int32?

    /// A program that could not be started.
    struct Failed: Error, CustomStringConvertible {
        /// Why.
        var description: String
    }

    /// Starts `path` with `args`, its output going to `stdoutPath` and `stderrPath`.
    /// - Throws: ``Failed`` when `posix_spawn` refuses.
    init(_ path: String, _ args: [String], stdoutPath: String, stderrPath: String, env: [String: String]? = nil) throws
    {
        command = ([path] + args).joined(separator: " ")
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Spawn.addCloseFrom(&actions, 3)
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
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )
        let environment = env ?? ProcessInfo.processInfo.environment
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw Failed(description: "cannot start \(path): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// glibc 2.34+ has it, but Swift's Glibc module does not export it.
    private static let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 =
        {
            guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return { _, _ in 0 } }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
            )
        }()

    /// The first program called `name` in the directories of `PATH`, or nil.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

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
            if r < 0 && errno != EINTR {
                status = -1
                return status
            }
            if Date() >= deadline { return nil }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    /// Sends a signal to the child's whole process group.
    func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(-pid, signal) }

    /// Kills the child (and its group) unless it already ended, and reaps it.
    func stop() {
        if wait(seconds: 0) == nil {
            kill()
            _ = wait(seconds: 10)
        }
    }

    /// What the child wrote to standard output so far.
    func output() -> String {
        String(decoding: FileManager.default.contents(atPath: stdoutPath) ?? Data(), as: UTF8.self)
    }

    /// What the child wrote to standard error so far.
    func errors() -> String {
        String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self)
    }

    deinit { stop() }
}
