import CNcurses
import FieldKitCore

/// The full-screen terminal, through ncursesw. Only this file touches curses.
final class Terminal {
    /// A key or a character read.
    enum Input: Equatable {
        case character(Unicode.Scalar)
        case enter
        case backspace
        case escape
        /// A function key, F1 to F12.
        case function(Int)
        case resize
        case none
    }

    /// Colour pairs.
    enum Paint: Int16 {
        case normal = 0
        case ok = 1
        case duplicate = 2
        case refused = 3
        case title = 4
        case warning = 5
        case idle = 6
    }

    private(set) var rows = 24
    private(set) var columns = 80
    var muted = false

    /// Starts curses in a UTF-8 locale: the environment's, or C.UTF-8 when that is not UTF-8
    /// (a PC without the zh_CN locale installed).
    init() {
        setlocale(LC_ALL, "")
        if String(cString: fk_codeset()).uppercased() != "UTF-8" { setlocale(LC_ALL, "C.UTF-8") }
        fk_unblock_winch()
        initscr()
        // Raw: Ctrl-C and Ctrl-Z arrive as keys (and show the help) instead of stopping the kiosk.
        raw()
        noecho()
        fk_keypad_on()
        curs_set(0)
        set_escdelay(50)
        timeout(250)
        if has_colors() {
            start_color()
            use_default_colors()
            init_pair(Paint.ok.rawValue, Int16(COLOR_BLACK), Int16(COLOR_GREEN))
            init_pair(Paint.duplicate.rawValue, Int16(COLOR_BLACK), Int16(COLOR_YELLOW))
            init_pair(Paint.refused.rawValue, Int16(COLOR_WHITE), Int16(COLOR_RED))
            init_pair(Paint.title.rawValue, Int16(COLOR_WHITE), Int16(COLOR_BLUE))
            init_pair(Paint.warning.rawValue, Int16(COLOR_BLACK), Int16(COLOR_YELLOW))
            init_pair(Paint.idle.rawValue, Int16(COLOR_WHITE), Int16(COLOR_BLACK))
        }
        measure()
    }

    /// Restores the terminal.
    func close() { endwin() }

    func measure() {
        rows = Int(fk_lines())
        columns = Int(fk_cols())
    }

    /// Waits up to `milliseconds` for input, then takes everything else already waiting (a
    /// scanner's whole line arrives at once), in order.
    func read(waitMilliseconds milliseconds: Int) -> [Input] {
        fk_timeout(Int32(milliseconds))
        guard let first = readOne() else { return [] }
        var out = [first]
        fk_timeout(0)
        defer { fk_timeout(250) }
        while out.count < 8192, let next = readOne() { out.append(next) }
        return out.filter { $0 != .none }
    }

    /// One key (`.none` for a key the kiosk has no use for), or nil when nothing came in time.
    private func readOne() -> Input? {
        var ch: UInt32 = 0
        let rc = fk_get_wch(&ch)
        if rc == fk_key_code_yes() {
            let f0 = fk_key_f0()
            switch Int32(ch) {
            case fk_key_resize():
                measure()
                return .resize
            case fk_key_backspace(): return .backspace
            case fk_key_enter(): return .enter
            case (f0 + 1)...(f0 + 12): return .function(Int(Int32(ch) - f0))
            default: return .none
            }
        }
        guard rc == fk_ok() else { return nil }
        guard let scalar = Unicode.Scalar(ch) else { return .none }
        switch ch {
        case 10, 13: return .enter
        case 8, 127: return .backspace
        case 27: return .escape
        default: return .character(scalar)
        }
    }

    func clear() { erase() }

    /// Writes text at a row and column with a colour; cut at the right edge. Every line drawn
    /// passes here, and names, class names and notes come from the bundle and the log: control
    /// and bidirectional characters are shown escaped (``terminalSafe(_:)``), never obeyed.
    func put(_ text: String, row: Int, column: Int = 0, paint: Paint = .normal, bold: Bool = false) {
        guard row >= 0, row < rows, column < columns else { return }
        let attrs = fk_color_pair(Int32(paint.rawValue)) | (bold ? fk_bold() : 0)
        fk_attron(attrs)
        _ = fk_addstr(Int32(row), Int32(column), DisplayWidth.truncate(terminalSafe(text), to: columns - column))
        fk_attroff(attrs)
    }

    /// Fills a whole row with a colour and text.
    func band(_ text: String, row: Int, paint: Paint, bold: Bool = false, centered: Bool = false) {
        let text = terminalSafe(text)  // before measuring, so an escape is centred like any text
        let line = centered ? DisplayWidth.center(text, in: columns) : DisplayWidth.pad(text, to: columns)
        put(line, row: row, paint: paint, bold: bold)
    }

    func show() { refresh() }

    /// Rings the terminal bell `times` times (unless muted).
    func ring(_ times: Int) {
        guard !muted else { return }
        for i in 0..<times {
            beep()
            if i + 1 < times { napms(180) }
        }
    }
}
