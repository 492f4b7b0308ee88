/// A moment in time: milliseconds since 1970-01-01T00:00:00Z.
///
/// Kept as a plain integer (not `Date`) so that what is hashed, stored and signed is exactly
/// what is compared, with no floating point in between.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch, UTC.
    public var milliseconds: Int64

    /// Wraps a count of milliseconds since the Unix epoch.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// A timestamp on the whole second.
    public init(seconds: Int64) {
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        self.milliseconds = overflow ? (seconds < 0 ? .min : .max) : ms
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// This moment moved by a number of minutes.
    /// (Held at the ends of time rather than trapping: a time can come from a file or a wire.)
    public func adding(minutes: Int) -> Timestamp {
        let (delta, overflow) = Int64(minutes).multipliedReportingOverflow(by: 60_000)
        return Timestamp(milliseconds: milliseconds.addingClamped(overflow ? (minutes < 0 ? .min : .max) : delta))
    }

    /// Milliseconds on the local clock at the given UTC offset. A time within hours of the ends
    /// of Int64 (nonsense, but a device can send it) stops at the end instead of trapping.
    func local(_ utcOffset: Int) -> Int64 {
        let (offset, tooFar) = Int64(utcOffset).multipliedReportingOverflow(by: 1000)
        let (sum, overflow) = milliseconds.addingReportingOverflow(offset)
        guard !tooFar, !overflow else { return (tooFar ? utcOffset < 0 : offset < 0) ? .min : .max }
        return sum
    }

    /// The local calendar day at the given UTC offset.
    public func classDay(utcOffset: Int = UTCOffset.china) -> ClassDay {
        ClassDay(daysSinceUnixEpoch: Int(floorDiv(local(utcOffset), 86_400_000)))
    }

    /// Minutes since local midnight at the given UTC offset.
    public func minuteOfDay(utcOffset: Int = UTCOffset.china) -> Int {
        Int(floorMod(local(utcOffset), 86_400_000) / 60_000)
    }

    /// Local wall-clock time, `HH:MM`, at the given UTC offset.
    public func localClock(utcOffset: Int = UTCOffset.china) -> String {
        LocalTime(minuteOfDay: minuteOfDay(utcOffset: utcOffset)).description
    }

    /// Local date and time, `YYYY-MM-DD HH:MM:SS`, at the given UTC offset.
    public func localDescription(utcOffset: Int = UTCOffset.china) -> String {
        let secondOfDay = Int(floorMod(local(utcOffset), 86_400_000) / 1000)
        return "\(classDay(utcOffset: utcOffset)) " + pad2(secondOfDay / 3600) + ":" + pad2(secondOfDay / 60 % 60) + ":"
            + pad2(secondOfDay % 60)
    }

    /// RFC 3339 in UTC with milliseconds: `2026-03-02T00:30:00.000Z`.
    public var description: String {
        let day = classDay(utcOffset: 0)
        let msOfDay = Int(floorMod(milliseconds, 86_400_000))
        let s = msOfDay / 1000
        return "\(day)T" + pad2(s / 3600) + ":" + pad2(s / 60 % 60) + ":" + pad2(s % 60) + "."
            + String(msOfDay % 1000).leftPadded(to: 3) + "Z"
    }

    /// Parses RFC 3339 (`2026-03-02T08:30:00Z`, `2026-03-02T08:30:00.250+08:00`).
    public init?(rfc3339 text: String) {
        let u = Array(text.utf8)
        guard u.count >= 20, u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t"),
            u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
            let day = ClassDay(iso: String(decoding: u[0..<10], as: UTF8.self)),
            let hh = asciiInt(u[11..<13]), let mm = asciiInt(u[14..<16]), let ss = asciiInt(u[17..<19]),
            hh < 24, mm < 60, ss < 61
        else { return nil }
        var i = 19
        var millis = 0
        if u[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < u.count, let d = asciiInt(u[i..<(i + 1)]) {
                if digits < 3 { millis = millis * 10 + d }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard i < u.count else { return nil }
        var offset = 0
        switch u[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard i + 1 == u.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard u.count == i + 6, u[i + 3] == UInt8(ascii: ":"), let oh = asciiInt(u[(i + 1)..<(i + 3)]),
                let om = asciiInt(u[(i + 4)..<(i + 6)]), oh < 24, om < 60
            else { return nil }
            offset = (oh * 60 + om) * 60 * (u[i] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let seconds = Int64(day.daysSinceUnixEpoch) * 86_400 + Int64(hh * 3600 + mm * 60 + ss) - Int64(offset)
        self.milliseconds = seconds * 1000 + Int64(millis)
    }
}

// MARK: - Codable

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an RFC 3339 time like 2026-03-02T08:30:00Z")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// UTC offsets in seconds.
public enum UTCOffset {
    /// China Standard Time, UTC+8 all year.
    public static let china = 8 * 3600
}

/// Floor division for possibly negative numerators.
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// The remainder of ``floorDiv(_:_:)``, 0..<b for a positive b, for every a (`a - floorDiv(a, b) * b`
/// overflows near Int64.min).
func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
    let r = a % b
    return r != 0 && (r < 0) != (b < 0) ? r + b : r
}

func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

func asciiInt(_ bytes: ArraySlice<UInt8>) -> Int? {
    guard !bytes.isEmpty else { return nil }
    var n = 0
    for b in bytes {
        guard b >= 48, b <= 57 else { return nil }
        n = n * 10 + Int(b - 48)
    }
    return n
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
