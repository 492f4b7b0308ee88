import FieldKitCore
import FieldKitStore

#if canImport(Glibc)
import Glibc
#endif

/// The instructor's full-screen kiosk: reads scanner lines and instructor keys all day.
///
/// Every code goes through ``Station/scan(_:)``, the same path as `fieldkit scan`; the
/// answer is shown only after it is on disk. Nothing typed can stop it but Q (or F10) and a Y.
///
/// Scanner and instructor share one keyboard input, told apart by timing (``InputBursts``):
/// characters arriving together and ended by Enter are a scan, whatever they are and whatever
/// prompt is open; a letter typed alone is a command. Everything typed is either recorded (a
/// scan, refused or not) or shown (the line being typed, a note).
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
    var bursts = InputBursts()
    var last: ScanOutcome?
    /// Shown in the panel instead of the last outcome: a manual entry's trainee, or why it
    /// cannot go on. Lines are wrapped to the screen when drawn.
    var notice: (paint: Terminal.Paint, lines: [String])?
    /// The trainee of the manual entry under way, as checked after the voucher number.
    var previewed: ManualPreview?
    var recent: [ScanOutcome] = []
    var lastLine: (text: String, at: Int64)?
    var note: String?
    /// The session shown (S, or the session of the last accepted scan); nil for the one open now.
    var viewed: SessionKey?
    var status: StationStatus?
    var statusAt: Int64 = 0
    var running = true
    var muted = false
    /// The process id of another kiosk running on the same home, found at start.
    var otherKiosk: Int32?
    /// The open `kiosk.lock`, held (flock) while this kiosk runs.
    var lockFile: Int32 = -1
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
        takeLock()
        defer { if lockFile >= 0 { Glibc.close(lockFile) } }
        let term = Terminal()
        defer { term.close() }
        try refresh(force: true)
        recent = (try? station.recentScans(limit: 20)) ?? []
        while running {
            draw(term)
            let inputs = term.read(waitMilliseconds: bursts.waiting ? Int(InputBursts.gap) + 10 : 250)
            let now = Kiosk.monotonicMilliseconds()
            var events: [InputBursts.Event] = []
            for input in inputs { events += bursts.feed(input, at: now) }
            events += bursts.tick(now: now)
            if inputs.isEmpty && events.isEmpty {
                try refresh(force: false)
                continue
            }
            for event in events where running {
                let rings = handle(event)
                term.muted = muted
                if rings > 0 { term.ring(rings) }
            }
        }
    }

    /// Takes `kiosk.lock` in the home. When another kiosk holds it, this one still runs but
    /// shows a red band naming that process: refusing to start could leave a classroom with no
    /// way to sign in when the other window is lost (a closed laptop lid, a detached tmux), and
    /// two windows cannot corrupt anything (every scan is its own SQLite transaction); the
    /// instructor is told, and can close one.
    func takeLock() {
        let path = station.home + "/kiosk.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            lockFile = fd
            otherKiosk = nil
            let text = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            return
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        Glibc.close(fd)
        let text = String(decoding: bytes.prefix(max(0, n)), as: UTF8.self)
        otherKiosk = Int32(text.trimmingWhitespace()) ?? 0
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
        if otherKiosk != nil { takeLock() }  // the other window was closed: the warning goes
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

    /// Handles what one burst, run of typing or key meant; returns how many times to ring
    /// (1 ok, 2 duplicate, 3 refused).
    func handle(_ event: InputBursts.Event) -> Int {
        do {
            // A scanner's line is scanned whatever is open: a prompt that waits for a key
            // cannot take a line, and one that waits for typed text takes it only when it
            // could have been typed (a voucher number, a reason).
            if case .burst(let line) = event {
                switch mode {
                case .manualVoucher, .manualReason:
                    if !InputBursts.scannerLike(line) { break }
                    fallthrough
                default:
                    if mode != .scanning { closePrompt() }
                    let text = buffer + line
                    buffer = ""
                    return try scan(text)
                }
            }
            if case .typed(let text) = event, mode != .scanning {
                // Text that stopped without Enter and only a scanner sends: its Enter is late.
                if InputBursts.scannerLike(text) {
                    closePrompt()
                    buffer += text
                    return 0
                }
                // Keys typed quickly one after another at a prompt that takes a key: each in turn.
                if !mode.takesText, text.unicodeScalars.count > 1, let first = text.unicodeScalars.first {
                    let rings = handle(.typed(String(first)))
                    return max(rings, handle(.typed(String(text.unicodeScalars.dropFirst()))))
                }
            }
            if case .key(.function(let n)) = event {
                if mode != .scanning { closePrompt() }
                return functionKey(n)
            }
            switch mode {
            case .scanning: return try scanning(event)
            case .manualVoucher(let typed): return manualVoucher(event, typed)
            case .manualDirection(let voucher): return manualDirection(event, voucher)
            case .manualReason(let voucher, let direction, let typed): return try manualReason(event, voucher, direction, typed)
            case .help:
                mode = .scanning
                return 0
            case .confirmEnd:
                mode = .scanning
                if case .typed(let c) = event, c == "y" || c == "Y" { try endSession() }
                return 0
            case .confirmQuit:
                mode = .scanning
                if case .typed(let c) = event, c == "y" || c == "Y" { running = false }
                return 0
            }
        } catch {
            mode = .scanning
            showProblem(error)
            return 3
        }
    }

    /// Leaves a prompt for scanning, saying so (nothing typed in it is lost silently).
    func closePrompt() {
        if case .manualVoucher = mode { notice = nil }
        if case .manualDirection = mode { notice = nil }
        if case .manualReason = mode { notice = nil }
        mode = .scanning
        note = t("kiosk.prompt_closed")
    }

    /// An error in the kiosk's language, in the panel (wrapped, never cut mid-word).
    func showProblem(_ error: any Error) {
        let text = (error as? any LocalizedFailure)?.text(t) ?? t("kiosk.error", ["error": "\(error)"])
        notice = (.refused, ["✘  " + t("outcome.rejected") + "  ✘", text])
        note = nil
    }

    func scanning(_ event: InputBursts.Event) throws -> Int {
        switch event {
        case .burst: return 0  // handled before
        case .enter:
            let line = buffer
            buffer = ""
            guard !line.trimmingWhitespace().isEmpty else { return 0 }
            return try scan(line)
        case .typed(let text):
            if buffer.isEmpty, text.unicodeScalars.count == 1, let c = text.unicodeScalars.first,
                c == "?" || (c.properties.isAlphabetic && c.properties.numericType == nil)
            {
                return command(c == "?" ? "h" : c)
            }
            if buffer.unicodeScalars.count + text.unicodeScalars.count > 2000 {
                note = t("kiosk.too_long", ["count": String(buffer.unicodeScalars.count + text.unicodeScalars.count)])
                buffer = ""
                return 3
            }
            buffer += text
            note = nil
            return 0
        case .key(.backspace):
            if !buffer.isEmpty { buffer.removeLast() }
            return 0
        case .key(.escape):
            buffer = ""
            note = nil
            return 0
        case .key(.character(let c)):
            // Ctrl-C, Ctrl-Z and friends: not a way out, just a key that shows the help.
            note = t("kiosk.bad_key", ["key": "^" + String(Unicode.Scalar(UInt8(c.value & 0x7F ^ 0x40)))])
            mode = .help
            return 0
        case .key: return 0
        }
    }

    /// F1 help, F2 manual entry, F3 next session, F4 end session, F10 quit.
    func functionKey(_ n: Int) -> Int {
        switch n {
        case 1: return command("h")
        case 2: return command("m")
        case 3: return command("s")
        case 4: return command("e")
        case 10: return command("q")
        default:
            note = t("kiosk.bad_key", ["key": "F\(n)"])
            mode = .help
            return 0
        }
    }

    func command(_ c: Unicode.Scalar) -> Int {
        note = nil
        switch Character(c).lowercased() {
        case "m":
            notice = nil
            mode = .manualVoucher("")
        case "s":
            let today = (try? station.todaysSessions()) ?? (sessions: [], current: nil)
            if !today.sessions.isEmpty {
                let next = ((shownIndex(today) ?? -1) + 1) % today.sessions.count
                viewed = today.sessions[next].1
            }
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

    /// The index, in today's sessions, of the session shown.
    func shownIndex(_ today: (sessions: [(ClassInfo, SessionKey)], current: Int?)) -> Int? {
        viewed.flatMap { v in today.sessions.firstIndex { $0.1 == v } } ?? today.current
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
        notice = nil
        last = outcome
        // The view follows the scans: the session an accepted event landed in, with its counters.
        if outcome.result == .accepted, let key = outcome.sessionKey { viewed = key }
        recent.insert(outcome, at: 0)
        if recent.count > 20 { recent.removeLast() }
    }

    func manualVoucher(_ event: InputBursts.Event, _ typed: String) -> Int {
        switch event {
        case .key(.escape):
            notice = nil
            mode = .scanning
        case .key(.backspace): mode = .manualVoucher(String(typed.dropLast()))
        case .typed(let text): mode = .manualVoucher(String((typed + text).prefix(20)))
        case .enter, .burst:
            var typed = typed
            if case .burst(let text) = event { typed += text }
            // An ID number typed by mistake is never echoed back on the screen.
            if (try? IDNumber(typed.trimmingWhitespace())) != nil {
                notice = (.refused, [t("kiosk.manual.looks_like_id")])
                mode = .manualVoucher("")
                return 3
            }
            let digits = (try? VoucherText.normalize(typed)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard let id = UInt64(digits), !digits.isEmpty else {
                notice = (.refused, [t("kiosk.manual.bad_voucher")])
                mode = .manualVoucher("")
                return 3
            }
            return preview(id)
        default: break
        }
        return 0
    }

    /// Checks the voucher before asking in or out: unknown, revoked, the session ended or no
    /// session now stop here with the reason; otherwise the trainee and their state are shown.
    func preview(_ id: UInt64) -> Int {
        let p: ManualPreview
        do {
            p = try station.manualPreview(voucherID: id)
        } catch {
            showProblem(error)
            mode = .manualVoucher("")
            return 3
        }
        let who = "\(p.name) \(p.idMasked)  " + t("kiosk.manual.voucher_no", ["voucher": String(id)])
        if let date = p.revokedOn {
            notice = (.refused, [t("kiosk.manual.revoked_title"), who, t("reason.revoked", ["date": date, "why": p.revokedWhy ?? ""])])
            mode = .scanning
            return 3
        }
        let state: String
        switch p.state {
        case .noSession(let sessions):
            notice = (.refused, [t("kiosk.manual.cannot"), who, t("kiosk.manual.no_session", ["sessions": sessions])])
            mode = .scanning
            return 3
        case .sessionEnded(let window, let ended):
            notice = (.refused, [t("kiosk.manual.cannot"), who, t("reason.session_ended", ["window": window, "ended": ended])])
            mode = .scanning
            return 3
        case .notSignedIn(let window): state = t("kiosk.manual.state.none", ["window": window])
        case .signedIn(let window, let at): state = t("kiosk.manual.state.in", ["window": window, "time": at])
        case .signedOut(let window, let at): state = t("kiosk.manual.state.out", ["window": window, "time": at])
        }
        notice = (.idle, [t("kiosk.manual.title"), who, state])
        previewed = p
        mode = .manualDirection(id)
        return 0
    }

    func manualDirection(_ event: InputBursts.Event, _ voucher: UInt64) -> Int {
        switch event {
        case .key(.escape):
            notice = nil
            mode = .scanning
        case .typed(let c) where c == "i" || c == "I": mode = .manualReason(voucher, .signIn, "")
        case .typed(let c) where c == "o" || c == "O":
            // Said now rather than after the reason is typed.
            if case .notSignedIn? = previewed?.state {
                manualHint(t("kiosk.manual.no_sign_in"))
                return 3
            }
            mode = .manualReason(voucher, .signOut, "")
        case .typed(let c): manualHint(t("kiosk.manual.direction_only", ["key": c]))
        default: break
        }
        return 0
    }

    /// A line under the trainee in the panel, replacing the previous hint.
    func manualHint(_ text: String) {
        guard let n = notice else { return }
        notice = (n.paint, Array(n.lines.prefix(3)) + [text])
    }

    func manualReason(_ event: InputBursts.Event, _ voucher: UInt64, _ direction: Direction, _ typed: String) throws -> Int {
        switch event {
        case .key(.escape):
            notice = nil
            mode = .scanning
        case .key(.backspace): mode = .manualReason(voucher, direction, String(typed.dropLast()))
        case .typed(let text): mode = .manualReason(voucher, direction, String((typed + text).prefix(80)))
        case .enter, .burst:
            var typed = typed
            if case .burst(let text) = event { typed = String((typed + text).prefix(80)) }
            guard !typed.trimmingWhitespace().isEmpty else {
                mode = .manualReason(voucher, direction, typed)
                return 0
            }
            mode = .scanning
            do {
                let outcome = try station.manual(voucherID: voucher, direction: direction, reason: typed)
                show(outcome)
                try refresh(force: true)
                return outcome.result == .accepted ? 1 : outcome.result == .duplicate ? 2 : 3
            } catch let error as StationError {
                showProblem(error)
                return 3
            }
        default: break
        }
        return 0
    }

    func endSession() throws {
        let today = try station.todaysSessions()
        guard let i = shownIndex(today), i < today.sessions.count else {
            note = t("kiosk.end.none")
            return
        }
        let open = try station.endSession(today.sessions[i].1)
        note = t("kiosk.end.done", ["open": String(open)])
        try refresh(force: true)
    }
}

extension Kiosk.Mode {
    /// Whether the prompt waits for typed text (a voucher number, a reason) rather than a key.
    var takesText: Bool {
        switch self {
        case .manualVoucher, .manualReason: true
        default: false
        }
    }
}
