import FieldKitCore
import FieldKitStore

#if canImport(Glibc)
import Glibc
#endif

/// The instructor's full-screen kiosk: reads scanner lines and instructor keys all day.
///
/// Every code goes through ``Station/scan(_:)``, the same path as `fieldkit scan`; the
/// answer is shown only after it is on disk. Nothing typed can stop it but Q and a Y.
public final class Kiosk {
    enum Mode: Equatable {
        case scanning
        case manualVoucher(String)
        case manualDirection(UInt64)
        case manualReason(UInt64, Direction, String)
        case help
        case confirmEnd
        case confirmQuit
    }

    let station: Station
    let t: Localizer
    var mode: Mode = .scanning
    var buffer = ""
    var last: ScanOutcome?
    var recent: [ScanOutcome] = []
    var lastLine: (text: String, at: Int64)?
    var note: String?
    var selected: Int?
    var status: StationStatus?
    var statusAt: Int64 = 0
    var running = true
    var muted = false
    /// The command that syncs in the background (`fieldkit sync --home …`), or nil.
    let syncCommand: [String]?
    /// Seconds between background syncs.
    let syncEvery: Int64
    var syncChild: pid_t = 0
    var syncStartedAt: Int64 = -1_000_000_000

    /// A scanner double-send (the same code again within this many milliseconds) is absorbed.
    static let doubleSendMilliseconds: Int64 = 1500

    /// A kiosk on a station, speaking a language.
    /// - Parameters:
    ///   - syncCommand: run in the background every `syncEvery` seconds while the station is
    ///     enrolled and has events the county lacks (a separate process: a slow link never
    ///     holds up a scan, and a crash of it loses nothing).
    public init(station: Station, localizer: Localizer, syncCommand: [String]? = nil, syncEvery: Int = 300) {
        self.station = station
        self.t = localizer
        self.syncCommand = syncCommand
        self.syncEvery = Int64(max(10, syncEvery)) * 1000
    }

    /// Runs until the instructor quits.
    public func run() throws {
        let term = Terminal()
        defer { term.close() }
        try refresh(force: true)
        while running {
            draw(term)
            let input = term.read()
            if input == .none {
                try refresh(force: false)
                continue
            }
            let rings = handle(input)
            term.muted = muted
            if rings > 0 { term.ring(rings) }
        }
    }

    /// Milliseconds on the monotonic clock.
    static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Reloads counters and warnings (every few seconds, and after every change).
    func refresh(force: Bool) throws {
        let now = Kiosk.monotonicMilliseconds()
        guard force || now - statusAt > 5000 else { return }
        status = try station.status()
        statusAt = now
        _ = try? station.maintain()
        syncInBackground(now: now)
    }

    /// Starts the sync command when it is due; reaps it when it has finished.
    func syncInBackground(now: Int64) {
        if syncChild > 0 {
            var raw: Int32 = 0
            if waitpid(syncChild, &raw, WNOHANG) == syncChild { syncChild = 0 }
            return
        }
        guard let command = syncCommand, let sync = status?.sync, sync.countyURL != nil, sync.stopped == nil,
            sync.unsynced > 0 || (sync.lastSuccessAt.map { station.clock.now().milliseconds - $0.milliseconds > syncEvery } ?? true),
            now - syncStartedAt >= syncEvery
        else { return }
        syncStartedAt = now
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        if posix_spawn(&pid, command[0], &actions, nil, argv, environ) == 0 { syncChild = pid }
    }

    // MARK: - Input

    /// Handles one input; returns how many times to ring (1 ok, 2 duplicate, 3 refused).
    func handle(_ input: Terminal.Input) -> Int {
        switch input {
        case .resize, .none: return 0
        default: break
        }
        do {
            switch mode {
            case .scanning: return try scanning(input)
            case .manualVoucher(let typed): return manualVoucher(input, typed)
            case .manualDirection(let voucher): return manualDirection(input, voucher)
            case .manualReason(let voucher, let direction, let typed): return try manualReason(input, voucher, direction, typed)
            case .help:
                mode = .scanning
                return 0
            case .confirmEnd:
                mode = .scanning
                if case .character(let c) = input, "yY".unicodeScalars.contains(c) { try endSession() }
                return 0
            case .confirmQuit:
                mode = .scanning
                if case .character(let c) = input, "yY".unicodeScalars.contains(c) { running = false }
                return 0
            }
        } catch {
            mode = .scanning
            note = t("kiosk.error", ["error": "\(error)"])
            return 3
        }
    }

    func scanning(_ input: Terminal.Input) throws -> Int {
        switch input {
        case .enter:
            let line = buffer
            buffer = ""
            guard !line.trimmingWhitespace().isEmpty else { return 0 }
            return try scan(line)
        case .backspace:
            if !buffer.isEmpty { buffer.removeLast() }
            return 0
        case .escape:
            buffer = ""
            return 0
        case .character(let c):
            if c.value < 32 || c.value == 127 {
                // Ctrl-C, Ctrl-Z and friends: not a way out, just a key that shows the help.
                buffer = ""
                note = t("kiosk.bad_key", ["key": "^" + String(Unicode.Scalar(UInt8(c.value ^ 0x40)))])
                mode = .help
                return 0
            }
            if buffer.isEmpty, c.properties.isAlphabetic, c.properties.numericType == nil {
                return command(c)
            }
            if buffer.isEmpty, c == "?" { return command("h") }
            if buffer.unicodeScalars.count < 2000 { buffer.unicodeScalars.append(c) }
            return 0
        default:
            return 0
        }
    }

    func command(_ c: Unicode.Scalar) -> Int {
        note = nil
        switch Character(c).lowercased() {
        case "m": mode = .manualVoucher("")
        case "s":
            let count = (try? station.todaysSessions().sessions.count) ?? 0
            if count > 0 { selected = ((selected ?? currentIndex() ?? -1) + 1) % count }
        case "e": mode = .confirmEnd
        case "b": muted.toggle()
        case "h": mode = .help
        case "q": mode = .confirmQuit
        default:
            note = t("kiosk.bad_key", ["key": String(c)])
            mode = .help
        }
        return 0
    }

    /// Scans a line, absorbing a scanner's double-send.
    func scan(_ line: String) throws -> Int {
        let now = Kiosk.monotonicMilliseconds()
        if let previous = lastLine, previous.text == line, now - previous.at < Kiosk.doubleSendMilliseconds {
            return 0
        }
        lastLine = (line, now)
        let outcome = try station.scan(line)
        show(outcome)
        try refresh(force: true)
        switch outcome.result {
        case .accepted: return 1
        case .duplicate: return 2
        case .rejected: return 3
        }
    }

    func show(_ outcome: ScanOutcome) {
        note = nil
        last = outcome
        recent.insert(outcome, at: 0)
        if recent.count > 20 { recent.removeLast() }
    }

    func manualVoucher(_ input: Terminal.Input, _ typed: String) -> Int {
        switch input {
        case .escape: mode = .scanning
        case .backspace: mode = .manualVoucher(String(typed.dropLast()))
        case .character(let c):
            if typed.count < 20 { mode = .manualVoucher(typed + String(c)) }
        case .enter:
            let digits = (try? VoucherText.normalize(typed)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            if let id = UInt64(digits), !digits.isEmpty {
                mode = .manualDirection(id)
            } else {
                note = t("kiosk.manual.bad_voucher")
                mode = .manualVoucher("")
            }
        default: break
        }
        return 0
    }

    func manualDirection(_ input: Terminal.Input, _ voucher: UInt64) -> Int {
        switch input {
        case .escape: mode = .scanning
        case .character(let c) where "iI".unicodeScalars.contains(c): mode = .manualReason(voucher, .signIn, "")
        case .character(let c) where "oO".unicodeScalars.contains(c): mode = .manualReason(voucher, .signOut, "")
        default: break
        }
        return 0
    }

    func manualReason(_ input: Terminal.Input, _ voucher: UInt64, _ direction: Direction, _ typed: String) throws -> Int {
        switch input {
        case .escape: mode = .scanning
        case .backspace: mode = .manualReason(voucher, direction, String(typed.dropLast()))
        case .character(let c):
            if typed.count < 80 { mode = .manualReason(voucher, direction, typed + String(c)) }
        case .enter:
            guard !typed.trimmingWhitespace().isEmpty else { return 0 }
            mode = .scanning
            let outcome = try station.manual(voucherID: voucher, direction: direction, reason: typed)
            show(outcome)
            try refresh(force: true)
            return outcome.result == .accepted ? 1 : outcome.result == .duplicate ? 2 : 3
        default: break
        }
        return 0
    }

    func currentIndex() -> Int? { try? station.todaysSessions().current }

    func endSession() throws {
        let (sessions, current) = try station.todaysSessions()
        guard let i = selected ?? current, i < sessions.count else {
            note = t("kiosk.end.none")
            return
        }
        let open = try station.endSession(sessions[i].1)
        note = t("kiosk.end.done", ["open": String(open)])
        try refresh(force: true)
    }
}
