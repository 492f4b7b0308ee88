/// A roster (花名册) file as the county receives it: CSV `name,id_number[,category]`.
///
/// UTF-8 with or without a byte-order mark; an optional header row; quoted fields as in
/// RFC 4180. Every bad row is reported with its line number and nothing is issued until all
/// rows are good.
public struct Roster: Sendable {
    /// One trainee.
    public struct Row: Sendable {
        /// Line number in the file (1-based).
        public var line: Int
        /// Name as written.
        public var name: String
        /// The checked ID number.
        public var idNumber: IDNumber
        /// Target group, if given.
        public var category: String?
    }

    /// The trainees, in file order.
    public var rows: [Row]

    /// Parses and checks a roster.
    /// - Throws: ``RosterError`` listing every bad line.
    public init(bytes: [UInt8]) throws {
        var data = bytes[...]
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        guard let text = String(validating: data, as: UTF8.self) else { throw RosterError.notUTF8 }
        var problems: [String] = []
        var rows: [Row] = []
        var seen: [String: Int] = [:]
        for (line, fields) in Roster.parseCSV(text) {
            let cells = fields.map { $0.trimmingWhitespace() }
            if cells.allSatisfy(\.isEmpty) { continue }
            if rows.isEmpty, problems.isEmpty, Roster.isHeader(cells) { continue }
            guard (2...3).contains(cells.count) else {
                problems.append("line \(line): expected name,id_number[,category], found \(cells.count) fields")
                continue
            }
            guard !cells[0].isEmpty else {
                problems.append("line \(line): the name is empty")
                continue
            }
            do {
                let id = try IDNumber(cells[1])
                if let first = seen[id.value] {
                    problems.append("line \(line): the same ID number as line \(first)")
                    continue
                }
                seen[id.value] = line
                let category = cells.count == 3 && !cells[2].isEmpty ? cells[2] : nil
                rows.append(Row(line: line, name: cells[0], idNumber: id, category: category))
            } catch {
                problems.append("line \(line) (\(cells[0])): \(error)")
            }
        }
        guard problems.isEmpty else { throw RosterError.badRows(problems) }
        guard !rows.isEmpty else { throw RosterError.empty }
        self.rows = rows
    }

    static func isHeader(_ cells: [String]) -> Bool {
        guard cells.count >= 2 else { return false }
        let second = cells[1].lowercased()
        return ["id_number", "id", "idnumber", "身份证号", "身份证号码", "证件号码"].contains(second)
            || cells[0].lowercased() == "name" || cells[0] == "姓名"
    }

    /// Splits CSV text into records with the line number each starts on.
    static func parseCSV(_ text: String) -> [(Int, [String])] {
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
}

/// Why a roster was refused. Nothing is issued from a refused roster.
public enum RosterError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not UTF-8 (often a GBK export from Excel).
    case notUTF8
    /// No trainee rows.
    case empty
    /// Rows that failed, each with its line number.
    case badRows([String])

    public var description: String {
        switch self {
        case .notUTF8: "the roster is not UTF-8 text; in Excel or WPS save it as \"CSV UTF-8\" and try again"
        case .empty: "the roster has no trainees; it needs lines of name,id_number[,category]"
        case .badRows(let p):
            "the roster has \(p.count) bad row\(p.count == 1 ? "" : "s"), nothing was issued; fix and retry: "
                + p.joined(separator: "; ")
        }
    }
}
