/// What the county tells one site to trust: signing keys, revocations, classes and roster.
///
/// Travels inside a ``SignedTrustBundle``, signed by the county root key that the site pinned
/// at `fieldkit init`. The wire format is described in the TrustBundle article of this
/// target's catalog.
public struct TrustBundle: Codable, Sendable, Equatable {
    /// The format name this version writes and reads.
    public static let formatName = "fieldkit-trust/1"

    /// Always ``formatName``.
    public var format: String
    /// The county's code (e.g. an administrative division code).
    public var countyID: String
    /// The site this bundle is for.
    public var siteID: String
    /// The site's name, for screens.
    public var siteName: String
    /// Increases with every bundle the county issues for this site; a lower one is a rollback.
    public var sequence: Int64
    /// When the county made this bundle.
    public var issuedAt: Timestamp
    /// After this the bundle still works, but every screen warns until a fresh one arrives.
    public var expiresAt: Timestamp
    /// Voucher signing keys, including retired ones whose vouchers are still valid.
    public var signingKeys: [SigningKeyEntry]
    /// Vouchers that must be refused.
    public var revocations: [Revocation]
    /// The site's classes.
    public var classes: [ClassInfo]
    /// The site's trainees, by voucher.
    public var roster: [RosterEntry]

    /// Builds a bundle.
    public init(
        countyID: String, siteID: String, siteName: String, sequence: Int64, issuedAt: Timestamp,
        expiresAt: Timestamp, signingKeys: [SigningKeyEntry], revocations: [Revocation], classes: [ClassInfo],
        roster: [RosterEntry]
    ) {
        self.format = TrustBundle.formatName
        self.countyID = countyID
        self.siteID = siteID
        self.siteName = siteName
        self.sequence = sequence
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.signingKeys = signingKeys
        self.revocations = revocations
        self.classes = classes
        self.roster = roster
    }

    enum CodingKeys: String, CodingKey {
        case format
        case countyID = "county_id"
        case siteID = "site_id"
        case siteName = "site_name"
        case sequence
        case issuedAt = "issued_at"
        case expiresAt = "expires_at"
        case signingKeys = "signing_keys"
        case revocations, classes, roster
    }

    /// Checks what JSON alone cannot: references, windows, key ids.
    /// - Throws: ``TrustBundleError/invalid(_:)`` naming the first problem.
    public func validate() throws {
        guard format == TrustBundle.formatName else { throw TrustBundleError.unsupportedFormat(format) }
        guard expiresAt > issuedAt else { throw TrustBundleError.invalid("expires_at is not after issued_at") }
        var kids = Set<KeyID>()
        for key in signingKeys {
            guard kids.insert(key.kid).inserted else { throw TrustBundleError.invalid("signing key \(key.kid) appears twice") }
            guard let raw = key.rawPublicKey, raw.count == 32 else {
                throw TrustBundleError.invalid("signing key \(key.kid) is not 32 bytes of base64")
            }
            guard KeyID(publicKey: raw) == key.kid else {
                throw TrustBundleError.invalid("signing key \(key.kid) does not match its public key")
            }
        }
        var classIDs = Set<UInt32>()
        for c in classes {
            guard classIDs.insert(c.id).inserted else { throw TrustBundleError.invalid("class \(c.id) appears twice") }
            guard c.startDate <= c.endDate else { throw TrustBundleError.invalid("class \(c.id) ends before it starts") }
            guard !c.sessions.isEmpty else { throw TrustBundleError.invalid("class \(c.id) has no sessions") }
            guard c.level <= 5 else { throw TrustBundleError.invalid("class \(c.id) has level \(c.level); levels run 0 to 5") }
            for (i, s) in c.sessions.enumerated() {
                guard s.start < s.end else {
                    throw TrustBundleError.invalid("class \(c.id) has session \(s) that ends before it starts")
                }
                guard i == 0 || c.sessions[i - 1].end <= s.start else {
                    throw TrustBundleError.invalid("class \(c.id) has sessions out of order or overlapping at \(s)")
                }
            }
            let r = c.rules
            guard [r.signInOpensBefore, r.signOutClosesAfter, r.minimumStay, r.lateAfter].allSatisfy({ (0...720).contains($0) })
            else { throw TrustBundleError.invalid("class \(c.id) has rule minutes outside 0 to 720") }
        }
        var vouchers = Set<UInt64>()
        for r in roster {
            guard classIDs.contains(r.classID) else {
                throw TrustBundleError.invalid("roster names voucher \(r.voucherID) for class \(r.classID), not in the bundle")
            }
            guard vouchers.insert(r.voucherID).inserted else {
                throw TrustBundleError.invalid("roster lists voucher \(r.voucherID) twice")
            }
        }
        var revoked = Set<UInt64>()
        for r in revocations where !revoked.insert(r.voucherID).inserted {
            throw TrustBundleError.invalid("revocations list voucher \(r.voucherID) twice")
        }
        // A replaced voucher is an older, revoked one, replaced by exactly one roster entry.
        var replaced = Set<UInt64>()
        for r in roster {
            let chain = r.replaces ?? []
            guard chain.count <= 100 else { throw TrustBundleError.invalid("voucher \(r.voucherID) replaces more than 100 vouchers") }
            for old in chain {
                guard old < r.voucherID, revoked.contains(old), !vouchers.contains(old), replaced.insert(old).inserted else {
                    throw TrustBundleError.invalid("voucher \(r.voucherID) replaces \(old), which is not an older revoked voucher of its own")
                }
            }
        }
    }
}

/// The status of a voucher signing key.
public enum KeyStatus: String, Codable, Sendable {
    /// Signs new vouchers.
    case active
    /// No longer signs; its vouchers stay valid until its window closes.
    case retired
    /// Compromised: nothing it signed is accepted.
    case revoked
}

/// A voucher signing key as the site sees it.
public struct SigningKeyEntry: Codable, Sendable, Equatable {
    /// First 4 bytes of SHA-256 of the raw public key.
    public var kid: KeyID
    /// Base64 of the raw 32-byte Ed25519 public key.
    public var publicKey: String
    /// First local day a voucher signed by this key may be used.
    public var validFrom: ClassDay
    /// Last local day, inclusive; nil while open.
    public var validTo: ClassDay?
    /// Active, retired or revoked.
    public var status: KeyStatus

    /// Builds an entry.
    public init(kid: KeyID, publicKey: String, validFrom: ClassDay, validTo: ClassDay?, status: KeyStatus) {
        self.kid = kid
        self.publicKey = publicKey
        self.validFrom = validFrom
        self.validTo = validTo
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case kid
        case publicKey = "public_key"
        case validFrom = "valid_from"
        case validTo = "valid_to"
        case status
    }

    /// The raw public key, or nil when the base64 is bad.
    public var rawPublicKey: [UInt8]? { Base64.decode(publicKey) }

    /// Whether vouchers signed by this key are accepted on a day.
    public func isValid(on day: ClassDay) -> Bool {
        status != .revoked && day >= validFrom && (validTo.map { day <= $0 } ?? true)
    }
}

/// A voucher the county withdrew.
public struct Revocation: Codable, Sendable, Equatable {
    /// The withdrawn voucher.
    public var voucherID: UInt64
    /// When the county withdrew it.
    public var revokedAt: Timestamp
    /// Why, in the officer's words (e.g. "reissued", "trainee left").
    public var reason: String

    /// Builds a revocation.
    public init(voucherID: UInt64, revokedAt: Timestamp, reason: String) {
        self.voucherID = voucherID
        self.revokedAt = revokedAt
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case voucherID = "voucher_id"
        case revokedAt = "revoked_at"
        case reason
    }
}

/// A training class (培训班) as the site needs it.
public struct ClassInfo: Codable, Sendable, Equatable {
    /// The county's class number.
    public var id: UInt32
    /// Display name.
    public var name: String
    /// Occupation code.
    public var trade: OccupationCode
    /// Skill level 0...5.
    public var level: UInt8
    /// Where the class is held (fixed in the training agreement).
    public var location: String
    /// First local day of training.
    public var startDate: ClassDay
    /// Last local day of training, inclusive.
    public var endDate: ClassDay
    /// Daily session windows, local time.
    public var sessions: [SessionWindow]
    /// Scan rules for this class.
    public var rules: AttendanceRules
    /// The subsidy programme it is funded under (`universal`, `enterprise_staff`, …), when the
    /// county set one; absent in bundles made before claims existed.
    public var program: String?
    /// The subsidy policy it is claimed under (`shanxi-2023`, …), when the county set one.
    public var policy: String?

    /// Builds a class.
    public init(
        id: UInt32, name: String, trade: OccupationCode, level: UInt8, location: String, startDate: ClassDay,
        endDate: ClassDay, sessions: [SessionWindow], rules: AttendanceRules = AttendanceRules(),
        program: String? = nil, policy: String? = nil
    ) {
        self.id = id
        self.name = name
        self.trade = trade
        self.level = level
        self.location = location
        self.startDate = startDate
        self.endDate = endDate
        self.sessions = sessions
        self.rules = rules
        self.program = program
        self.policy = policy
    }

    enum CodingKeys: String, CodingKey {
        case id, name, trade, level, location
        case startDate = "start_date"
        case endDate = "end_date"
        case sessions, rules, program, policy
    }
}

/// One daily session, `08:30-11:30` local time.
public struct SessionWindow: Codable, Sendable, Equatable, CustomStringConvertible {
    /// When teaching starts.
    public var start: LocalTime
    /// When teaching ends.
    public var end: LocalTime

    /// Builds a window.
    public init(start: LocalTime, end: LocalTime) {
        self.start = start
        self.end = end
    }

    /// Parses `08:30-11:30`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let s = LocalTime(String(parts[0])), let e = LocalTime(String(parts[1])), s < e
        else { return nil }
        self.init(start: s, end: e)
    }

    /// Parses `08:30-11:30,14:00-17:00`; nil when any part is bad or windows overlap.
    public static func parseList(_ text: String) -> [SessionWindow]? {
        let parts = text.split(separator: ",").map { String($0).trimmingWhitespace() }
        guard !parts.isEmpty else { return nil }
        var out: [SessionWindow] = []
        for p in parts {
            guard let w = SessionWindow(p) else { return nil }
            if let last = out.last, w.start < last.end { return nil }
            out.append(w)
        }
        return out
    }

    /// `08:30-11:30`.
    public var description: String { "\(start)-\(end)" }
}

/// A trainee on the site's roster. Never the full ID number.
public struct RosterEntry: Codable, Sendable, Equatable {
    /// The trainee's voucher.
    public var voucherID: UInt64
    /// The class the voucher is for.
    public var classID: UInt32
    /// Name as on the roster.
    public var name: String
    /// Masked ID number, `1401**********1234`.
    public var idMasked: String
    /// Target group (e.g. 农村转移劳动力), if given.
    public var category: String?
    /// The earlier vouchers of the same person in the class, newest first, when this one was
    /// reissued (`fieldkit-county voucher reissue`): their attendance is this trainee's. Absent in
    /// bundles before reissue existed; sites that do not know the field ignore it.
    public var replaces: [UInt64]?

    /// Builds an entry.
    public init(voucherID: UInt64, classID: UInt32, name: String, idMasked: String, category: String?, replaces: [UInt64]? = nil) {
        self.voucherID = voucherID
        self.classID = classID
        self.name = name
        self.idMasked = idMasked
        self.category = category
        self.replaces = replaces
    }

    enum CodingKeys: String, CodingKey {
        case voucherID = "voucher_id"
        case classID = "class_id"
        case name
        case idMasked = "id_masked"
        case category
        case replaces
    }
}

extension ClassInfo {
    /// When the class's last session on its last day ends (the end of that day when it has no
    /// sessions): before it, a claim is only a preview.
    public func ends(utcOffset: Int = UTCOffset.china) -> Timestamp {
        guard let last = sessions.map(\.end).max() else { return endDate.adding(days: 1).at(LocalTime(minuteOfDay: 0), utcOffset: utcOffset) }
        return endDate.at(last, utcOffset: utcOffset)
    }
}
