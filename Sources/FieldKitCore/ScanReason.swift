/// Why a scan was not accepted: stable machine codes that never change with the language.
public enum ScanReason: String, Codable, Sendable, CaseIterable {
    /// The text is not a VT1 code.
    case malformed
    /// The code names a signing key this site does not know.
    case unknownKey = "unknown_key"
    /// The signing key is known but not valid on this day (retired window closed, or revoked).
    case keyNotValid = "key_not_valid"
    /// The signature does not verify: a forged or altered code.
    case badSignature = "bad_signature"
    /// The county withdrew the voucher.
    case revoked
    /// The voucher's first day has not come.
    case notYetValid = "not_yet_valid"
    /// The voucher's last day has passed.
    case expired
    /// The voucher's class is not held at this site.
    case wrongSite = "wrong_site"
    /// Today is outside the class's dates.
    case outsideClassDates = "outside_class_dates"
    /// No session window is open now.
    case outsideSession = "outside_session"
    /// Already signed in, too soon for a sign-out.
    case alreadyIn = "already_in"
    /// Already signed out of this session.
    case alreadyOut = "already_out"
    /// No trust bundle has been imported yet.
    case noTrustBundle = "no_trust_bundle"
    /// The trust bundle expired more than the grace period ago: revocations may be missing.
    case trustStale = "trust_stale"
    /// The instructor ended the session (E in the kiosk): no more sign-ins or sign-outs in it.
    case sessionEnded = "session_ended"
}

/// Sign-in or sign-out.
public enum Direction: String, Codable, Sendable {
    /// 签到.
    case signIn = "in"
    /// 签退.
    case signOut = "out"
}
