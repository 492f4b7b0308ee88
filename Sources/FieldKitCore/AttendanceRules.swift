/// The scan rules of a class; the defaults are the county's, a class may override them.
public struct AttendanceRules: Codable, Sendable, Equatable {
    /// Sign-in opens this many minutes before a session starts.
    public var signInOpensBefore: Int
    /// Sign-out is allowed until this many minutes after a session ends.
    public var signOutClosesAfter: Int
    /// A second scan sooner than this after the sign-in is a duplicate, not a sign-out.
    public var minimumStay: Int
    /// A sign-in later than this many minutes after the start is flagged late.
    public var lateAfter: Int

    /// The defaults: 30, 60, 5 and 15 minutes.
    public init(signInOpensBefore: Int = 30, signOutClosesAfter: Int = 60, minimumStay: Int = 5, lateAfter: Int = 15) {
        self.signInOpensBefore = signInOpensBefore
        self.signOutClosesAfter = signOutClosesAfter
        self.minimumStay = minimumStay
        self.lateAfter = lateAfter
    }

    enum CodingKeys: String, CodingKey {
        case signInOpensBefore = "sign_in_opens_before_min"
        case signOutClosesAfter = "sign_out_closes_after_min"
        case minimumStay = "minimum_stay_min"
        case lateAfter = "late_after_min"
    }
}
