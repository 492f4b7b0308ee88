import Foundation
import Testing

/// Swift source split into its code and its string literals, comments dropped: enough of a
/// lexer to tell `station.db.query(…)` from the words "fieldkit.db" in a message.
struct SwiftSourceParts {
    /// The code, every string literal emptied and every comment removed.
    var code = ""
    /// The string literals' contents, one per line.
    var strings: [String] = []

    init(_ text: String) {
        let s = Array(text.unicodeScalars)
        var i = 0
        func at(_ k: Int, _ lit: String) -> Bool {
            let l = Array(lit.unicodeScalars)
            return k + l.count <= s.count && Array(s[k..<k + l.count]) == l
        }
        while i < s.count {
            if at(i, "//") {
                while i < s.count && s[i] != "\n" { i += 1 }
            } else if at(i, "/*") {
                var depth = 0
                repeat {
                    if at(i, "/*") { depth += 1; i += 2 } else if at(i, "*/") { depth -= 1; i += 2 } else { i += 1 }
                } while depth > 0 && i < s.count
            } else if s[i] == "#" || s[i] == "\"" {
                // A string literal: any number of #, then """ or ".
                var hashes = 0
                var k = i
                while k < s.count && s[k] == "#" { hashes += 1; k += 1 }
                guard k < s.count, s[k] == "\"" else {
                    code.unicodeScalars.append(s[i])
                    i += 1
                    continue
                }
                let multi = at(k, "\"\"\"")
                let close = (multi ? "\"\"\"" : "\"") + String(repeating: "#", count: hashes)
                k += multi ? 3 : 1
                var content = ""
                while k < s.count && !at(k, close) {
                    if s[k] == "\\" && hashes == 0 && k + 1 < s.count {
                        content.unicodeScalars.append(s[k])
                        content.unicodeScalars.append(s[k + 1])
                        k += 2
                        continue
                    }
                    if !multi && s[k] == "\n" { break }
                    content.unicodeScalars.append(s[k])
                    k += 1
                }
                strings.append(content)
                code += "\"\""
                i = min(s.count, k + close.unicodeScalars.count)
            } else {
                code.unicodeScalars.append(s[i])
                i += 1
            }
        }
    }

    /// What a file outside the store targets must not hold: SQL text, the SQLite wrapper's
    /// types, or a store's database handle.
    var storageFindings: [String] {
        var out: [String] = []
        let sql = try! Regex(
            #"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA\s+\w+|CREATE\s+(TABLE|INDEX|TRIGGER|VIEW)|BEGIN\s+(IMMEDIATE|EXCLUSIVE|TRANSACTION)|VACUUM)\b"#
        ).dotMatchesNewlines().wordBoundaryKind(.simple)
        for text in strings where text.contains(sql) { out.append("SQL: \(text.prefix(80))") }
        // Simple word boundaries: Unicode's would read `station.db.first` as one word.
        let code = try! Regex(#"\b(Database|SQLValue|Statement|SQLiteError)\b|\.db\b"#).wordBoundaryKind(.simple)
        for line in self.code.split(separator: "\n") where line.contains(code) {
            out.append("code: \(line.trimmingCharacters(in: .whitespaces).prefix(100))")
        }
        return out
    }
}

@Suite("Storage hygiene: SQL and database handles only in the store targets")
struct StorageHygieneTests {
    /// The targets that may run SQL: the wrapper, the site's store, the county's.
    static let storeTargets: Set<String> = ["FieldKitSQLite", "FieldKitStore", "CountyKit"]
    /// Files elsewhere that may, each with its reason.
    static let allowed: [String: String] = [
        // The bench's bulk fill writes months of valid log into a fresh site file without fsync,
        // through the wrapper, before the real `Station.scan` is timed on the durable store.
        "fieldkit-bench/Scenario.swift": "bulk-fills benchmark data"
    ]

    static var sources: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Sources"
    }

    @Test("no SQL, no Database, no `.db` in Sources outside FieldKitSQLite, FieldKitStore and CountyKit")
    func sqlOnlyInStores() throws {
        let root = Self.sources
        let files = try #require(FileManager.default.subpaths(atPath: root)).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 100, "the scan sees the sources (\(root))")
        var findings: [String] = []
        for file in files.sorted() {
            let target = String(file.split(separator: "/")[0])
            guard !Self.storeTargets.contains(target), Self.allowed[file] == nil else { continue }
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            findings += SwiftSourceParts(text).storageFindings.map { "\(file): \($0)" }
        }
        #expect(findings.isEmpty, "SQL belongs in a store target; give Station or CountyOffice a method:\n\(findings.joined(separator: "\n"))")
    }

    @Test("the scan finds SQL and handles in code, not the words in messages and comments")
    func scannerSeesWhatItMust() {
        let bad = SwiftSourceParts(#"""
            let n = try station.db.first("SELECT count(*) FROM events") { $0.int64(0) }
            try office.db.run(
                """
                UPDATE devices SET head_seq = ? WHERE id = ?
                """, [])
            let d = try Database(path: p)
            """#)
        #expect(bad.storageFindings.count == 5, "\(bad.storageFindings)")
        let fine = SwiftSourceParts(#"""
            // station.db.query("SELECT 1 FROM x") in a comment, and the Database word
            /* office.db */
            let message = "restore fieldkit.db from the backup; select a file from the list"
            let path = home + "/" + Station.Layout.database
            let statement = RestoreStatement(note: e.note)
            """#)
        #expect(fine.storageFindings.isEmpty, "\(fine.storageFindings)")
    }
}
