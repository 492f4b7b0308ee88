import FieldKitCore
import FoundationEssentials
import Testing

@Suite("Output hygiene: hidden controls, terminal escapes, CSV cells")
struct SafeTextTests {
    /// Characters a terminal obeys: ESC, BEL, CR, LF, TAB, NUL, DEL, a C1 control, the line and
    /// paragraph separators, and each bidirectional control the brief names.
    static let hidden: [UInt32] = [
        0x1B, 0x07, 0x0D, 0x0A, 0x09, 0x00, 0x7F, 0x85, 0x9B, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
        0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C,
    ]

    @Test("each control or bidi character is hidden; Chinese, · and full-width forms are not", arguments: hidden)
    func hiddenControls(value: UInt32) throws {
        let c = try #require(Unicode.Scalar(value))
        #expect(c.isHiddenControl)
        #expect(firstHiddenControl(in: "张\(Character(c))三") == c)
        #expect(firstHiddenControl(in: terminalSafe("张\(Character(c))三")) == nil)
    }

    @Test("ordinary names pass untouched")
    func ordinaryNames() {
        for name in ["张三", "阿依古丽·买买提", "李, 四", "O'Brien", "=中文", "王\u{3000}五", "ＡＢＣ", "Zoë", "😀"] {
            #expect(firstHiddenControl(in: name) == nil, "\(name)")
            #expect(terminalSafe(name) == name)
        }
    }

    @Test("escapes are visible and JSON's own: ESC, BEL, CR, LF, U+202E")
    func escapes() throws {
        #expect(terminalSafe("a\u{1B}[2Jb\u{07}c\r\nd\u{202E}e") == "a\\u001B[2Jb\\u0007c\\r\\nd\\u202Ee")
        #expect(Unicode.Scalar(0x202E)?.codePoint == "U+202E" && Unicode.Scalar(0x1B)?.codePoint == "U+001B")
        // A JSON line with raw bidi, DEL and C1 characters stays JSON and decodes to the same text.
        let name = "\u{202E}gnp.exe\u{7F}\u{85}"
        let line = String(decoding: try JSONEncoder().encode(["name": name]), as: UTF8.self)
        let escaped = terminalSafe(line)
        #expect(firstHiddenControl(in: escaped) == nil)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(escaped.utf8)) == ["name": name])
    }

    @Test(
        "CSV text cells that a spreadsheet would compute get a leading '",
        arguments: [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+1+1", "'+1+1"), ("@SUM(A1)", "'@SUM(A1)"),
            ("-2+3", "'-2+3"), ("\t=1", "'\t=1"), ("\r=1", "\"'\r=1\""), ("=1,2", "\"'=1,2\""),
            ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""), ("张三", "张三"), ("a=b", "a=b"), ("", ""),
            ("李, 四", "\"李, 四\""),
        ])
    func formulaCells(raw: String, written: String) {
        #expect(csvField(raw) == written)
    }

    @Test("numbers stay numbers; anything else in a number column is a neutralised text cell")
    func numberCells() {
        #expect(csvNumber("1500.00") == "1500.00" && csvNumber("-3") == "-3" && csvNumber("0") == "0")
        #expect(csvNumber(Int64(-42)) == "-42" && csvNumber(UInt64.max) == "18446744073709551615")
        #expect(csvNumber("-1+1") == "'-1+1" && csvNumber("1e5") == "1e5" && csvNumber("-") == "'-" && csvNumber("1.") == "1.")
        #expect(csvRecord([csvNumber(7), csvField("=1"), csvNumber("-0.50")]) == "7,'=1,-0.50")
    }
}

@Suite("Roster names: control and bidi characters refused at issue time")
struct RosterHygieneTests {
    static let id1 = "11010519491231002X"
    static let id2 = "11010119900307123" + String(IDNumber.checkCharacter(for: "11010119900307123"))

    @Test(
        "a name holding ESC, BEL, a quoted newline, U+202E, DEL or a C1 control is refused naming the line and the code point",
        arguments: [
            ("张\u{1B}[31m三", "U+001B"), ("张三\u{07}", "U+0007"), ("\"张\n三\"", "U+000A"), ("\u{202E}三张", "U+202E"),
            ("张\u{7F}三", "U+007F"), ("张\u{85}三", "U+0085"), ("张\u{2066}三", "U+2066"), ("张\u{200F}三", "U+200F"),
        ])
    func refused(name: String, code: String) throws {
        let text = "王五,\(Self.id2)\n\(name),\(Self.id1)\n"
        do {
            _ = try Roster(bytes: Array(text.utf8))
            Issue.record("accepted \(name.unicodeScalars.map(\.codePoint))")
        } catch let RosterError.badRows(problems) {
            let p = try #require(problems.first)
            #expect(problems.count == 1 && p.line == 2)
            let en = RosterError.badRows(problems).text(Localizer(.en))
            let zh = RosterError.badRows(problems).text(Localizer(.zhHans))
            #expect(en.contains("line 2") && en.contains(code) && zh.contains("第 2 行") && zh.contains(code))
            // The raw character itself is never in the message.
            #expect(firstHiddenControl(in: en) == nil && firstHiddenControl(in: zh) == nil)
        }
    }

    @Test("a category with a control character is refused; minority names with · pass")
    func categoryAndMiddleDot() throws {
        let bad = "阿依古丽·买买提,\(Self.id1),农村\u{1B}转移劳动力\n"
        #expect(throws: RosterError.badRows([.hiddenCharacter(line: 1, field: .category, "\u{1B}")])) {
            try Roster(bytes: Array(bad.utf8))
        }
        let good = try Roster(bytes: Array("阿依古丽·买买提,\(Self.id1),农村转移劳动力\n".utf8))
        #expect(good.rows.first?.name == "阿依古丽·买买提")
    }
}
