import FieldKitCore

/// How old the held trust bundle is, as scans see it.
public enum TrustAge: Sendable, Equatable {
    /// Not expired.
    case current
    /// Expired on that local day; scans are still accepted (flagged `stale_trust`) until the
    /// grace period ends, in that many days (counted up, so the last partial day is 1).
    case grace(expired: ClassDay, daysLeft: Int)
    /// Expired on that local day, more than ``Station/trustGraceDays`` ago: scans and manual
    /// entries are refused (`trust_stale`) until a fresh bundle is imported.
    case stale(expired: ClassDay)
}

extension Station {
    /// Days after a bundle's `expiresAt` during which scans are still accepted.
    ///
    /// Seven: a rural site without a link fetches a bundle by USB stick about once a week, so a
    /// shorter grace would stop a class for a late trip; a longer one would let a revocation take
    /// more than a week to reach the classroom. See the README's trust bundle paragraph.
    public static let trustGraceDays = 7

    /// The held bundle's age at a moment; nil without a bundle.
    public func trustAge(at now: Timestamp) throws -> TrustAge? {
        guard let trust = try heldTrust() else { return nil }
        return trustAge(expiresAt: trust.expiresAt, now: now)
    }

    /// The age of a bundle that expires at `expiresAt`.
    func trustAge(expiresAt: Timestamp, now: Timestamp) -> TrustAge {
        guard expiresAt < now else { return .current }
        let day = expiresAt.classDay(utcOffset: utcOffset)
        let dayMs: Int64 = 86_400_000
        let left = expiresAt.milliseconds.addingClamped(Int64(Station.trustGraceDays) * dayMs).subtractingClamped(now.milliseconds)
        guard left > 0 else { return .stale(expired: day) }
        return .grace(expired: day, daysLeft: Int((left + dayMs - 1) / dayMs))
    }

    /// Whether an event recorded now carries the `stale_trust` flag: the held bundle has expired.
    func trustIsPastExpiry(_ now: Timestamp) throws -> Bool {
        guard let trust = try heldTrust() else { return false }
        return trust.expiresAt < now
    }

    /// The refusal every scan and manual entry gets once the grace period has passed, or nil.
    func staleTrustRefusal(now: Timestamp) throws -> ScanDecision? {
        guard case .stale(let day)? = try trustAge(at: now) else { return nil }
        return .reject(reason: .trustStale, detail: "trust bundle expired on \(day), more than \(Station.trustGraceDays) days ago")
    }
}
