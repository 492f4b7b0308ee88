import FoundationEssentials
import Testing

@testable import FieldKitCore

@Suite("Translations")
struct TranslationTests {
    @Test("every language has every key, with the same {placeholders}")
    func complete() {
        let zh = Localizer.tables["zh-Hans"] ?? [:]
        let en = Localizer.tables["en"] ?? [:]
        #expect(!zh.isEmpty && Set(zh.keys) == Set(en.keys))
        func placeholders(_ s: String) -> Set<String> {
            Set(s.split(separator: "{", omittingEmptySubsequences: false).dropFirst().compactMap { $0.split(separator: "}").first.map(String.init) })
        }
        for (k, v) in zh { #expect(placeholders(v) == placeholders(en[k] ?? ""), "\(k)") }
    }

    @Test("every refusal reason has its words on the screen, in the kiosk's short list and on the day sheet")
    func everyReasonWorded() {
        for lang in Language.allCases {
            let table = Localizer.tables[lang.rawValue] ?? [:]
            for reason in ScanReason.allCases {
                for key in ["reason.", "reason_short.", "sheet.reason."] {
                    #expect(table[key + reason.rawValue] != nil, "\(lang) \(key)\(reason.rawValue)")
                }
            }
        }
    }

    @Test("the embedded tables match Assets/i18n (run Scripts/gen-translations after editing)")
    func generatedIsCurrent() throws {
        let folder = packageRoot + "/Assets/i18n"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
        for lang in Language.allCases {
            var merged: [String: String] = [:]
            for file in files where file.hasSuffix(".\(lang.rawValue).json") {
                let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))
                merged.merge(try JSONDecoder().decode([String: String].self, from: data)) { a, _ in a }
            }
            #expect(!merged.isEmpty && merged == Localizer.tables[lang.rawValue], "\(lang)")
        }
    }

    @Test("language from --lang, then LANG; Chinese by default", arguments: [
        (String?.none, String?.none, Language.zhHans), (nil, "en_US.UTF-8", .en), ("zh", "en_US.UTF-8", .zhHans),
        ("en", nil, .en), (nil, "C.UTF-8", .zhHans), (nil, "zh_CN.UTF-8", .zhHans),
    ])
    func resolve(flag: String?, lang: String?, expected: Language) {
        #expect(Language.resolve(flag: flag, lang: lang) == expected)
    }

    @Test("values fill templates; a missing key shows itself")
    func lookup() {
        #expect(Localizer(.zhHans)("sheet.session", ["n": "1", "window": "08:30-11:30"]) == "第1节 08:30-11:30")
        #expect(Localizer(.en)("no.such.key") == "[no.such.key]")
        #expect(Localizer(.en)("reason.revoked", ["date": "{why}", "why": "x"]).contains("revoked on {why} (reason: x)"))
    }
}
