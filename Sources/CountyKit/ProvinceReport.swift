import FieldKitCore
import FieldKitSQLite
import FoundationEssentials

/// One county's figures for the province (`fieldkit-county province report`), read from its
/// records alone: no keys are needed, so the province reads a county's database (or a copy).
public struct CountyRollup: Sendable, Equatable, Encodable {
    /// The county code.
    public var county: String
    /// The province it joined and the key's fingerprint; nil when it has not joined.
    public var membership: ProvinceMembership?
    /// Classes (starting in the year, when one is asked for).
    public var classes: Int
    /// People holding a voucher in those classes (test vouchers left out): distinct by the
    /// county's own pseudonym, so a reissued voucher is one person.
    public var trainees: Int
    /// Trainee-days with a counted sign-in: a scan or manual entry the county did not hold
    /// apart, one per person and class day.
    public var days: Int
    /// Claims recorded (of the year).
    public var claims: Int
    /// What they claim, in fen.
    public var claimedFen: Int64
    /// What of it is paid, in fen.
    public var paidFen: Int64
    /// What of it is written off (核销), in fen.
    public var writtenOffFen: Int64
    /// Attendance events held apart (never paid).
    public var heldApart: Int
    /// Vouchers signed in at two sites at overlapping times.
    public var siteConflicts: Int
    /// Vouchers with no province pseudonym (issued before the county joined): their holders'
    /// claims cannot be compared across counties until `province link`.
    public var unlinkedVouchers: Int
    /// Claims of this county found repeated in another county (filled by the report).
    public var repeatedClaims: Int = 0

    enum CodingKeys: String, CodingKey {
        case county, membership, classes, trainees, days, claims
        case claimedFen = "claimed_fen", paidFen = "paid_fen", writtenOffFen = "written_off_fen"
        case heldApart = "held_apart", siteConflicts = "site_conflicts", unlinkedVouchers = "unlinked_vouchers"
        case repeatedClaims = "repeated_claims"
    }
}

/// A claim with its holder's province pseudonym, as the province compares them.
public struct ProvinceClaim: Sendable, Equatable, Encodable {
    /// The county that recorded it.
    public var county: String
    /// The holder's province pseudonym.
    public var provinceRef: Int64
    /// The voucher and class.
    public var voucherID: UInt64, classID: UInt32
    /// The holder's name and masked ID number, as the county issued the voucher.
    public var name: String, idMasked: String
    /// What was paid for: trade (d-dd-dd-dd), level, year, `training` or a certificate.
    public var trade: String, level: Int, year: Int, paysFor: String
    /// The amount, in fen.
    public var amountFen: Int64
    /// `claimed`, `paid` or `written_off`.
    public var state: String

    enum CodingKeys: String, CodingKey {
        case county, provinceRef = "province_ref", voucherID = "voucher_id", classID = "class_id", name
        case idMasked = "id_masked", trade, level, year, paysFor = "pays_for", amountFen = "amount_fen", state
    }
}

/// The same person's claims in two or more counties where the province's rules allow one.
public struct ProvinceRepeat: Sendable, Equatable, Encodable {
    /// Which rule: `same_trade_level_year` (training: same occupation, level and year, 晋人社
    /// 2023 §四(一), 2024) or `certificate_level` (a certificate level is paid once, §五).
    public var rule: String
    /// The claims, by county then voucher.
    public var claims: [ProvinceClaim]
    /// The counties involved, in order.
    public var counties: [String] { Array(Set(claims.map(\.county))).sorted() }
}

/// The province's roll-up: per county classes, trainees, days, amounts and flags, and the
/// repeat claims across counties that no single county can see.
public struct ProvinceReport: Sendable, Encodable {
    /// The province code the counties joined (the most common one), or nil.
    public var province: String?
    /// The key fingerprint the comparison used.
    public var fingerprint: String?
    /// The year asked for, or nil for every year.
    public var year: Int?
    /// Per county, by code.
    public var counties: [CountyRollup]
    /// Repeats across counties.
    public var repeats: [ProvinceRepeat]
    /// Counties whose pseudonyms could not be compared (not joined, or joined with another
    /// key): their claims are in the figures but not in the search for repeats.
    public var notCompared: [String]

    /// Sums over every county.
    public var total: CountyRollup {
        counties.reduce(
            into: CountyRollup(
                county: "", classes: 0, trainees: 0, days: 0, claims: 0, claimedFen: 0, paidFen: 0, writtenOffFen: 0, heldApart: 0,
                siteConflicts: 0, unlinkedVouchers: 0)
        ) { t, c in
            t.classes += c.classes
            t.trainees += c.trainees
            t.days += c.days
            t.claims += c.claims
            t.claimedFen += c.claimedFen
            t.paidFen += c.paidFen
            t.writtenOffFen += c.writtenOffFen
            t.heldApart += c.heldApart
            t.siteConflicts += c.siteConflicts
            t.unlinkedVouchers += c.unlinkedVouchers
            t.repeatedClaims += c.repeatedClaims
        }
    }

    /// Puts the counties' facts together. Pseudonyms are compared only between counties that
    /// joined with the same key (the one most counties hold); a repeat needs claims in at
    /// least two counties (inside one county the claim rules already refuse it). With a year,
    /// figures are the year's and a repeat is listed when one of its claims is of that year.
    public init(facts: [(CountyRollup, [ProvinceClaim])], year: Int?) {
        let byCounty = facts.sorted { $0.0.county < $1.0.county }
        var keys: [String: Int] = [:]
        for (c, _) in byCounty { if let m = c.membership { keys[m.fingerprint, default: 0] += 1 } }
        let key = keys.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        let compared = byCounty.filter { $0.0.membership?.fingerprint == key && key != nil }
        self.fingerprint = key
        self.province = compared.first?.0.membership?.province
        self.year = year
        self.notCompared = byCounty.map(\.0.county).filter { c in !compared.contains { $0.0.county == c } }

        var groups: [String: [ProvinceClaim]] = [:]
        for claim in compared.flatMap(\.1) {
            let group: String
            switch claim.paysFor {
            case "training": group = "same_trade_level_year|\(claim.provinceRef)|\(claim.trade)|\(claim.level)|\(claim.year)"
            case "special_certificate": group = "certificate_level|\(claim.provinceRef)|special|\(claim.trade)|\(claim.level)"
            default: group = "certificate_level|\(claim.provinceRef)|\(claim.paysFor)|\(claim.level)"
            }
            groups[group, default: []].append(claim)
        }
        repeats = groups.compactMap { key, claims -> ProvinceRepeat? in
            guard Set(claims.map(\.county)).count >= 2 else { return nil }
            if let year, !claims.contains(where: { $0.year == year }) { return nil }
            let rule = String(key.prefix { $0 != "|" })
            return ProvinceRepeat(rule: rule, claims: claims.sorted { ($0.county, $0.voucherID) < ($1.county, $1.voucherID) })
        }.sorted { ($0.claims[0].county, $0.claims[0].voucherID, $0.rule) < ($1.claims[0].county, $1.claims[0].voucherID, $1.rule) }

        var repeated: [String: Set<UInt64>] = [:]
        for r in repeats { for c in r.claims { repeated[c.county, default: []].insert(c.voucherID) } }
        counties = byCounty.map { c, _ in
            var c = c
            c.repeatedClaims = repeated[c.county]?.count ?? 0
            return c
        }
    }

    enum CodingKeys: String, CodingKey {
        case province, fingerprint, year, counties, total, repeats, notCompared = "not_compared"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(province, forKey: .province)
        try c.encode(fingerprint, forKey: .fingerprint)
        try c.encode(year, forKey: .year)
        try c.encode(counties, forKey: .counties)
        var total = self.total
        total.county = "total"
        try c.encode(total, forKey: .total)
        try c.encode(repeats.map(RepeatJSON.init), forKey: .repeats)
        try c.encode(notCompared, forKey: .notCompared)
    }

    /// A repeat as JSON: its rule, counties and claims.
    struct RepeatJSON: Encodable {
        var rule: String
        var counties: [String]
        var claims: [ProvinceClaim]
        init(_ r: ProvinceRepeat) { (rule, counties, claims) = (r.rule, r.counties, r.claims) }
    }
}

extension CountyOffice {
    /// This county's facts for the province report.
    public func provinceFacts(year: Int?) throws -> (CountyRollup, [ProvinceClaim]) {
        try CountyOffice.provinceFacts(db, year: year)
    }

    /// A county's facts for the province report, read from its database file (or a copy of
    /// it) without its keys. The file is opened read-only.
    /// - Throws: ``CountyError/notInitialized(_:)`` when it is not a county database.
    public static func provinceFacts(databaseFile path: String, year: Int?) throws -> (CountyRollup, [ProvinceClaim]) {
        guard Files.exists(path) else { throw CountyError.notInitialized(path) }
        let db = try Database(path: path, readOnly: true)
        let version = Int(try db.first("PRAGMA user_version", [], { $0.int64(0) }) ?? 0)
        guard version <= CountySchema.migrations.count else {
            throw SchemaTooNew(path: path, fileVersion: version, knownVersion: CountySchema.migrations.count)
        }
        guard version == CountySchema.migrations.count else { throw ProvinceError.olderDatabase(path) }
        return try provinceFacts(db, year: year)
    }

    static func provinceFacts(_ db: Database, year: Int?) throws -> (CountyRollup, [ProvinceClaim]) {
        func one(_ sql: String, _ values: [SQLValue]) throws -> Int64 { try db.first(sql, values, { $0.int64(0) }) ?? 0 }
        func setting(_ key: String) throws -> String? {
            try db.first("SELECT value FROM settings WHERE key = ?", [.text(key)], { $0.text(0) }) ?? nil
        }
        guard let county = try setting("county_id") else { throw CountyError.notInitialized("county database") }
        var membership: ProvinceMembership?
        if let p = try setting("province_id"), let f = try setting("province_key_fingerprint") {
            membership = ProvinceMembership(province: p, fingerprint: f)
        }
        // A year bounds classes by their first day, events by their class day, claims by their year.
        var classIn = "", dayIn = "", claimIn = ""
        var classYear: [SQLValue] = [], dayYear: [SQLValue] = [], claimYear: [SQLValue] = []
        if let year, let first = ClassDay(year: year, month: 1, day: 1), let last = ClassDay(year: year, month: 12, day: 31) {
            classIn = " AND c.start_day BETWEEN ? AND ?"
            classYear = [.integer(Int64(first.number)), .integer(Int64(last.number))]
            dayIn = " AND e.class_day BETWEEN ? AND ?"
            dayYear = [.text(first.description), .text(last.description)]
            claimIn = " AND k.year = ?"
            claimYear = [.integer(Int64(year))]
        }
        let live = "(v.flags & \(VoucherBody.testFlag)) = 0"
        var rollup = CountyRollup(
            county: county, membership: membership,
            classes: Int(try one("SELECT count(*) FROM classes c WHERE 1 = 1\(classIn)", classYear)),
            trainees: Int(
                try one(
                    "SELECT count(DISTINCT v.trainee_ref) FROM vouchers v JOIN classes c ON c.id = v.class_id WHERE \(live)\(classIn)",
                    classYear)),
            days: Int(
                try one(
                    """
                    SELECT count(*) FROM (SELECT DISTINCT v.trainee_ref, e.class_id, e.class_day
                        FROM events e JOIN vouchers v ON v.id = e.voucher_id
                        WHERE e.kind IN ('scan', 'manual') AND e.direction = 'in' AND e.quarantine IS NULL AND \(live)\(dayIn)) d
                    """, dayYear)),
            claims: 0, claimedFen: 0, paidFen: 0, writtenOffFen: 0,
            heldApart: Int(try one("SELECT count(*) FROM events e WHERE e.quarantine IS NOT NULL\(dayIn)", dayYear)),
            siteConflicts: Int(
                try one(
                    "SELECT count(*) FROM conflicts e WHERE 1 = 1\(dayIn)",
                    dayYear)),
            unlinkedVouchers: Int(
                try one(
                    """
                    SELECT count(*) FROM vouchers v JOIN classes c ON c.id = v.class_id
                    WHERE \(live)\(classIn) AND NOT EXISTS (SELECT 1 FROM province_refs p WHERE p.voucher_id = v.id)
                    """, classYear)))
        if let sums = try db.first(
            """
            SELECT count(*), CAST(coalesce(sum(k.amount_fen), 0) AS BIGINT),
                   CAST(coalesce(sum(CASE WHEN k.paid_ms IS NOT NULL THEN k.amount_fen ELSE 0 END), 0) AS BIGINT),
                   CAST(coalesce(sum(CASE WHEN k.written_off_ms IS NOT NULL THEN k.amount_fen ELSE 0 END), 0) AS BIGINT)
            FROM claims k WHERE 1 = 1\(claimIn)
            """, claimYear, { ($0.int64(0), $0.int64(1), $0.int64(2), $0.int64(3)) })
        {
            (rollup.claims, rollup.claimedFen, rollup.paidFen, rollup.writtenOffFen) = (Int(sums.0), sums.1, sums.2, sums.3)
        }
        // Every year's claims: a certificate level is paid once in a lifetime.
        let claims = try db.query(
            """
            SELECT p.province_ref, k.voucher_id, k.class_id, v.name, v.id_masked, k.trade, k.level, k.year, k.pays_for,
                   k.amount_fen, k.paid_ms, k.written_off_ms
            FROM claims k JOIN vouchers v ON v.id = k.voucher_id JOIN province_refs p ON p.voucher_id = k.voucher_id
            ORDER BY k.voucher_id
            """, []
        ) { r in
            ProvinceClaim(
                county: county, provinceRef: r.int64(0), voucherID: UInt64(bitPattern: r.int64(1)),
                classID: UInt32(truncatingIfNeeded: r.int64(2)), name: r.text(3) ?? "", idMasked: r.text(4) ?? "",
                trade: r.text(5) ?? "", level: Int(r.int64(6)), year: Int(r.int64(7)), paysFor: r.text(8) ?? "training",
                amountFen: r.int64(9), state: r.isNull(11) ? (r.isNull(10) ? "claimed" : "paid") : "written_off")
        }
        return (rollup, claims)
    }
}
