import FieldKitCore

/// Who found work after the class, from a CSV of `voucher_id,employed` (是/否, yes/no, 1/0),
/// and the class's employment rate from it.
///
/// The rate is employed over *every* trainee of the class, so the file must list each one: a
/// trainee left out would otherwise leave the denominator and raise the rate (3 of 4 is 75%, 3
/// of 3 is 100%). A voucher the county revoked may be listed (it then counts) or left out.
public enum EmploymentFile {
    /// The rate, from the file's bytes.
    /// - Parameters:
    ///   - required: the vouchers that must be listed (the class's, not revoked).
    ///   - allowed: the vouchers that may be listed (the class's).
    ///   - aliases: a replaced voucher → the voucher that replaced it (a reissue): a row with the
    ///     old number counts for the trainee's current voucher.
    /// - Throws: ``EmploymentFileError``, naming the line and the value.
    public static func rate(bytes: [UInt8], file: String, required: Set<UInt64>, allowed: Set<UInt64>, aliases: [UInt64: UInt64] = [:]
    ) throws -> Ratio {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var employed: [UInt64: (value: Bool, line: Int)] = [:]
        for (n, (line, raw)) in csvRecords(text).enumerated() {
            let cells = raw.map { $0.trimmingWhitespace() }
            if cells.allSatisfy(\.isEmpty) { continue }
            if n == 0, UInt64(cells[0]) == nil { continue }  // a header
            guard cells.count >= 2, let listed = UInt64(cells[0]) else {
                throw EmploymentFileError(file: file, reason: .form, line: line, value: String(raw.joined(separator: ",").prefix(40)))
            }
            let id = aliases[listed] ?? listed
            guard allowed.contains(id) else { throw EmploymentFileError(file: file, reason: .notInClass, line: line, value: cells[0]) }
            let value: Bool
            switch cells[1].lowercased() {
            case "是", "yes", "y", "1", "true", "已就业": value = true
            case "否", "no", "n", "0", "false", "未就业": value = false
            default: throw EmploymentFileError(file: file, reason: .employed, line: line, value: String(cells[1].prefix(40)))
            }
            if let earlier = employed[id], earlier.value != value {
                throw EmploymentFileError(file: file, reason: .conflict, line: line, value: String(id), other: String(earlier.line))
            }
            employed[id] = (value, employed[id]?.line ?? line)
        }
        guard !employed.isEmpty else { throw EmploymentFileError(file: file, reason: .empty, line: 0, value: "") }
        let missing = required.subtracting(employed.keys).sorted()
        guard missing.isEmpty else {
            let listed = missing.prefix(20).map(String.init).joined(separator: ", ") + (missing.count > 20 ? " …" : "")
            throw EmploymentFileError(file: file, reason: .missing, line: 0, value: listed, other: String(missing.count))
        }
        let yes = Int64(employed.values.filter(\.value).count)
        guard let rate = Ratio(yes, Int64(employed.count)) else { throw EmploymentFileError(file: file, reason: .empty, line: 0, value: "") }
        return rate
    }
}

/// An employment file that cannot be used: the line, the value and why.
public struct EmploymentFileError: Error, Equatable, LocalizedFailure {
    /// Why.
    public enum Reason: String, Sendable {
        /// Not `voucher_id,employed`.
        case form
        /// A voucher of another class.
        case notInClass = "class"
        /// Neither yes nor no.
        case employed
        /// The same voucher twice with different answers.
        case conflict
        /// Trainees of the class not listed.
        case missing
        /// Nothing in it.
        case empty
    }

    /// The file.
    public var file: String
    /// Why.
    public var reason: Reason
    /// The line (1-based; 0 for the whole file).
    public var line: Int
    /// The value.
    public var value: String
    /// The other line of a conflict, or how many are missing.
    public var other: String = ""

    public var words: (key: String, values: [String: String]) {
        ("error.claims.employment.\(reason.rawValue)", ["file": file, "line": String(line), "value": value, "other": other])
    }
}
