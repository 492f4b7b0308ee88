import FieldKitCore
import FieldKitSQLite
import FoundationEssentials

/// What `fieldkit status` shows.
public struct StationStatus: Sendable, Encodable {
    /// Counters for one session today.
    public struct SessionCount: Sendable, Encodable {
        /// The class.
        public var classID: UInt32
        /// Its name.
        public var className: String
        /// `08:30-11:30`.
        public var session: String
        /// Trainees on the roster.
        public var expected: Int
        /// Signed in and not yet out.
        public var signedInNow: Int
        /// Signed out.
        public var signedOut: Int
        /// Not yet arrived.
        public var notYetArrived: Int
        /// Sign-ins left open at the session's end.
        public var openAtEnd: Int

        enum CodingKeys: String, CodingKey {
            case classID = "class_id"
            case className = "class_name"
            case session, expected
            case signedInNow = "signed_in_now"
            case signedOut = "signed_out"
            case notYetArrived = "not_yet_arrived"
            case openAtEnd = "open_at_end"
        }
    }

    /// This site.
    public var siteID: String
    /// The site's name from the bundle.
    public var siteName: String?
    /// This device.
    public var deviceID: String
    /// The county, once a bundle is imported.
    public var countyID: String?
    /// Held bundle sequence.
    public var trustSequence: Int64?
    /// When the bundle expires.
    public var trustExpiresAt: Timestamp?
    /// Events in the log.
    public var events: Int64
    /// The last event's time.
    public var lastEventAt: Timestamp?
    /// The last checkpoint's sequence.
    public var lastCheckpointSeq: Int64?
    /// Today's sessions.
    public var today: [SessionCount]
    /// What needs attention.
    public var warnings: [StationWarning]
    /// Where the station stands with the county.
    public var sync: SyncState?
    /// The time of this status.
    public var now: Timestamp

    enum CodingKeys: String, CodingKey {
        case siteID = "site_id"
        case siteName = "site_name"
        case deviceID = "device_id"
        case countyID = "county_id"
        case trustSequence = "trust_sequence"
        case trustExpiresAt = "trust_expires_at"
        case events
        case lastEventAt = "last_event_at"
        case lastCheckpointSeq = "last_checkpoint_seq"
        case today, warnings, now, sync
    }
}

extension Station {
    /// Unsynced events older than this (three days, in milliseconds) raise a warning.
    public static let unsyncedWarningAge: Int64 = 3 * 24 * 3_600_000

    /// Events in the log (read only).
    public func eventCount() throws -> Int64 {
        try db.first("SELECT count(*) FROM events") { $0.int64(0) } ?? 0
    }

    /// The station's state, today's counters and warnings.
    public func status() throws -> StationStatus {
        try closeDueSessions()
        let now = clock.now()
        let trust = try heldTrust()
        let today = now.classDay(utcOffset: utcOffset)
        var counts: [StationStatus.SessionCount] = []
        for info in try allClasses() where today >= info.startDate && today <= info.endDate {
            let expected = try db.first("SELECT count(*) FROM roster WHERE class_id = ?", [.integer(Int64(info.id))]) {
                Int($0.int64(0))
            } ?? 0
            for (i, w) in info.sessions.enumerated() {
                let row = try db.first(
                    """
                    SELECT count(*), count(out_seq), count(open_seq IS NOT NULL AND out_seq IS NULL OR NULL) FROM attendance
                    WHERE class_id = ? AND class_day = ? AND session_index = ?
                    """, [.integer(Int64(info.id)), .text(today.description), .integer(Int64(i))]
                ) { (Int($0.int64(0)), Int($0.int64(1)), Int($0.int64(2))) } ?? (0, 0, 0)
                counts.append(
                    .init(
                        classID: info.id, className: info.name, session: w.description, expected: expected,
                        signedInNow: row.0 - row.1 - row.2, signedOut: row.1, notYetArrived: max(0, expected - row.0),
                        openAtEnd: row.2))
            }
        }
        let last = try db.first("SELECT seq, wall_ms FROM events ORDER BY seq DESC LIMIT 1") {
            ($0.int64(0), Timestamp(milliseconds: $0.int64(1)))
        }
        var warnings = try currentWarnings(now: now)
        if trust == nil { warnings.append(.noTrust) }
        let sync = try syncState()
        if let why = sync.stopped { warnings.append(.syncStopped(why)) }
        if sync.countyURL != nil, let oldest = sync.oldestUnsyncedAt, now.milliseconds - oldest.milliseconds > Station.unsyncedWarningAge {
            warnings.append(.notSynced(sync.unsynced, since: oldest))
        }
        if let free = Files.freeBytes(at: home), free < 500 << 20 { warnings.append(.lowDisk(megabytes: free >> 20)) }
        return StationStatus(
            siteID: siteID, siteName: trust?.siteName, deviceID: deviceID, countyID: trust?.countyID,
            trustSequence: trust?.sequence, trustExpiresAt: trust?.expiresAt, events: last?.0 ?? 0,
            lastEventAt: last?.1,
            lastCheckpointSeq: try db.first("SELECT seq FROM checkpoints ORDER BY id DESC LIMIT 1") { $0.int64(0) },
            today: counts, warnings: warnings, sync: sync, now: now)
    }
}
