/// Text that came from elsewhere (a roster, a device, a bundle, a file) and is about to be shown.
///
/// Two habits, one list of characters: names with such characters are refused where they enter
/// (the county's roster, site and class names), and anything shown on a terminal has them made
/// visible, because a terminal obeys them: ESC starts a control sequence (colours, a cleared
/// screen, a retitled window), BEL rings, CR and newlines rewrite what was printed, and the
/// bidirectional controls reorder it (`U+202E` shows `exe.txt` as `txt.exe`).

extension Unicode.Scalar {
    /// Whether this is a character a terminal obeys instead of showing: C0 and C1 controls,
    /// DEL, the line and paragraph separators (U+2028, U+2029), and the bidirectional
    /// controls: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the
    /// marks U+200E, U+200F, U+061C.
    ///
    /// Ordinary text of every script passes, including `·` (U+00B7) in minority names and the
    /// full-width forms.
    public var isHiddenControl: Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x2028, 0x2029: true
        case 0x202A...0x202E, 0x2066...0x2069: true
        case 0x200E, 0x200F, 0x061C: true
        default: false
        }
    }

    /// `U+202E`: how an error names a character without printing it.
    public var codePoint: String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

/// The first character of `text` a terminal would obey instead of show, or nil when there is none.
public func firstHiddenControl(in text: String) -> Unicode.Scalar? {
    text.unicodeScalars.first(where: \.isHiddenControl)
}

/// `text` as it may reach a terminal: each ``Unicode/Scalar/isHiddenControl`` character is
/// written out visibly (`\n`, `\r`, `\t`, else `\u001B`-style, four hex digits), everything
/// else (Chinese included) is left alone.
///
/// The escapes are JSON's own, and a JSON encoder already escapes C0 controls, so a JSON line
/// passed through this stays valid JSON that decodes to the same values.
public func terminalSafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: \.isHiddenControl) else { return text }
    var out = ""
    out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 16)
    for s in text.unicodeScalars {
        guard s.isHiddenControl else {
            out.unicodeScalars.append(s)
            continue
        }
        switch s {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            let hex = String(s.value, radix: 16, uppercase: true)
            out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }
    return out
}
