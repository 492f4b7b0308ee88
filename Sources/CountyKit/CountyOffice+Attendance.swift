import FieldKitCore
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
            SELECT device_id, site_id, seq, kind, voucher_id, direction, wall_ms, class_day, session_index, flags
            FROM events WHERE class_id = ? ORDER BY device_id, seq
            """, [.integer(Int64(classID))]
        ) {
            HeldEvent(
                device: $0.text(0) ?? "", site: $0.text(1) ?? "", seq: $0.int64(2), kind: $0.text(3) ?? "",
                voucher_id: $0.optionalInt64(4).map { UInt64(bitPattern: $0) }, direction: $0.text(5),
                time: Timestamp(milliseconds: $0.int64(6)), class_day: $0.text(7),
                session_index: $0.optionalInt64(8).map { Int($0) }, flags: $0.text(9) ?? "")
        }
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
