import FieldKitCore

/// An amount in fen (分): whole numbers only, so no amount is ever off by a rounding.
public typealias Money = Int64

/// Yuan as written in the policy files (`150`, `0.5`) to fen.
func fen(yuan: Double) -> Money { Money((yuan * 100).rounded()) }

/// `1,500.00`-style yuan without separators: `1500.00`.
public func yuanString(_ fen: Money) -> String {
    let v = fen.magnitude
    let cents = v % 100
    return (fen < 0 ? "-" : "") + String(v / 100) + "." + (cents < 10 ? "0" : "") + String(cents)
}

/// A share as an exact fraction (employment rate 41/50, not 0.82).
public struct Ratio: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// The numerator.
    public var numerator: Int64
    /// The denominator (> 0).
    public var denominator: Int64

    /// A ratio; nil when the denominator is not positive or the share is negative.
    public init?(_ numerator: Int64, _ denominator: Int64) {
        guard denominator > 0, numerator >= 0 else { return nil }
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Parses `0.8`, `80%`, `41/50`.
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace()
        if t.hasSuffix("%") {
            guard let r = Ratio(decimal: String(t.dropLast())) else { return nil }
            self.init(r.numerator, r.denominator * 100)
        } else if let slash = t.firstIndex(of: "/") {
            guard let n = Int64(t[..<slash]), let d = Int64(t[t.index(after: slash)...]) else { return nil }
            self.init(n, d)
        } else {
            guard let r = Ratio(decimal: t) else { return nil }
            self = r
        }
    }

    /// `0.825` as 825/1000.
    init?(decimal text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            !parts[0].isEmpty || parts.count == 2, parts.count == 1 || !parts[1].isEmpty, (parts.count == 1 ? 0 : parts[1].count) <= 9
        else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        var d: Int64 = 1
        for _ in fraction { d *= 10 }
        guard let n = Int64(String(parts[0]) + fraction) ?? (parts[0].isEmpty ? Int64(fraction) : nil) else { return nil }
        self.init(n, d)
    }

    /// At least `percent` percent.
    public func atLeast(percent: Int) -> Bool { numerator * 100 >= Int64(percent) * denominator }

    /// Percent with one decimal, `82.5%`.
    public var description: String {
        let tenths = (numerator * 1000 + denominator / 2) / denominator
        return "\(tenths / 10)" + (tenths % 10 == 0 ? "" : ".\(tenths % 10)") + "%"
    }

    public static func < (a: Ratio, b: Ratio) -> Bool { a.numerator * b.denominator < b.numerator * a.denominator }
    public static func == (a: Ratio, b: Ratio) -> Bool { a.numerator * b.denominator == b.numerator * a.denominator }
}
