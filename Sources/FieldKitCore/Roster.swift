/// A roster (花名册) file as the county receives it: CSV `name,id_number[,category]`.
///
/// UTF-8 with or without a byte-order mark; an optional header row; quoted fields as in
/// RFC 4180. Every bad row is reported with its line number and nothing is issued until all
/// rows are good. A name or category holding a character a terminal would obey (a control or
/// bidirectional character, see ``Unicode/Scalar/isHiddenControl``) is a bad row: names go
/// onto voucher cards, sheets and every screen.
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
        var problems: [RosterProblem] = []
        var rows: [Row] = []
        var seen: [String: Int] = [:]
        for (line, fields) in csvRecords(text) {
            let cells = fields.map { $0.trimmingWhitespace() }
            if cells.allSatisfy(\.isEmpty) { continue }
            if rows.isEmpty, problems.isEmpty, Roster.isHeader(cells) { continue }
            guard (2...3).contains(cells.count) else {
                problems.append(.fieldCount(line: line, found: cells.count))
                continue
            }
            guard !cells[0].isEmpty else {
                problems.append(.emptyName(line: line))
                continue
            }
            if let c = firstHiddenControl(in: cells[0]) {
                problems.append(.hiddenCharacter(line: line, field: .name, c))
                continue
            }
            if cells.count == 3, let c = firstHiddenControl(in: cells[2]) {
                problems.append(.hiddenCharacter(line: line, field: .category, c))
                continue
            }
            do {
                let id = try IDNumber(cells[1])
                if let first = seen[id.value] {
                    problems.append(.sameID(line: line, first: first))
                    continue
                }
                seen[id.value] = line
                let category = cells.count == 3 && !cells[2].isEmpty ? cells[2] : nil
                rows.append(Row(line: line, name: cells[0], idNumber: id, category: category))
            } catch {
                problems.append(.badID(line: line, name: cells[0], error as? IDNumberError ?? .badCharacters))
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
}

/// One bad roster row, by line number (the ID number itself is never repeated).
public enum RosterProblem: Sendable, Equatable, LocalizedFailure {
    /// Not 2 or 3 fields.
    case fieldCount(line: Int, found: Int)
    /// No name.
    case emptyName(line: Int)
    /// The same ID number as an earlier line.
    case sameID(line: Int, first: Int)
    /// A bad ID number.
    case badID(line: Int, name: String, IDNumberError)
    /// A control or bidirectional character in the name or category (named by code point,
    /// never printed).
    case hiddenCharacter(line: Int, field: RosterField, Unicode.Scalar)

    /// The line number.
    public var line: Int {
        switch self {
        case .fieldCount(let l, _), .emptyName(let l), .sameID(let l, _), .badID(let l, _, _), .hiddenCharacter(let l, _, _): l
        }
    }

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .fieldCount(let l, let n): ("error.roster.fields", ["line": String(l), "n": String(n)])
        case .emptyName(let l): ("error.roster.name", ["line": String(l)])
        case .sameID(let l, let f): ("error.roster.same_id", ["line": String(l), "first": String(f)])
        case .badID(let l, let name, let e): ("error.roster.bad_id", ["line": String(l), "name": name, "error": e.description])
        case .hiddenCharacter(let l, let field, let c):
            ("error.roster.hidden_character.\(field.rawValue)", ["line": String(l), "char": c.codePoint])
        }
    }

    /// The words in a language (the ID problem in that language too).
    public func text(_ t: Localizer) -> String {
        var (key, values) = words
        if case .badID(_, _, let e) = self { values["error"] = e.text(t) }
        return t(key, values)
    }
}

/// A field of a roster row.
public enum RosterField: String, Sendable, Equatable {
    /// The trainee's name.
    case name
    /// The target group.
    case category
}

/// Why a roster was refused. Nothing is issued from a refused roster.
public enum RosterError: Error, Equatable, LocalizedFailure {
    /// The bytes are not UTF-8 (often a GBK export from Excel).
    case notUTF8
    /// No trainee rows.
    case empty
    /// Rows that failed, each with its line number.
    case badRows([RosterProblem])

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .notUTF8: ("error.roster.utf8", [:])
        case .empty: ("error.roster.empty", [:])
        case .badRows(let p):
            ("error.roster.bad_rows", ["n": String(p.count), "rows": p.map(\.description).joined(separator: "; ")])
        }
    }

    /// The words in a language, every row's problem included.
    public func text(_ t: Localizer) -> String {
        guard case .badRows(let p) = self else { return t(words.key, words.values) }
        return t("error.roster.bad_rows", ["n": String(p.count), "rows": p.map { $0.text(t) }.joined(separator: "; ")])
    }
}
