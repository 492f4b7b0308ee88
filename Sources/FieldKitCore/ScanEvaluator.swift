import Crypto
import FoundationEssentials

/// What the site knows that a scan is judged against: the imported trust bundle.
public protocol TrustLookup {
    /// The site's id.
    var siteID: String { get }
    /// A voucher signing key by id.
    func signingKey(_ kid: KeyID) throws -> SigningKeyEntry?
    /// One of the site's classes.
    func classInfo(_ id: UInt32) throws -> ClassInfo?
    /// The revocation of a voucher, if it was revoked.
    func revocation(_ voucherID: UInt64) throws -> Revocation?
}

/// What the site has already recorded for a voucher in a session.
public struct SessionAttendance: Sendable, Equatable {
    /// When the sign-in was recorded.
    public var signedInAt: Timestamp
    /// When the sign-out was recorded, if it was.
    public var signedOutAt: Timestamp?

    /// Builds a record.
    public init(signedInAt: Timestamp, signedOutAt: Timestamp?) {
        self.signedInAt = signedInAt
        self.signedOutAt = signedOutAt
    }
}

/// Where a session sits: a class, a local day and the index of its window.
public struct SessionKey: Hashable, Sendable, CustomStringConvertible {
    /// The class.
    public var classID: UInt32
    /// The local day.
    public var day: ClassDay
    /// Index into ``ClassInfo/sessions``.
    public var index: Int

    /// Builds a key.
    public init(classID: UInt32, day: ClassDay, index: Int) {
        self.classID = classID
        self.day = day
        self.index = index
    }

    /// `class 12 2026-03-02 session 1`.
    public var description: String { "class \(classID) \(day) session \(index + 1)" }
}

/// The verdict on one scan, before anything is written.
public enum ScanDecision: Sendable, Equatable {
    /// Record a sign-in or sign-out.
    case accept(direction: Direction, session: SessionKey, late: Bool)
    /// Record nothing new; the earlier scan stands.
    case duplicate(reason: ScanReason, session: SessionKey, earlier: Timestamp)
    /// Record the refusal.
    case reject(reason: ScanReason, detail: String)
}

/// Judges a voucher scan against the trust bundle, the clock and what was already recorded.
///
/// Pure: the caller supplies the lookups and writes the outcome. Checks run in this order:
/// key known, key valid today, signature, class held at this site, voucher window, class
/// dates, revocation, session window, direction.
public struct ScanEvaluator {
    /// The imported trust.
    public let trust: any TrustLookup
    /// The site's UTC offset in seconds.
    public let utcOffset: Int

    /// Builds an evaluator.
    public init(trust: any TrustLookup, utcOffset: Int = UTCOffset.china) {
        self.trust = trust
        self.utcOffset = utcOffset
    }

    /// Judges a decoded code at a moment.
    /// - Parameter attendance: what was recorded for the voucher in a session.
    public func evaluate(
        _ code: VoucherCode, at now: Timestamp,
        attendance: (SessionKey) throws -> SessionAttendance?
    ) throws -> ScanDecision {
        let body = code.body
        let today = now.classDay(utcOffset: utcOffset)
        guard let key = try trust.signingKey(body.kid) else {
            return .reject(reason: .unknownKey, detail: "signing key \(body.kid) is not in this site's trust bundle")
        }
        guard key.isValid(on: today) else {
            return .reject(reason: .keyNotValid, detail: "signing key \(body.kid) is \(key.status.rawValue), not valid on \(today)")
        }
        guard let raw = key.rawPublicKey, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            code.verify(with: publicKey)
        else {
            return .reject(reason: .badSignature, detail: "signature does not verify")
        }
        guard let info = try trust.classInfo(body.classID) else {
            return .reject(reason: .wrongSite, detail: "class \(body.classID) is not held at site \(trust.siteID)")
        }
        let day = sessionDay(of: info, at: now)
        guard day >= body.validFrom else {
            return .reject(reason: .notYetValid, detail: "voucher valid from \(body.validFrom)")
        }
        guard day <= body.validTo else {
            return .reject(reason: .expired, detail: "voucher valid until \(body.validTo)")
        }
        guard day >= info.startDate, day <= info.endDate else {
            return .reject(reason: .outsideClassDates, detail: "class \(info.id) runs \(info.startDate) to \(info.endDate)")
        }
        if let r = try trust.revocation(body.voucherID) {
            return .reject(
                reason: .revoked,
                detail: "revoked on \(r.revokedAt.classDay(utcOffset: utcOffset)) (reason: \(r.reason))")
        }
        return try sessionDecision(info: info, today: day, now: now, attendance: attendance)
    }

    /// The local day whose sessions a moment belongs to: today, or, for a window that crosses
    /// midnight, yesterday (a sign-out after 00:00) or tomorrow (a sign-in opening before 00:00).
    public func sessionDay(of info: ClassInfo, at now: Timestamp) -> ClassDay {
        let today = now.classDay(utcOffset: utcOffset)
        for day in [today, today.adding(days: -1), today.adding(days: 1)] {
            for w in info.sessions where window(w, on: day, rules: info.rules).contains(now) { return day }
        }
        return today
    }

    /// From sign-in opening to sign-out closing, for one session on one day.
    public func window(_ w: SessionWindow, on day: ClassDay, rules: AttendanceRules) -> ClosedRange<Timestamp> {
        day.at(w.start, utcOffset: utcOffset).adding(minutes: -rules.signInOpensBefore)
            ... day.at(w.end, utcOffset: utcOffset).adding(minutes: rules.signOutClosesAfter)
    }

    /// Picks the session and the direction.
    ///
    /// Windows of neighbouring sessions can overlap (a morning's sign-out window and the
    /// afternoon's sign-in window): a session where the trainee is signed in wins, then one
    /// where a sign-in is possible, then any.
    func sessionDecision(
        info: ClassInfo, today: ClassDay, now: Timestamp,
        attendance: (SessionKey) throws -> SessionAttendance?
    ) throws -> ScanDecision {
        let rules = info.rules
        var candidates: [(SessionKey, SessionWindow, SessionAttendance?)] = []
        for (i, w) in info.sessions.enumerated() where window(w, on: today, rules: rules).contains(now) {
            let key = SessionKey(classID: info.id, day: today, index: i)
            candidates.append((key, w, try attendance(key)))
        }
        guard !candidates.isEmpty else {
            let list = info.sessions.map(\.description).joined(separator: ", ")
            return .reject(reason: .outsideSession, detail: "no session open now; sessions are \(list)")
        }
        if let (key, _, record) = candidates.first(where: { $0.2 != nil && $0.2?.signedOutAt == nil }),
            let record
        {
            if now < record.signedInAt.adding(minutes: rules.minimumStay) {
                return .duplicate(reason: .alreadyIn, session: key, earlier: record.signedInAt)
            }
            return .accept(direction: .signOut, session: key, late: false)
        }
        for (key, w, record) in candidates where record == nil {
            let end = today.at(w.end, utcOffset: utcOffset)
            guard now <= end else { continue }
            let late = now > today.at(w.start, utcOffset: utcOffset).adding(minutes: rules.lateAfter)
            return .accept(direction: .signIn, session: key, late: late)
        }
        if let (key, _, record) = candidates.first(where: { $0.2?.signedOutAt != nil }), let out = record?.signedOutAt {
            return .duplicate(reason: .alreadyOut, session: key, earlier: out)
        }
        let (_, w, _) = candidates[0]
        return .reject(
            reason: .outsideSession,
            detail: "session \(w) has ended; sign-in closed at \(w.end), use a manual entry with a reason")
    }
}
