/// One class day's sign-in sheet (签到表): every trainee's sign-in and sign-out per session, the
/// marks an auditor looks for (late, early leave, manual entries, absent, revoked) and the day's
/// refused scans.
///
/// The readings of the marks live here, in one place, so the printed sheet, the CSV and the
/// tests agree:
/// - *minutes attended*: the part of the session's window between sign-in and sign-out (time
///   before the start or after the end does not count); none without a sign-out;
/// - *late*: the flag the station set at sign-in (later than `lateAfter` minutes after the start);
/// - *early leave*: a sign-out earlier than `lateAfter` minutes before the window's end — the
///   class's lateness tolerance applied to the end, so a sign-out queue in the last minutes is
///   not early leave;
/// - *absent*: a roster trainee with no sign-in once the session's window has ended.
public struct DaySheet: Sendable, Equatable {
    /// One trainee in one session.
    public struct Row: Sendable, Equatable {
        /// The voucher.
        public var voucherID: UInt64
        /// Name from the roster ("" when the voucher is not on it).
        public var name: String
        /// Masked ID number.
        public var idMasked: String
        /// Sign-in time, if any.
        public var signedIn: Timestamp?
        /// Sign-out time, if any.
        public var signedOut: Timestamp?
        /// Flags of the sign-in, the sign-out and the session's end.
        public var flags: [EventFlag]
        /// The instructor's reasons for manual entries (sign-in first, then sign-out).
        public var manualReasons: [String]
        /// When the county withdrew the voucher, if it did.
        public var revokedAt: Timestamp?

        /// Builds a row.
        public init(
            voucherID: UInt64, name: String, idMasked: String, signedIn: Timestamp?, signedOut: Timestamp?, flags: [EventFlag],
            manualReasons: [String] = [], revokedAt: Timestamp? = nil
        ) {
            self.voucherID = voucherID
            self.name = name
            self.idMasked = idMasked
            self.signedIn = signedIn
            self.signedOut = signedOut
            self.flags = flags
            self.manualReasons = manualReasons
            self.revokedAt = revokedAt
        }
    }

    /// One session of the day.
    public struct Session: Sendable, Equatable {
        /// 0-based index in the class's windows.
        public var index: Int
        /// The window.
        public var window: SessionWindow
        /// Every trainee on the roster, then any voucher seen that is not on it.
        public var rows: [Row]

        /// Builds a session.
        public init(index: Int, window: SessionWindow, rows: [Row]) {
            self.index = index
            self.window = window
            self.rows = rows
        }

        /// Trainees expected: on the roster, less vouchers withdrawn that were never used here.
        public var expected: Int { rows.filter { !$0.flags.contains(.unlisted) && !($0.revokedAt != nil && $0.signedIn == nil) }.count }
        /// Rows with a sign-in.
        public var signedIn: Int { rows.filter { $0.signedIn != nil }.count }
        /// Rows with a sign-out.
        public var signedOut: Int { rows.filter { $0.signedOut != nil }.count }
        /// Sign-ins without a sign-out.
        public var open: Int { rows.filter { $0.signedIn != nil && $0.signedOut == nil }.count }
        /// Expected trainees who never signed in.
        public var absent: Int { rows.filter { $0.signedIn == nil && $0.revokedAt == nil && !$0.flags.contains(.unlisted) }.count }
    }

    /// A scan the station refused on this day, kept as evidence.
    public struct Refusal: Sendable, Equatable {
        /// When.
        public var time: Timestamp
        /// The voucher, when the code could be read.
        public var voucherID: UInt64?
        /// The trainee's name from the roster ("" when unknown).
        public var name: String
        /// The stable refusal code (``ScanReason`` raw value).
        public var reason: String
        /// Whether it was a manual entry the station refused.
        public var manual: Bool

        /// Builds a refusal.
        public init(time: Timestamp, voucherID: UInt64?, name: String, reason: String, manual: Bool = false) {
            self.time = time
            self.voucherID = voucherID
            self.name = name
            self.reason = reason
            self.manual = manual
        }

        /// A refusal code (``ScanReason`` raw value) in a few words of the user's language; a
        /// code this build does not know stays as it is.
        public static func words(forReason code: String, _ t: Localizer) -> String {
            ScanReason(rawValue: code) != nil ? t("sheet.reason.\(code)") : code
        }
    }

    /// What the sheet says about one trainee in one session, beside the times.
    public enum Mark: Sendable, Equatable {
        /// Signed in after the class's lateness tolerance.
        case late
        /// Signed out before the session's end (see the type's reading).
        case earlyLeave
        /// Entered by hand, with the instructor's reason.
        case manual(reason: String)
        /// Signed in, never out: the session closed with it open (`open_at_end`).
        case open
        /// On the roster, no sign-in, and the session is over.
        case absent
        /// The county withdrew the voucher on that day.
        case revoked(on: ClassDay)
        /// Not on the site's roster.
        case unlisted
        /// A test voucher.
        case test
        /// Recorded while the clock was behind.
        case clock
    }

    /// Where a trainee stands in one session.
    public enum State: String, Sendable, Equatable {
        /// Signed in and out.
        case signedOut = "signed_out"
        /// Signed in; the session is still running.
        case inClass = "in_class"
        /// Signed in, never out, session closed.
        case open
        /// Not signed in yet; the session has not ended.
        case pending
        /// Not signed in; the session has ended.
        case absent
        /// The voucher was withdrawn and it has no sign-in.
        case revoked
    }

    /// Site id and name.
    public var siteID: String
    /// The institution's name.
    public var siteName: String
    /// The recording device.
    public var deviceID: String
    /// The class.
    public var classInfo: ClassInfo
    /// The day.
    public var day: ClassDay
    /// The sessions, in order.
    public var sessions: [Session]
    /// Scans refused on this day for this class, or whose class could not be known.
    public var refusals: [Refusal]
    /// The instructor's printed name, when known.
    public var instructor: String?
    /// When the sheet was made.
    public var generatedAt: Timestamp
    /// The log's last sequence number when made.
    public var lastSeq: Int64
    /// The site's UTC offset.
    public var utcOffset: Int

    /// Builds a sheet.
    public init(
        siteID: String, siteName: String, deviceID: String, classInfo: ClassInfo, day: ClassDay, sessions: [Session],
        refusals: [Refusal] = [], instructor: String? = nil, generatedAt: Timestamp, lastSeq: Int64, utcOffset: Int
    ) {
        self.siteID = siteID
        self.siteName = siteName
        self.deviceID = deviceID
        self.classInfo = classInfo
        self.day = day
        self.sessions = sessions
        self.refusals = refusals
        self.instructor = instructor
        self.generatedAt = generatedAt
        self.lastSeq = lastSeq
        self.utcOffset = utcOffset
    }

    // MARK: - Readings

    /// The training location fixed for the class; "" when the county gave none.
    public var location: String { classInfo.location.trimmingWhitespace() }

    /// When a session's window starts and ends on this day.
    public func bounds(of session: Session) -> (start: Timestamp, end: Timestamp) {
        (day.at(session.window.start, utcOffset: utcOffset), day.at(session.window.end, utcOffset: utcOffset))
    }

    /// Minutes of the session's window between sign-in and sign-out; nil without both.
    public func minutesAttended(_ row: Row, in session: Session) -> Int? {
        guard let signedIn = row.signedIn, let signedOut = row.signedOut else { return nil }
        let (start, end) = bounds(of: session)
        let from = max(signedIn, start), to = min(signedOut, end)
        return to > from ? Int((to.milliseconds - from.milliseconds) / 60_000) : 0
    }

    /// Whether the sign-out came earlier than the class's tolerance before the window's end.
    public func leftEarly(_ row: Row, in session: Session) -> Bool {
        guard let signedOut = row.signedOut else { return false }
        return signedOut < bounds(of: session).end.adding(minutes: -classInfo.rules.lateAfter)
    }

    /// Whether the session's window has ended when the sheet was made.
    public func isOver(_ session: Session) -> Bool { generatedAt >= bounds(of: session).end }

    /// The marks of a row, in the order the sheet prints them.
    public func marks(_ row: Row, in session: Session) -> [Mark] {
        var out: [Mark] = []
        if let revoked = row.revokedAt { out.append(.revoked(on: revoked.classDay(utcOffset: utcOffset))) }
        if row.signedIn == nil && row.revokedAt == nil && !row.flags.contains(.unlisted) && isOver(session) { out.append(.absent) }
        if row.flags.contains(.late) { out.append(.late) }
        if leftEarly(row, in: session) { out.append(.earlyLeave) }
        if row.flags.contains(.open) { out.append(.open) }
        if row.flags.contains(.manual) {
            out += row.manualReasons.isEmpty ? [.manual(reason: "")] : row.manualReasons.map { .manual(reason: $0) }
        }
        if row.flags.contains(.unlisted) { out.append(.unlisted) }
        if row.flags.contains(.test) { out.append(.test) }
        if row.flags.contains(.clock) { out.append(.clock) }
        return out
    }

    /// Where a row stands.
    public func state(_ row: Row, in session: Session) -> State {
        switch (row.signedIn, row.signedOut) {
        case (_?, _?): return .signedOut
        case (_?, nil): return row.flags.contains(.open) ? .open : .inClass
        case (nil, _):
            if row.revokedAt != nil { return .revoked }
            return isOver(session) ? .absent : .pending
        }
    }

    /// The session a refused scan fell into: the window (with its sign-in and sign-out
    /// margins) holding its time; nil outside every window.
    public func session(of refusal: Refusal) -> Session? {
        let rules = classInfo.rules
        return sessions.first {
            let (start, end) = bounds(of: $0)
            return refusal.time >= start.adding(minutes: -rules.signInOpensBefore)
                && refusal.time <= end.adding(minutes: rules.signOutClosesAfter)
        }
    }
}
