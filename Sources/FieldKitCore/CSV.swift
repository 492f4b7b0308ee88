/// A CSV text field as Excel and WPS read it, safe to open.
///
/// A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return would be taken for a
/// formula (`=cmd|' /C calc'!A0` runs a program, `@SUM(A1)` computes), so such a cell gets a
/// leading `'` and shows as the text it is (OWASP's advice for CSV injection). Then the usual
/// quoting: in quotes (quotes doubled) when it holds a comma, a quote or a line break.
///
/// Numbers that must stay numbers go through ``csvNumber(_:)-(String)`` instead.
public func csvField(_ s: String) -> String {
    csvQuoted(s.unicodeScalars.first.map(startsFormula) == true ? "'" + s : s)
}

/// A CSV number field: written as it is when it is a plain decimal number (`42`, `-3`,
/// `1500.00`), so a spreadsheet reads a number; anything else is a text field (``csvField(_:)``).
public func csvNumber(_ s: String) -> String {
    isPlainNumber(s) ? s : csvField(s)
}

/// A whole number as a CSV field (never neutralised: it is a number).
public func csvNumber(_ n: some BinaryInteger) -> String { String(n) }

/// One CSV record: the fields joined by commas (no line end).
public func csvRecord(_ fields: [String]) -> String { fields.joined(separator: ",") }

/// Characters that make a spreadsheet read a cell as a formula.
func startsFormula(_ c: Unicode.Scalar) -> Bool {
    c == "=" || c == "+" || c == "-" || c == "@" || c == "\t" || c == "\r"
}

/// `-?[0-9]+(\.[0-9]+)?`, ASCII digits only.
func isPlainNumber(_ s: String) -> Bool {
    var u = s.utf8[...]
    if u.first == UInt8(ascii: "-") { u = u.dropFirst() }
    let parts = u.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
    return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { (48...57).contains($0) } }
}

/// Quotes a field (quotes doubled) when it holds a comma, a quote or a line break.
func csvQuoted(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s
}
