/// An error whose words come from the translation tables (`Assets/i18n/errors.*.json`).
///
/// `description` is the English text (for logs and tests); screens call ``text(_:)`` with the
/// user's language. Each message names the offending value and the next step.
public protocol LocalizedFailure: Error, CustomStringConvertible {
    /// The table key and the values its text names.
    var words: (key: String, values: [String: String]) { get }
    /// The words in a language.
    func text(_ t: Localizer) -> String
}

extension LocalizedFailure {
    /// The English words.
    public var description: String { text(Localizer(.en)) }

    /// The words in a language.
    public func text(_ t: Localizer) -> String { t(words.key, words.values) }
}
