import FieldKitCore

/// An amount in fen (分): whole numbers only, so no amount is ever off by a rounding.
public typealias Money = Int64

/// Yuan as written in the policy files (`150`, `0.5`) to fen. Policies are checked to at most
/// ``Policy/largestYuan`` when loaded; a value that still does not fit is 0, never a trap.
func fen(yuan: Double) -> Money { Money(exactly: (yuan * 100).rounded()) ?? 0 }

/// `1,500.00`-style yuan without separators: `1500.00`.
public func yuanString(_ fen: Money) -> String {
    let v = fen.magnitude
    let cents = v % 100
    return (fen < 0 ? "-" : "") + String(v / 100) + "." + (cents < 10 ? "0" : "") + String(cents)
}

/// A share as an exact fraction (employment rate 41/50, not 0.82), always in lowest terms.
///
/// Both numbers are bounded (at most ``Ratio/largest`` once reduced), so whatever was typed
/// is either a ratio or nil, never an overflow; comparisons multiply in 128 bits.
public struct Ratio: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// The numerator (≥ 0).
    public private(set) var numerator: Int64
    /// The denominator (> 0).
    public private(set) var denominator: Int64

    /// The largest numerator or denominator a ratio keeps after reduction: 10¹².
    public static let largest: Int64 = 1_000_000_000_000
    /// The most digits `Ratio(parsing:)` reads in one number (before or after the point).
    public static let mostDigits = 12

    /// A ratio in lowest terms; nil when the denominator is not positive, the share is
    /// negative, or a reduced term is larger than ``largest``.
    public init?(_ numerator: Int64, _ denominator: Int64) {
        guard denominator > 0, numerator >= 0 else { return nil }
        let g = Ratio.gcd(numerator, denominator)
        let n = numerator / g, d = denominator / g
        guard n <= Ratio.largest, d <= Ratio.largest else { return nil }
        self.numerator = n
        self.denominator = d
    }

    /// Parses `0.8`, `80%`, `41/50`: ASCII digits, at most ``mostDigits`` in each number, no
    /// sign; nil for anything else (a zero denominator, `1e9`, `9223372036854775807/…`).
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace()
        guard t.utf8.count <= 2 * Ratio.mostDigits + 2 else { return nil }
        if t.hasSuffix("%") {
            guard let r = Ratio(decimal: String(t.dropLast())) else { return nil }
            self.init(r.numerator, r.denominator * 100)
        } else if let slash = t.firstIndex(of: "/") {
            guard let n = Ratio.digits(t[..<slash]), let d = Ratio.digits(t[t.index(after: slash)...]) else { return nil }
            self.init(n, d)
        } else {
            guard let r = Ratio(decimal: t) else { return nil }
            self = r
        }
    }

    /// `0.825` as 33/40 (`.5` and `5` too); at most ``mostDigits`` digits before the point and 9 after.
    init?(decimal text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty || parts.count == 2 else { return nil }
        let whole = parts[0].isEmpty ? 0 : Ratio.digits(parts[0])
        let fraction = parts.count == 2 ? parts[1] : ""
        guard let whole, parts.count == 1 || !fraction.isEmpty, fraction.count <= 9 else { return nil }
        let part = fraction.isEmpty ? 0 : Ratio.digits(fraction)
        guard let part else { return nil }
        var scale: Int64 = 1
        for _ in 0..<fraction.count { scale *= 10 }
        // 12 digits before the point and 9 after can pass Int64: that is a refusal, not a trap.
        let (wide, o1) = whole.multipliedReportingOverflow(by: scale)
        let (n, o2) = wide.addingReportingOverflow(part)
        guard !o1, !o2 else { return nil }
        self.init(n, scale)
    }

    /// A run of 1 to ``mostDigits`` ASCII digits as a number.
    static func digits(_ s: Substring) -> Int64? {
        guard (1...Ratio.mostDigits).contains(s.utf8.count), s.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int64(s)
    }

    static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// At least `percent` percent (compared in 128 bits: any `percent` is safe).
    public func atLeast(percent: Int) -> Bool {
        numerator.multipliedFullWidth(by: 100) >= Int64(percent).multipliedFullWidth(by: denominator)
    }

    /// `value × self`, rounded down; nil when it does not fit (the amount of a share, fen of yuan).
    public func times(_ value: Int64) -> Int64? {
        let (p, overflow) = value.multipliedReportingOverflow(by: numerator)
        return overflow ? nil : p / denominator
    }

    /// Percent with one decimal, `82.5%`.
    public var description: String {
        // numerator ≤ 10^12, so ×1000 fits.
        let tenths = (numerator * 1000 + denominator / 2) / denominator
        return "\(tenths / 10)" + (tenths % 10 == 0 ? "" : ".\(tenths % 10)") + "%"
    }

    public static func < (a: Ratio, b: Ratio) -> Bool {
        a.numerator.multipliedFullWidth(by: b.denominator) < b.numerator.multipliedFullWidth(by: a.denominator)
    }

    public static func == (a: Ratio, b: Ratio) -> Bool { a.numerator == b.numerator && a.denominator == b.denominator }
}
