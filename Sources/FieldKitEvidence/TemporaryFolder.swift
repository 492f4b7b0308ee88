import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A private folder (mode 0700) under `$TMPDIR`, or `/tmp`, named `<prefix>-<pid>-XXXXXX`, that
/// does not outlive the work it is for: ``remove()`` on a normal end or an error, and on
/// SIGINT, SIGTERM or SIGHUP (Ctrl-C, `kill`, a closed terminal) the folder is removed before
/// the signal takes the process down as it would have. Only SIGKILL and a power cut leave it.
final class TemporaryFolder {
    /// The folder.
    let path: String
    private var removed = false

    /// Where temporary folders go: `$TMPDIR` when it is an absolute path, else `/tmp`.
    static var base: String {
        if let t = getenv("TMPDIR").map({ String(cString: $0) }), t.hasPrefix("/") {
            return t.count > 1 && t.hasSuffix("/") ? String(t.dropLast()) : t
        }
        return "/tmp"
    }

    /// Makes the folder (in `base`, ``base`` by default) and arranges its removal on a signal.
    /// - Throws: ``FileError`` when it cannot be made.
    init(prefix: String, in base: String = TemporaryFolder.base) throws {
        var template = Array("\(base)/\(prefix)-\(getpid())-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let start = buffer.baseAddress, let result = mkdtemp(start) else { return nil }
            return String(cString: result)
        }
        guard let made else { throw FileError.cannotWrite(base, reason: String(cString: strerror(errno))) }
        path = made
        SignalCleanup.register(made)
    }

    /// Removes the folder and everything in it.
    func remove() {
        guard !removed else { return }
        removed = true
        // Removed first, then forgotten: a signal in between finds nothing left to remove.
        try? removeTree(path)
        SignalCleanup.unregister(path)
    }

    deinit { remove() }
}

/// The write end of the pipe the signal handler writes to (set before the handler is installed).
nonisolated(unsafe) private var cleanupPipeWrite: Int32 = -1

/// The signal handler: one write(2) of the signal number, which is async-signal-safe; the
/// cleanup thread does the rest in ordinary code.
private let cleanupHandler: @convention(c) (Int32) -> Void = { signal in
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(cleanupPipeWrite, &byte, 1)
}

/// Removes registered temporary folders when SIGINT, SIGTERM or SIGHUP arrives, then lets the
/// signal do what it would have done (the previous handler, or the default: the process ends).
///
/// The handler is installed while at least one folder is registered and the previous
/// disposition is restored after; a signal someone chose to ignore (`nohup`) stays ignored.
enum SignalCleanup {
    /// The signals handled.
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    struct State {
        var folders: [String: Int] = [:]
        var saved: [Int32: sigaction] = [:]
        var installed = false
        var threadStarted = false
    }

    static let state = Mutex(State())

    /// Adds a folder to remove on a signal.
    static func register(_ path: String) {
        state.withLock { s in
            s.folders[path, default: 0] += 1
            if !s.installed { install(&s) }
        }
    }

    /// Forgets a folder; the previous handlers come back when none is left.
    static func unregister(_ path: String) {
        state.withLock { s in
            guard let count = s.folders[path] else { return }
            s.folders[path] = count > 1 ? count - 1 : nil
            if s.folders.isEmpty && s.installed { restore(&s) }
        }
    }

    private static func install(_ s: inout State) {
        if !s.threadStarted {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { return }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            cleanupPipeWrite = fds[1]
            let reader = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
            reader.initialize(to: fds[0])
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { argument in
                guard let fd = argument?.assumingMemoryBound(to: Int32.self).pointee else { return nil }
                SignalCleanup.waitForSignals(fd)
                return nil
            }, reader)
            guard started == 0 else { return }
            pthread_detach(thread)
            s.threadStarted = true
        }
        for signal in signals {
            var old = sigaction()
            guard sigaction(signal, nil, &old) == 0 else { continue }
            if old.sa_flags & SA_SIGINFO == 0, unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == 1 { continue }  // SIG_IGN
            var action = sigaction()
            action.__sigaction_handler.sa_handler = cleanupHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            if sigaction(signal, &action, nil) == 0 { s.saved[signal] = old }
        }
        s.installed = true
    }

    private static func restore(_ s: inout State) {
        for (signal, old) in s.saved {
            var previous = old
            sigaction(signal, &previous, nil)
        }
        s.saved = [:]
        s.installed = false
    }

    /// The cleanup thread: waits for a signal number on the pipe, removes the folders (again
    /// while the main thread may still be writing into them), restores the previous handler and
    /// sends the signal again.
    static func waitForSignals(_ fd: Int32) {
        while true {
            var byte: UInt8 = 0
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { return }
            let signal = Int32(byte)
            let folders = state.withLock { s in Array(s.folders.keys) }
            for folder in folders {
                for _ in 0..<50 {
                    try? removeTree(folder)
                    var st = stat()
                    if lstat(folder, &st) != 0 { break }
                    usleep(2_000)
                }
            }
            state.withLock { s in
                s.folders = [:]
                if s.installed { restore(&s) }
            }
            kill(getpid(), signal)
        }
    }
}
