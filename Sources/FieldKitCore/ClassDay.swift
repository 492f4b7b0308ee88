/// A local calendar date (UTC+8 in China), counted as days since 2020-01-01.
///
/// This is the unit of the voucher's validity window and of a class's dates: one class day is
/// one subsidised trainee-day.
public struct ClassDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 2020-01-01 (which is day 0). Negative before it.
    public var number: Int

    /// Days from 1970-01-01 to 2020-01-01.
    static let epochOffset = 18_262

    /// A day by its number since 2020-01-01.
    public init(number: Int) { self.number = number }

    init(daysSinceUnixEpoch: Int) { self.number = daysSinceUnixEpoch - ClassDay.epochOffset }

    var daysSinceUnixEpoch: Int { number + ClassDay.epochOffset }

    /// The date from its year, month and day; nil when it does not exist (2026-02-30).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= ClassDay.daysIn(month: month, year: year) else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        self.init(daysSinceUnixEpoch: era * 146_097 + doe - 719_468)
    }

    /// Parses `YYYY-MM-DD`.
    public init?(iso text: String) {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
            let y = asciiInt(u[0..<4]), let m = asciiInt(u[5..<7]), let d = asciiInt(u[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Year, month and day of this date.
    public var components: (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let z = daysSinceUnixEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (y, m, d) = components
        return String(y).leftPadded(to: 4) + "-" + pad2(m) + "-" + pad2(d)
    }

    /// The moment this day starts locally (00:00 at the given offset).
    public func start(utcOffset: Int = UTCOffset.china) -> Timestamp {
        Timestamp(seconds: Int64(daysSinceUnixEpoch) * 86_400 - Int64(utcOffset))
    }

    /// The moment of a local time on this day.
    public func at(_ time: LocalTime, utcOffset: Int = UTCOffset.china) -> Timestamp {
        start(utcOffset: utcOffset).adding(minutes: time.minuteOfDay)
    }

    /// The day `n` days later.
    public func adding(days n: Int) -> ClassDay { ClassDay(number: number + n) }

    /// The same date `n` years later (29 February becomes 28 February in a common year).
    public func adding(years n: Int) -> ClassDay {
        let (y, m, d) = components
        return ClassDay(year: y + n, month: m, day: min(d, ClassDay.daysIn(month: m, year: y + n))) ?? self
    }

    public static func < (lhs: ClassDay, rhs: ClassDay) -> Bool { lhs.number < rhs.number }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

// MARK: - Codable

extension ClassDay: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = ClassDay(iso: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a date like 2026-03-02")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A local wall-clock time of day, to the minute (`08:30`).
public struct LocalTime: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// Minutes since local midnight, 0..<1440.
    public var minuteOfDay: Int

    /// A time from minutes since midnight.
    public init(minuteOfDay: Int) { self.minuteOfDay = minuteOfDay }

    /// Parses `HH:MM` (24-hour).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m)
        else { return nil }
        self.minuteOfDay = h * 60 + m
    }

    /// `HH:MM`.
    public var description: String { pad2(minuteOfDay / 60) + ":" + pad2(minuteOfDay % 60) }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minuteOfDay < rhs.minuteOfDay }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = LocalTime(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a time like 08:30")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
