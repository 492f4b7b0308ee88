/// A language the user-facing text comes in. Simplified Chinese first.
public enum Language: String, Sendable, CaseIterable {
    /// 简体中文, the default.
    case zhHans = "zh-Hans"
    /// English, complete.
    case en

    /// The language from a `--lang` value or, failing that, the environment's `LANG`
    /// (`en_US.UTF-8` → English; anything else, or nothing, → Chinese).
    public static func resolve(flag: String?, lang: String?) -> Language {
        for value in [flag, lang].compactMap({ $0?.lowercased() }) where !value.isEmpty {
            if value.hasPrefix("en") { return .en }
            if value.hasPrefix("zh") { return .zhHans }
        }
        return .zhHans
    }
}

/// Looks up user-facing text in the translation tables (`Assets/i18n`, embedded at build time).
///
/// Templates name their values in braces: `"第{n}节 {window}"`. A missing key shows itself
/// (`[sheet.title]`) rather than crashing; a test keeps both tables complete.
public struct Localizer: Sendable {
    /// The language in use.
    public let language: Language

    /// A localizer for a language.
    public init(_ language: Language) { self.language = language }

    /// The text for a key with its values filled in.
    public func callAsFunction(_ key: String, _ values: [String: String] = [:]) -> String {
        guard let template = translationTable(language.rawValue)?[key] ?? translationTable(Language.zhHans.rawValue)?[key]
        else { return "[\(key)]" }
        // One pass, so a value that itself contains `{name}` (a typed reason) stays as typed.
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            out += values[name] ?? String(rest[open...close])
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// Every key of every table, by language (for tests).
    public static var tables: [String: [String: String]] { translationTables }
}
