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

/// Splits CSV text into records with the line number each starts on: quoted fields may hold
/// commas, doubled quotes and line breaks (what Excel and WPS write).
public func csvRecords(_ text: String) -> [(Int, [String])] {
    var records: [(Int, [String])] = []
    var fields: [String] = []
    var field = ""
    var inQuotes = false
    var line = 1
    var recordLine = 1
    var iterator = text.unicodeScalars.makeIterator()
    var pending: Unicode.Scalar? = nil
    func next() -> Unicode.Scalar? {
        if let p = pending {
            pending = nil
            return p
        }
        return iterator.next()
    }
    while let c = next() {
        if inQuotes {
            if c == "\"" {
                if let n = next() {
                    if n == "\"" { field.unicodeScalars.append("\"") } else {
                        inQuotes = false
                        pending = n
                    }
                } else {
                    inQuotes = false
                }
            } else {
                if c == "\n" { line += 1 }
                field.unicodeScalars.append(c)
            }
            continue
        }
        switch c {
        case "\"" where field.isEmpty: inQuotes = true
        case ",":
            fields.append(field)
            field = ""
        case "\r": continue
        case "\n":
            fields.append(field)
            records.append((recordLine, fields))
            fields = []
            field = ""
            line += 1
            recordLine = line
        default: field.unicodeScalars.append(c)
        }
    }
    if !field.isEmpty || !fields.isEmpty {
        fields.append(field)
        records.append((recordLine, fields))
    }
    return records
}
