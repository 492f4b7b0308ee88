import FieldKitCore

/// Something on the station that needs attention; every screen shows it until it is fixed.
public enum StationWarning: Sendable, Equatable, Encodable {
    /// The trust bundle expired on that local day: scans still work (flagged `stale_trust`) for
    /// the days left of the grace period, but revocations may be missing.
    case trustExpired(ClassDay, daysLeft: Int)
    /// The trust bundle expired on that local day, more than the grace period ago: scans and
    /// manual entries are refused until a fresh bundle is imported.
    case trustStale(ClassDay)
    /// The clock reads earlier than the latest time seen (given): events are flagged `clock`.
    case clockBehind(Timestamp)
    /// The trust bundle was issued before a class running today opened (class, bundle's day):
    /// its roster and revocations may miss what changed since.
    case trustOlderThanClass(String, issued: ClassDay)
    /// Free megabytes where the log is kept are below 500.
    case lowDisk(megabytes: Int64)
    /// No trust bundle has been imported.
    case noTrust
    /// Events older than three days have not reached the county (how many, the oldest's time).
    case notSynced(Int64, since: Timestamp)
    /// The county answered that this log contradicts what it holds; syncing stopped.
    case syncStopped(String)
    /// Restored from a backup ending at this event: nothing is recorded until the county's
    /// high-water is known (`fieldkit sync`, or `fieldkit restore --answer FILE`).
    case restorePending(baseSeq: Int64)

    /// A stable machine code.
    public var code: String {
        switch self {
        case .trustExpired: "trust_expired"
        case .trustStale: "trust_stale"
        case .clockBehind: "clock_behind"
        case .trustOlderThanClass: "trust_older_than_class"
        case .lowDisk: "low_disk"
        case .noTrust: "no_trust"
        case .notSynced: "not_synced"
        case .syncStopped: "sync_stopped"
        case .restorePending: "restore_pending"
        }
    }

    /// Whether it stops scans (the kiosk paints it red rather than yellow).
    public var blocksScans: Bool {
        switch self {
        case .trustStale, .restorePending: return true
        default: return false
        }
    }

    /// The words in a language.
    public func text(_ t: Localizer, utcOffset: Int = UTCOffset.china) -> String {
        switch self {
        case .trustExpired(let day, let left): t("warning.trust_expired", ["date": day.description, "days": String(left)])
        case .trustStale(let day): t("reason.trust_stale", ["date": day.description, "days": String(Station.trustGraceDays)])
        case .clockBehind(let time): t("warning.clock_behind", ["time": time.localDescription(utcOffset: utcOffset)])
        case .trustOlderThanClass(let name, let day): t("warning.trust_older", ["class": name, "date": day.description])
        case .lowDisk(let mb): t("warning.low_disk", ["mb": String(mb)])
        case .noTrust: t("warning.no_trust")
        case .notSynced(let n, let since):
            t("warning.not_synced", ["count": String(n), "time": since.localDescription(utcOffset: utcOffset)])
        case .syncStopped(let why): t("warning.sync_stopped", ["why": why])
        case .restorePending(let seq): t("backup.error.pending", ["seq": String(seq)])
        }
    }

    enum CodingKeys: String, CodingKey { case code, message }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(text(Localizer(.en)), forKey: .message)
    }
}
