/// Tells a scanner from a person by timing.
///
/// A USB scanner types a whole line within milliseconds and ends it with Enter; a person types
/// one key and waits. Every character is kept with the time it arrived: characters that follow
/// each other within ``gap`` milliseconds form a *run*. A run ended by Enter within the gap is a
/// ``Event/burst(_:)`` (a scan, whatever its first letter); a run that stops without Enter is
/// ``Event/typed(_:)`` once the gap has passed (a single letter typed alone is a command).
/// Nothing is dropped: every character leaves in exactly one event.
struct InputBursts {
    /// What the keys meant.
    enum Event: Equatable {
        /// Fast characters ended by Enter: a scanner's line.
        case burst(String)
        /// Characters after which nothing came within the gap (and no Enter).
        case typed(String)
        /// Enter on its own.
        case enter
        /// Any other key: backspace, escape, a function key, a control character.
        case key(Terminal.Input)
    }

    /// Milliseconds within which a character belongs to the run before it. A scanner sends
    /// a character every few milliseconds; a person's keys are rarely under 100 ms apart
    /// when typing a single command key.
    static let gap: Int64 = 80

    private var run: [Unicode.Scalar] = []
    private var lastAt: Int64 = 0

    /// Whether characters are held, waiting to see if more follow.
    var waiting: Bool { !run.isEmpty }

    /// Takes one input read at a moment (monotonic milliseconds).
    mutating func feed(_ input: Terminal.Input, at now: Int64) -> [Event] {
        switch input {
        case .none, .resize: return []
        case .character(let c) where c.value >= 32 && c.value != 127:
            var out: [Event] = []
            if !run.isEmpty && now - lastAt > InputBursts.gap { out.append(.typed(flush())) }
            run.append(c)
            lastAt = now
            return out
        case .enter:
            guard !run.isEmpty else { return [.enter] }
            let fast = now - lastAt <= InputBursts.gap
            let text = flush()
            return fast ? [.burst(text)] : [.typed(text), .enter]
        default:
            return (run.isEmpty ? [] : [.typed(flush())]) + [.key(input)]
        }
    }

    /// Releases the run when the gap has passed with nothing more.
    mutating func tick(now: Int64) -> [Event] {
        guard !run.isEmpty, now - lastAt > InputBursts.gap else { return [] }
        return [.typed(flush())]
    }

    private mutating func flush() -> String {
        var s = ""
        s.unicodeScalars.append(contentsOf: run)
        run = []
        return s
    }

    /// Whether a line can only have come from a scanner (a voucher code is hundreds of digits; a URL),
    /// so that it is scanned even while a prompt waiting for typed text is open.
    static func scannerLike(_ text: String) -> Bool {
        text.contains("://") || text.unicodeScalars.count > 40
    }
}
