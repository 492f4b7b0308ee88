/// One class day's sign-in sheet (签到表): every trainee's sign-in and sign-out per session.
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

        /// Builds a row.
        public init(voucherID: UInt64, name: String, idMasked: String, signedIn: Timestamp?, signedOut: Timestamp?, flags: [EventFlag]) {
            self.voucherID = voucherID
            self.name = name
            self.idMasked = idMasked
            self.signedIn = signedIn
            self.signedOut = signedOut
            self.flags = flags
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

        /// Trainees on the roster.
        public var expected: Int { rows.filter { !$0.flags.contains(.unlisted) }.count }
        /// Rows with a sign-in.
        public var signedIn: Int { rows.filter { $0.signedIn != nil }.count }
        /// Rows with a sign-out.
        public var signedOut: Int { rows.filter { $0.signedOut != nil }.count }
        /// Sign-ins without a sign-out.
        public var open: Int { rows.filter { $0.signedIn != nil && $0.signedOut == nil }.count }
        /// Roster trainees who never signed in.
        public var absent: Int { rows.filter { $0.signedIn == nil && !$0.flags.contains(.unlisted) }.count }
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
    /// When the sheet was made.
    public var generatedAt: Timestamp
    /// The log's last sequence number when made.
    public var lastSeq: Int64
    /// The site's UTC offset.
    public var utcOffset: Int

    /// Builds a sheet.
    public init(
        siteID: String, siteName: String, deviceID: String, classInfo: ClassInfo, day: ClassDay, sessions: [Session],
        generatedAt: Timestamp, lastSeq: Int64, utcOffset: Int
    ) {
        self.siteID = siteID
        self.siteName = siteName
        self.deviceID = deviceID
        self.classInfo = classInfo
        self.day = day
        self.sessions = sessions
        self.generatedAt = generatedAt
        self.lastSeq = lastSeq
        self.utcOffset = utcOffset
    }
}
