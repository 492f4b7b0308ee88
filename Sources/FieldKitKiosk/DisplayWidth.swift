/// Terminal cell widths: CJK ideographs, full-width forms and Hangul take two cells,
/// combining marks none, everything else one. Locale-independent, so the layout is the same
/// whether or not zh_CN is installed.
public enum DisplayWidth {
    /// Cells one scalar takes.
    public static func of(_ s: Unicode.Scalar) -> Int {
        let v = s.value
        if v == 0 || (v < 32) || (0x7F..<0xA0).contains(v) { return 0 }
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        return wide.contains { $0.contains(v) } ? 2 : 1
    }

    /// East Asian wide and full-width ranges (Hangul Jamo, CJK, Kana, Hangul, compatibility
    /// ideographs, vertical and full-width forms, emoji, the supplementary ideograph planes).
    static let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
        0x20000...0x3FFFD,
    ]


    /// Cells a string takes.
    public static func of(_ s: String) -> Int { s.unicodeScalars.reduce(0) { $0 + of($1) } }

    /// The string cut to at most `width` cells (an ellipsis marks the cut).
    public static func truncate(_ s: String, to width: Int) -> String {
        guard of(s) > width else { return s }
        guard width > 0 else { return "" }
        var out = ""
        var used = 0
        for c in s.unicodeScalars {
            let w = of(c)
            if used + w > width - 1 { break }
            out.unicodeScalars.append(c)
            used += w
        }
        return out + "…"
    }

    /// The string broken into lines of at most `width` cells: at spaces (English words stay
    /// whole), or between any two wide characters (Chinese); only a word longer than a whole
    /// line is cut.
    public static func wrap(_ s: String, to width: Int) -> [String] {
        guard width > 0 else { return [] }
        // Tokens: a space, one wide character, or a run of narrow non-space characters.
        var tokens: [String] = []
        var word = false
        for c in s.unicodeScalars {
            if c == " " {
                tokens.append(" ")
                word = false
            } else if of(c) == 2 {
                tokens.append(String(c))
                word = false
            } else if word {
                tokens[tokens.count - 1].unicodeScalars.append(c)
            } else {
                tokens.append(String(c))
                word = true
            }
        }
        var lines: [String] = []
        var line = ""
        func close() {
            while line.hasSuffix(" ") { line.removeLast() }
            if !line.isEmpty { lines.append(line) }
            line = ""
        }
        for token in tokens {
            if token == " " {
                if !line.isEmpty { line += " " }
                continue
            }
            if of(line) + of(token) <= width {
                line += token
                continue
            }
            close()
            var rest = token
            while of(rest) > width {
                var head = ""
                for c in rest.unicodeScalars {
                    if of(head) + of(c) > width { break }
                    head.unicodeScalars.append(c)
                }
                lines.append(head)
                rest = String(rest.unicodeScalars.dropFirst(head.unicodeScalars.count))
            }
            line = rest
        }
        close()
        return lines
    }

    /// The string padded with spaces (or cut) to exactly `width` cells.
    public static func pad(_ s: String, to width: Int) -> String {
        let t = truncate(s, to: width)
        return t + String(repeating: " ", count: max(0, width - of(t)))
    }

    /// The string centred in `width` cells.
    public static func center(_ s: String, in width: Int) -> String {
        let t = truncate(s, to: width)
        let left = (width - of(t)) / 2
        return String(repeating: " ", count: max(0, left)) + t + String(repeating: " ", count: max(0, width - left - of(t)))
    }
}
