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
    /// One line for the instructor, in English (screens re-word it with ``line(_:)``).
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
    public var warnings: [StationWarning]
    /// Values for the words: `time`, `from`, `to`, `date`, `why`, `sessions`, `minutes`, `window`, `ended`.
    public var facts: [String: String] = [:]
    /// The session the event landed in (accepted, duplicate, or refused `session_ended`), so a
    /// screen can show that session's counters.
    public var sessionKey: SessionKey?

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

    /// The outcome's headline in a language: 签到成功 / 签退成功 / 重复扫码 / 拒绝.
    public func headline(_ t: Localizer) -> String {
        switch result {
        case .accepted: t(direction == .signOut ? "outcome.out" : "outcome.in")
        case .duplicate: t("outcome.duplicate")
        case .rejected: t("outcome.rejected")
        }
    }

    /// What happened, in a language: the time, or why it was refused and what to do.
    public func explanation(_ t: Localizer) -> String {
        switch result {
        case .accepted:
            var parts = [facts["time"] ?? ""]
            if flags.contains("late") { parts.append(t("outcome.late")) }
            if let m = facts["minutes"] { parts.append(t("outcome.stayed", ["minutes": m])) }
            if let why = facts["why"] { parts.append(t("outcome.manual", ["why": why])) }
            return parts.joined(separator: " · ")
        case .duplicate:
            return t(reason == .alreadyOut ? "outcome.already_out" : "outcome.already_in", facts)
        case .rejected:
            return t("reason.\(reason?.rawValue ?? "malformed")", facts)
        }
    }

    /// One line: a mark, the headline, who, and the explanation (`✔ 签到成功  张伟 1410…1232  08:31`).
    public func line(_ t: Localizer) -> String {
        let mark = switch result {
        case .accepted: "✔"
        case .duplicate: "●"
        case .rejected: "✘"
        }
        return [mark + " " + headline(t), who, explanation(t)].filter { !$0.isEmpty }.joined(separator: "  ")
    }

    /// The trainee as screens show them: name and masked ID, or the voucher number.
    public var who: String {
        if let name { return idMasked.map { "\(name) \($0)" } ?? name }
        return voucherID.map { "#\($0)" } ?? ""
    }
}
