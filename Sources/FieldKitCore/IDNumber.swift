import Crypto
import FoundationEssentials

/// An 18-character PRC resident identity number (居民身份证号码), checked but never stored whole
/// at the site.
///
/// Only the county handles it, and only long enough to derive the trainee's pseudonymous
/// reference and a masked form for rosters and screens.
public struct IDNumber: Sendable {
    /// The number, upper-cased, 17 digits and a check character (digit or X).
    public let value: String

    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters = Array("10X98765432")

    /// Checks length, characters, the birth date and the ISO 7064 MOD 11-2 check character.
    /// - Throws: ``IDNumberError`` naming what is wrong (without echoing the number).
    public init(_ text: String) throws {
        let trimmed = text.trimmingWhitespace().uppercased()
        let chars = Array(trimmed)
        guard chars.count == 18 else { throw IDNumberError.wrongLength(chars.count) }
        guard chars[0..<17].allSatisfy({ $0.isASCII && $0.isNumber }),
            chars[17].isASCII && (chars[17].isNumber || chars[17] == "X")
        else { throw IDNumberError.badCharacters }
        let digits = chars[0..<17].map { Int(String($0))! }
        let sum = zip(digits, IDNumber.weights).reduce(0) { $0 + $1.0 * $1.1 }
        guard IDNumber.checkCharacters[sum % 11] == chars[17] else { throw IDNumberError.badCheckCharacter }
        let y = Int(String(chars[6..<10]))!
        let m = Int(String(chars[10..<12]))!
        let d = Int(String(chars[12..<14]))!
        guard y >= 1900, ClassDay(year: y, month: m, day: d) != nil else { throw IDNumberError.badBirthDate }
        self.value = trimmed
    }

    /// The check character that completes 17 digits (for making test data).
    public static func checkCharacter(for first17: String) -> Character {
        let sum = zip(first17.map { Int(String($0)) ?? 0 }, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return checkCharacters[sum % 11]
    }

    /// The number masked for screens and rosters: `1401**********1234`.
    public var masked: String { String(value.prefix(4)) + String(repeating: "*", count: 10) + String(value.suffix(4)) }

    /// The trainee's pseudonymous reference: the first 8 bytes of HMAC-SHA-256 of the
    /// upper-cased number under the county's pseudonym secret, as a big-endian integer.
    public func traineeRef(secret: SymmetricKey) -> UInt64 {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(value.utf8), using: secret)
        return Array(mac).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Why an ID number was refused. The messages never repeat the number itself.
public enum IDNumberError: Error, Equatable, LocalizedFailure {
    /// Not 18 characters.
    case wrongLength(Int)
    /// Something other than 17 digits and a final digit or X.
    case badCharacters
    /// The MOD 11-2 check character does not match: usually a typing mistake.
    case badCheckCharacter
    /// Characters 7-14 are not a real birth date.
    case badBirthDate

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .wrongLength(let n): ("error.id.length", ["n": String(n)])
        case .badCharacters: ("error.id.characters", [:])
        case .badCheckCharacter: ("error.id.check", [:])
        case .badBirthDate: ("error.id.birth", [:])
        }
    }
}

extension String {
    /// The text without leading and trailing Unicode whitespace.
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
