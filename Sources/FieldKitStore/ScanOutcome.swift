import FieldKitCore

/// How a scan ended.
public enum ScanResult: String, Codable, Sendable {
    /// Recorded as a sign-in or sign-out.
    case accepted
    /// Nothing new recorded: the earlier scan stands.
    case duplicate
    /// Refused (and the refusal recorded).
    case rejected
}

/// What the instructor is told after a scan, and what `scan --json` prints.
///
/// Reported only after the event is committed to disk.
public struct ScanOutcome: Sendable, Encodable, Equatable {
    /// Accepted, duplicate or rejected.
    public var result: ScanResult
    /// In or out (for a duplicate, the direction already recorded).
    public var direction: Direction?
    /// The voucher, when the code could be read.
    public var voucherID: UInt64?
    /// A stable machine code for duplicates and refusals.
    public var reason: ScanReason?
    /// One line for the instructor.
    public var message: String
    /// The log sequence number of the event written, if any.
    public var seq: Int64?
    /// When the scan was judged.
    public var time: Timestamp
    /// For a duplicate, the earlier scan's time.
    public var earlierTime: Timestamp?
    /// The trainee's name from the roster (screens only; never logged).
    public var name: String?
    /// The trainee's masked ID number from the roster.
    public var idMasked: String?
    /// The class.
    public var classID: UInt32?
    /// The class's name.
    public var className: String?
    /// The session, `08:30-11:30`.
    public var session: String?
    /// Flags on the recorded event.
    public var flags: [String]
    /// Things that need attention (expired bundle, clock behind).
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case result, direction
        case voucherID = "voucher_id"
        case reason, message, seq, time
        case earlierTime = "earlier_time"
        case name
        case idMasked = "id_masked"
        case classID = "class_id"
        case className = "class_name"
        case session, flags, warnings
    }
}
