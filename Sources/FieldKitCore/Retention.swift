/// How long the evidence is kept (DOMAIN.md §3: the full classroom video and every training
/// record for at least 2 years), worked out in local days.
///
/// - Records (the log, rosters, sheets, bags) are kept until the class's last day + 2 years and
///   are never deleted by fieldkit.
/// - A recording is kept until the last day of the latest class whose days it overlaps + 2 years;
///   a recording that overlaps no class, until its own last day + 2 years.
/// - It may be purged only from the day after that date, and never while a hold stands.
public enum Retention {
    /// Years after the class ends.
    public static let years = 2

    /// The last day a class's records must be kept (Feb 29 + 2 years is Feb 28).
    public static func recordsKeepUntil(classEnd: ClassDay) -> ClassDay { classEnd.adding(years: years) }

    /// The classes (by their first and last day) whose days a recording overlaps.
    public static func overlapping(_ span: TimeSpan, periods: [ClassPeriod], utcOffset: Int) -> [ClassPeriod] {
        periods.filter {
            span.start < $0.end.adding(days: 1).start(utcOffset: utcOffset).milliseconds
                && span.end > $0.start.start(utcOffset: utcOffset).milliseconds
        }
    }

    /// The last day a recording must be kept.
    public static func videoKeepUntil(_ span: TimeSpan, periods: [ClassPeriod], utcOffset: Int) -> ClassDay {
        let classEnd = overlapping(span, periods: periods, utcOffset: utcOffset).map(\.end).max()
        // The recording's own last day: the instant before its end.
        let ownDay = Timestamp(milliseconds: max(span.start, span.end - 1)).classDay(utcOffset: utcOffset)
        return (classEnd.map { max($0, ownDay) } ?? ownDay).adding(years: years)
    }

    /// Whether something kept until `keepUntil` may go on `today`: only once that day is over.
    public static func mayPurge(keepUntil: ClassDay, today: ClassDay) -> Bool { today > keepUntil }
}

/// A class's first and last day, as the site has known it (kept after the class leaves the
/// trust bundle, so its recordings keep their date).
public struct ClassPeriod: Sendable, Equatable {
    /// The class.
    public var classID: UInt32
    /// Its first day.
    public var start: ClassDay
    /// Its last day.
    public var end: ClassDay

    /// A period.
    public init(classID: UInt32, start: ClassDay, end: ClassDay) {
        self.classID = classID
        self.start = start
        self.end = end
    }
}
