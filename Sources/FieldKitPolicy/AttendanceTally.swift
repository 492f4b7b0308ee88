import FieldKitCore

/// A mark on attendance that holds minutes back for review: the site's event flags, plus what
/// only the county or the evidence knows (outside the agreed location, a video gap).
public enum AttendanceFlag: String, Sendable, Hashable, Codable, CaseIterable {
    /// Entered by hand.
    case manual
    /// Signed in, never out.
    case open
    /// Recorded while the PC's clock was behind.
    case clock
    /// Signed in after the late threshold (the minutes are clipped anyway; listed, not held).
    case late
    /// A test voucher.
    case test
    /// Not on the site's roster when scanned.
    case unlisted
    /// Recorded outside the training location in the agreement.
    case location
    /// No classroom recording covers the time.
    case videoGap = "video_gap"
    /// The same person was signed in to another class at the same time.
    case overlap
    /// Recorded while the site's trust bundle had expired (in the grace period): a revocation
    /// made since may not have reached the site.
    case staleTrust = "stale_trust"

    /// Whether minutes with this flag are held back (counted apart) rather than counted.
    public var holdsBack: Bool { self != .late }

    /// The flags of a comma-separated list (`late,manual`); unknown words are ignored.
    public static func parse(list: String) -> Set<AttendanceFlag> {
        Set(list.split(separator: ",").compactMap { AttendanceFlag(rawValue: String($0).trimmingWhitespace()) })
    }
}

/// One sign-in (and perhaps sign-out) of a trainee in one session.
public struct AttendanceRecord: Sendable, Equatable {
    /// The class day.
    public var day: ClassDay
    /// The session's index in the class's windows.
    public var sessionIndex: Int
    /// Sign-in, UTC ms.
    public var signedIn: Int64
    /// Sign-out, UTC ms; nil when none.
    public var signedOut: Int64?
    /// Its marks.
    public var flags: Set<AttendanceFlag>

    /// A record.
    public init(day: ClassDay, sessionIndex: Int, signedIn: Int64, signedOut: Int64?, flags: Set<AttendanceFlag> = []) {
        self.day = day
        self.sessionIndex = sessionIndex
        self.signedIn = signedIn
        self.signedOut = signedOut
        self.flags = flags
    }
}

/// How attendance becomes days and class hours (policy settings).
public struct AttendanceSettings: Sendable, Equatable, Codable {
    /// Minutes of one class hour (学时); default 45.
    public var classHourMinutes: Int
    /// The share of a day's scheduled minutes that makes the day count, in percent; default 80.
    public var dayPercent: Int

    /// Settings.
    public init(classHourMinutes: Int = 45, dayPercent: Int = 80) {
        self.classHourMinutes = classHourMinutes
        self.dayPercent = dayPercent
    }

    enum CodingKeys: String, CodingKey {
        case classHourMinutes = "class_hour_minutes"
        case dayPercent = "day_percent"
    }
}

/// A trainee's attendance in one class, worked out session by session.
///
/// Minutes are the overlap of sign-in to sign-out with the session's window (early arrivals and
/// late departures are clipped). A session with a flag that holds minutes back (manual, open,
/// clock, …) counts in ``flagged``, never silently in ``clean``. A day counts when its minutes
/// reach the policy's share of the day's scheduled minutes; class hours are whole hours of the
/// minutes.
public struct AttendanceTally: Sendable, Equatable {
    /// Minutes, days and class hours.
    public struct Totals: Sendable, Equatable, Encodable {
        /// Attended minutes.
        public var minutes: Int
        /// Days that count.
        public var days: Int
        /// Class hours.
        public var hours: Int
    }

    /// One session.
    public struct Session: Sendable, Equatable {
        /// The day.
        public var day: ClassDay
        /// The session's index.
        public var index: Int
        /// Minutes inside the window.
        public var minutes: Int
        /// The session's flags.
        public var flags: Set<AttendanceFlag>
        /// Whether its minutes are held back.
        public var heldBack: Bool { flags.contains(where: \.holdsBack) }
    }

    /// One thing to review: a day and session, and why.
    public struct ReviewItem: Sendable, Equatable, Encodable {
        /// The day.
        public var day: String
        /// The session, 1-based.
        public var session: Int
        /// Its window, `14:00-17:00`.
        public var window: String
        /// The flags.
        public var flags: [String]
        /// The minutes it holds.
        public var minutes: Int
    }

    /// What counts without question.
    public var clean: Totals
    /// What would count if the flagged sessions were accepted (clean included).
    public var withFlagged: Totals
    /// Every session with attendance.
    public var sessions: [Session]
    /// Days that count (clean).
    public var days: [ClassDay]
    /// Flagged sessions, for review.
    public var reviewItems: [ReviewItem]
    /// Any session marked as a test voucher.
    public var isTest: Bool
    /// Each day with attendance: its minutes, and whether it counts as a day.
    public var perDay: [DayMinutes]

    /// One day's minutes: clean, and with the flagged ones.
    public struct DayMinutes: Sendable, Equatable {
        /// The day.
        public var day: ClassDay
        /// Minutes not held back.
        public var clean: Int
        /// All minutes.
        public var all: Int
        /// The day counts (clean minutes reach the share of the schedule).
        public var countsClean: Bool
        /// It counts once flagged minutes are accepted.
        public var countsAll: Bool
    }

    /// Days that count and also hold at least `minutes` (clean, or with the flagged ones).
    public func days(reaching minutes: Int, withFlagged: Bool) -> Int {
        perDay.filter { withFlagged ? $0.countsAll && $0.all >= minutes : $0.countsClean && $0.clean >= minutes }.count
    }

    /// The minutes a day must hold when a clause makes `perDays` days worth `classHours` class
    /// hours: the policy's day share of `classHours / perDays` class hours, rounded up.
    public func fullDayMinutes(classHours: Int, perDays: Int, settings: AttendanceSettings) -> Int {
        guard perDays > 0 else { return 0 }
        let dayMinutes = classHours * max(1, settings.classHourMinutes) / perDays
        return (dayMinutes * settings.dayPercent + 99) / 100
    }

    /// Days and hours held back by flags (what accepting them would add).
    public var flagged: Totals {
        Totals(minutes: withFlagged.minutes - clean.minutes, days: withFlagged.days - clean.days, hours: withFlagged.hours - clean.hours)
    }

    /// Tallies a trainee's records for a class.
    public init(records: [AttendanceRecord], of info: ClassInfo, settings: AttendanceSettings, utcOffset: Int = UTCOffset.china) {
        var sessions: [Session] = []
        for r in records.sorted(by: { ($0.day, $0.sessionIndex, $0.signedIn) < ($1.day, $1.sessionIndex, $1.signedIn) }) {
            guard r.sessionIndex >= 0, r.sessionIndex < info.sessions.count, r.day >= info.startDate, r.day <= info.endDate else { continue }
            let window = info.sessions[r.sessionIndex]
            let start = r.day.at(window.start, utcOffset: utcOffset).milliseconds
            let end = r.day.at(window.end, utcOffset: utcOffset).milliseconds
            var flags = r.flags
            var minutes = 0
            if let out = r.signedOut {
                // Both ends clipped into the window first: a device's Int64.min is no overflow.
                let from = max(r.signedIn, start), to = min(out, end)
                minutes = to > from ? Int((to - from) / 60_000) : 0
            } else {
                flags.insert(.open)
            }
            if let i = sessions.firstIndex(where: { $0.day == r.day && $0.index == r.sessionIndex }) {
                // Two pairs in one session: their minutes add (they cannot overlap: each pair is in, then out)
                sessions[i].minutes = min(sessions[i].minutes + minutes, Int((end - start) / 60_000))
                sessions[i].flags.formUnion(flags)
            } else {
                sessions.append(Session(day: r.day, index: r.sessionIndex, minutes: minutes, flags: flags))
            }
        }
        let scheduled = info.sessions.reduce(0) { $0 + ($1.end.minuteOfDay - $1.start.minuteOfDay) }
        let needed = (scheduled * settings.dayPercent + 99) / 100  // a day counts at ≥ the share, rounded up to the minute
        var clean = Totals(minutes: 0, days: 0, hours: 0), all = clean
        var days: [ClassDay] = []
        var perDay: [DayMinutes] = []
        for day in Set(sessions.map(\.day)).sorted() {
            let ofDay = sessions.filter { $0.day == day }
            let cleanMinutes = ofDay.filter { !$0.heldBack }.reduce(0) { $0 + $1.minutes }
            let allMinutes = ofDay.reduce(0) { $0 + $1.minutes }
            clean.minutes += cleanMinutes
            all.minutes += allMinutes
            if scheduled > 0 && cleanMinutes >= needed {
                clean.days += 1
                days.append(day)
            }
            if scheduled > 0 && allMinutes >= needed { all.days += 1 }
            perDay.append(DayMinutes(
                day: day, clean: cleanMinutes, all: allMinutes, countsClean: scheduled > 0 && cleanMinutes >= needed,
                countsAll: scheduled > 0 && allMinutes >= needed))
        }
        self.perDay = perDay
        let hourMinutes = max(1, settings.classHourMinutes)
        clean.hours = clean.minutes / hourMinutes
        all.hours = all.minutes / hourMinutes
        self.clean = clean
        self.withFlagged = all
        self.sessions = sessions
        self.days = days
        self.reviewItems = sessions.filter { $0.heldBack || $0.flags.contains(.late) }.map {
            ReviewItem(
                day: $0.day.description, session: $0.index + 1, window: info.sessions[$0.index].description,
                flags: $0.flags.map(\.rawValue).sorted(), minutes: $0.minutes)
        }
        self.isTest = sessions.contains { $0.flags.contains(.test) }
    }
}
