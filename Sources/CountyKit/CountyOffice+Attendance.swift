import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

/// One attendance event the county holds.
public struct HeldEvent: Sendable, Encodable {
    /// The device that recorded it.
    public var device: String
    /// Its site.
    public var site: String
    /// Its place in the device's log.
    public var seq: Int64
    /// `scan`, `manual`, `open_at_end`, `refused`.
    public var kind: String
    /// The voucher.
    public var voucher_id: UInt64?
    /// `in` or `out`.
    public var direction: String?
    /// When, UTC.
    public var time: Timestamp
    /// The class day and session.
    public var class_day: String?
    /// The session's index.
    public var session_index: Int?
    /// Marks: late, manual, clock, test, open.
    public var flags: String
    /// Why the county holds it apart (``QuarantineReason`` codes); empty when it may be counted.
    public var quarantine: [String]
}

/// A class's attendance events at a glance: how many were scanned, entered by hand, held apart.
public struct AttendanceSummary: Sendable, Encodable, Equatable {
    /// The class.
    public var class_id: UInt32
    /// Sign-ins and sign-outs scanned with a voucher code and counted.
    public var scanned: Int
    /// Manual entries counted (flagged; paid only after review).
    public var manual: Int
    /// Attendance events held apart, never paid.
    public var quarantined: Int
    /// Held-apart events by reason.
    public var quarantine_reasons: [String: Int]

    /// Manual entries as a share of the counted events, in per mille (0 when there are none).
    public var manual_per_mille: Int { scanned + manual == 0 ? 0 : manual * 1000 / (scanned + manual) }
}

/// The same voucher signed in at two sites at overlapping times.
public struct Conflict: Sendable, Encodable {
    /// The voucher.
    public var voucher_id: UInt64
    /// The day.
    public var class_day: String
    /// The two sites.
    public var sites: [String]
    /// What was seen.
    public var detail: String
}

extension CountyOffice {
    /// What the county holds for a class, in device and sequence order.
    public func attendance(classID: UInt32) throws -> [HeldEvent] {
        try db.query(
            """
            SELECT device_id, site_id, seq, kind, voucher_id, direction, wall_ms, class_day, session_index, flags, quarantine
            FROM events WHERE class_id = ? ORDER BY device_id, seq
            """, [.integer(Int64(classID))]
        ) {
            HeldEvent(
                device: $0.text(0) ?? "", site: $0.text(1) ?? "", seq: $0.int64(2), kind: $0.text(3) ?? "",
                voucher_id: $0.optionalInt64(4).map { UInt64(bitPattern: $0) }, direction: $0.text(5),
                time: Timestamp(milliseconds: $0.int64(6)), class_day: $0.text(7),
                session_index: $0.optionalInt64(8).map { Int($0) }, flags: $0.text(9) ?? "",
                quarantine: ($0.text(10) ?? "").split(separator: ",").map(String.init))
        }
    }

    /// How a class's attendance events stand: scanned, manual, held apart and why.
    public func attendanceSummary(classID: UInt32) throws -> AttendanceSummary {
        var summary = AttendanceSummary(class_id: classID, scanned: 0, manual: 0, quarantined: 0, quarantine_reasons: [:])
        for e in try attendance(classID: classID) where e.kind == EventKind.scan.rawValue || e.kind == EventKind.manual.rawValue {
            if !e.quarantine.isEmpty {
                summary.quarantined += 1
                for r in e.quarantine { summary.quarantine_reasons[r, default: 0] += 1 }
            } else if e.kind == EventKind.manual.rawValue {
                summary.manual += 1
            } else {
                summary.scanned += 1
            }
        }
        return summary
    }

    /// Every voucher flagged as signed in at two sites at once.
    public func conflicts() throws -> [Conflict] {
        try db.query("SELECT voucher_id, class_day, site_a, site_b, detail FROM conflicts ORDER BY class_day, voucher_id") {
            Conflict(
                voucher_id: UInt64(bitPattern: $0.int64(0)), class_day: $0.text(1) ?? "",
                sites: [$0.text(2) ?? "", $0.text(3) ?? ""], detail: $0.text(4) ?? "")
        }
    }
}

/// What the county holds of all devices' logs, counted: for checks that every event arrived once.
public struct EventTally: Sendable, Equatable {
    /// Events held.
    public var events: Int64
    /// Distinct (device, sequence) pairs among them (equal to ``events`` when nothing is twice).
    public var distinct: Int64
    /// Events held apart (stored, never counted for money).
    public var heldApart: Int64

    /// A tally.
    public init(events: Int64, distinct: Int64, heldApart: Int64) {
        self.events = events
        self.distinct = distinct
        self.heldApart = heldApart
    }
}

extension CountyOffice {
    /// Counts the events held, once per (device, sequence), and those held apart.
    public func eventTally() throws -> EventTally {
        try db.first(
            "SELECT count(*), count(DISTINCT device_id || ':' || seq), count(quarantine) FROM events", [],
            { EventTally(events: $0.int64(0), distinct: $0.int64(1), heldApart: $0.int64(2)) }
        ) ?? EventTally(events: 0, distinct: 0, heldApart: 0)
    }
}
