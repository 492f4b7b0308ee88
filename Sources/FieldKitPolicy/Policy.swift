import FieldKitCore
import FoundationEssentials

/// A subsidy policy, read from a file in `Assets/policies/` (or any file of the same form): the
/// document it encodes, how attendance counts, the programmes with their rules, the trainee
/// categories, and the limits across claims. A new county's policy is a new file, not new code.
public struct Policy: Sendable, Decodable {
    /// `gu-county-2023`.
    public var id: String
    /// The document's title.
    public var title: String
    /// Its number, `古人社发〔2023〕21号`.
    public var document: String
    /// Where it applies.
    public var region: String
    /// How attendance becomes days and class hours.
    public var settings: AttendanceSettings
    /// Limits across claims.
    public var limits: Limits
    /// Trainee categories: an id, its name, and the words a roster uses for it.
    public var categories: [Category]
    /// The programmes, in the file's order.
    public var programs: [Program]
    /// When the document applies: classes must lie inside it (or be claimed with an explicit
    /// override that the sheet names).
    public var effective: Effective?
    /// When subsidies of a year must be claimed and paid by (晋 六: 次年3月底), shown on the sheet.
    public var claimDeadline: ClaimDeadline?

    enum CodingKeys: String, CodingKey {
        case id, title, document, region, settings, limits, categories, programs, effective
        case claimDeadline = "claim_deadline"
    }

    /// The dates a document (or one programme of it) applies, both included; nil ends are open.
    public struct Effective: Sendable, Decodable, Equatable {
        /// The first day, `YYYY-MM-DD`.
        public var from: String?
        /// The last day.
        public var to: String?
        /// Where the document says so.
        public var clause: String

        /// The first day.
        public var fromDay: ClassDay? { from.flatMap { ClassDay(iso: $0) } }
        /// The last day.
        public var toDay: ClassDay? { to.flatMap { ClassDay(iso: $0) } }

        /// Whether a class from `start` to `end` lies inside.
        public func contains(_ start: ClassDay, _ end: ClassDay) -> Bool {
            (fromDay.map { start >= $0 } ?? true) && (toDay.map { end <= $0 } ?? true)
        }

        /// `2019-08-30 – 2021-12-31`, open ends as `…`.
        public var description: String { "\(from ?? "…") – \(to ?? "…")" }
    }

    /// A deadline in the year after the class ends: `{"month": 3, "day": 31}`.
    public struct ClaimDeadline: Sendable, Decodable, Equatable {
        /// Month of the next year.
        public var month: Int
        /// Day of that month.
        public var day: Int
        /// The clause.
        public var clause: String

        /// The deadline for a class that ends on `end`.
        public func date(after end: ClassDay) -> ClassDay? {
            let y = end.components.year + 1
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            return ClassDay(iso: "\(y)-\(two(month))-\(two(day))")
        }
    }

    /// Limits across claims (per person, by the county's pseudonym).
    public struct Limits: Sendable, Decodable {
        /// Training subsidies for the same trade and level: never twice in a year (`year`),
        /// never twice at all (`ever`), or no such limit (nil). Certificate subsidies have their
        /// own rules (``Rule/ByLevel``) and are not blocked by a training subsidy.
        public var sameTradeLevel: Scope?
        /// At most this many subsidies per person per year.
        public var perPersonPerYear: Int?
        /// The clause.
        public var clause: String

        /// How far a repeat reaches.
        public enum Scope: String, Sendable, Decodable {
            /// The same calendar year (of the class's last day).
            case year
            /// Any year.
            case ever
        }

        enum CodingKeys: String, CodingKey {
            case sameTradeLevel = "same_trade_level"
            case sameTradeLevelYear = "same_trade_level_year"
            case perPersonPerYear = "per_person_per_year"
            case clause
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if c.contains(.sameTradeLevel) {
                sameTradeLevel = try c.decodeIfPresent(Scope.self, forKey: .sameTradeLevel)
            } else {
                // The first form of the files: a yes/no for "the same year".
                sameTradeLevel = try c.decodeIfPresent(Bool.self, forKey: .sameTradeLevelYear) == true ? .year : nil
            }
            perPersonPerYear = try c.decodeIfPresent(Int.self, forKey: .perPersonPerYear)
            clause = try c.decode(String.self, forKey: .clause)
        }
    }

    /// A trainee category (贫困劳动力, 失业人员, …).
    public struct Category: Sendable, Decodable {
        /// `poor_labour`.
        public var id: String
        /// Its name.
        public var name: String
        /// Roster words that mean it.
        public var words: [String]
    }

    /// A programme (订单式、项目制培训, 普惠制培训, …) and its rules, whose amounts add up.
    public struct Program: Sendable, Decodable {
        /// `order_project`.
        public var id: String
        /// Its name, Chinese.
        public var name: String
        /// Its name, English.
        public var nameEn: String
        /// The rules.
        public var rules: [Rule]
        /// What it pays for: training (needs recorded attendance: 不录不补) or a certificate.
        public var paysFor: PaysFor
        /// The clause that asks for classroom video of the whole training, when one does:
        /// sessions no recording covers are then held apart (`video_gap`).
        public var videoRequired: String?
        /// When this programme applies, if narrower than the document.
        public var effective: Effective?

        /// What a programme pays for.
        public enum PaysFor: String, Sendable, Decodable {
            /// Training: only recorded attendance is paid.
            case training
            /// A skill certificate (取证补贴): paid for the certificate, not for attendance.
            case certificate
            /// A special-operations certificate (特种作业操作证).
            case specialCertificate = "special_certificate"
        }

        enum CodingKeys: String, CodingKey {
            case id, name, rules, effective
            case nameEn = "name_en"
            case paysFor = "pays_for"
            case videoRequired = "video_required"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            name = try c.decode(String.self, forKey: .name)
            nameEn = try c.decode(String.self, forKey: .nameEn)
            rules = try c.decode([Rule].self, forKey: .rules)
            paysFor = try c.decodeIfPresent(PaysFor.self, forKey: .paysFor) ?? .training
            videoRequired = try c.decodeIfPresent(String.self, forKey: .videoRequired)
            effective = try c.decodeIfPresent(Effective.self, forKey: .effective)
        }

        /// The name in a language.
        public func name(_ t: Localizer) -> String { t.language == .en ? nameEn : name }
    }

    /// The programme by id.
    public func program(_ id: String) -> Program? { programs.first { $0.id == id } }

    /// The categories a roster's words name (`失业人员;脱贫劳动力`).
    public func categories(from words: String?) -> Set<String> {
        guard let words else { return [] }
        let given = Set(words.split(whereSeparator: { ";；,，、/ ".contains($0) }).map { String($0).trimmingWhitespace() })
        return Set(categories.filter { c in c.words.contains(where: given.contains) || given.contains(c.id) }.map(\.id))
    }
}

/// One rule of a programme.
public enum Rule: Sendable, Decodable {
    /// So much a day for the first days, less after, up to a cap; perhaps only when enough
    /// trainees found work, otherwise another programme.
    case tieredPerDay(TieredPerDay)
    /// So much a day up to a cap, which approved extra days may raise.
    case perDay(PerDay)
    /// A flat amount for whoever attended enough days or class hours.
    case flat(Flat)
    /// So much a class hour (by level), up to a cap, perhaps scaled by the share going on offline.
    case perHour(PerHour)
    /// An amount by skill level (certificates), perhaps raised for some categories.
    case byLevel(ByLevel)
    /// A living allowance a day for some categories.
    case livingAllowance(LivingAllowance)
    /// The amount of the subsidy catalogue (目录) for the trade, given with the claim.
    case catalogue(Catalogue)

    /// The clause the rule encodes.
    public var clause: String {
        switch self {
        case .tieredPerDay(let r): r.clause
        case .perDay(let r): r.clause
        case .flat(let r): r.clause
        case .perHour(let r): r.clause
        case .byLevel(let r): r.clause
        case .livingAllowance(let r): r.clause
        case .catalogue(let r): r.clause
        }
    }

    /// `tiered_per_day`: `tiers` [{`days`, `per_day`}] (the last without `days`), `cap`, and
    /// perhaps `employment_rate_min_percent` with `otherwise` (a programme id).
    public struct TieredPerDay: Sendable, Decodable {
        public var clause: String
        public var tiers: [Tier]
        public var cap: Double
        public var employmentRateMinPercent: Int?
        public var otherwise: String?

        public struct Tier: Sendable, Decodable {
            public var days: Int?
            public var perDay: Double
            enum CodingKeys: String, CodingKey {
                case days
                case perDay = "per_day"
            }
        }

        enum CodingKeys: String, CodingKey {
            case clause, tiers, cap, otherwise
            case employmentRateMinPercent = "employment_rate_min_percent"
        }
    }

    /// `per_day`: `per_day`, `cap`, `extra_days_max`.
    public struct PerDay: Sendable, Decodable {
        public var clause: String
        public var perDay: Double
        public var cap: Double
        public var extraDaysMax: Int?
        enum CodingKeys: String, CodingKey {
            case clause, cap
            case perDay = "per_day"
            case extraDaysMax = "extra_days_max"
        }
    }

    /// `flat`: `amount`, `min_days`, `min_hours` (either suffices).
    public struct Flat: Sendable, Decodable {
        public var clause: String
        public var amount: Double
        public var minDays: Int?
        public var minHours: Int?
        enum CodingKeys: String, CodingKey {
            case clause, amount
            case minDays = "min_days"
            case minHours = "min_hours"
        }
    }

    /// `per_hour`: `per_hour` and `cap` by level (`"5"`: junior … or `"*"`), `requires_certificate`,
    /// `offline_share_scale` [{`below_percent`, `percent`}].
    public struct PerHour: Sendable, Decodable {
        public var clause: String
        public var perHour: [String: Double]
        public var cap: [String: Double]
        public var requiresCertificate: Bool?
        public var offlineShareScale: [Step]?

        public struct Step: Sendable, Decodable {
            public var belowPercent: Int?
            public var percent: Int
            enum CodingKeys: String, CodingKey {
                case percent
                case belowPercent = "below_percent"
            }
        }

        enum CodingKeys: String, CodingKey {
            case clause, cap
            case perHour = "per_hour"
            case requiresCertificate = "requires_certificate"
            case offlineShareScale = "offline_share_scale"
        }
    }

    /// `by_level`: `amounts` by level, `requires_certificate`, `uplift_percent` by category;
    /// for certificate subsidies `once_per_level` (a level is paid once in a lifetime) and
    /// `first_certificate_levels` (levels paid only for a first certificate).
    public struct ByLevel: Sendable, Decodable {
        public var clause: String
        public var amounts: [String: Double]
        public var requiresCertificate: Bool?
        public var upliftPercent: [String: Int]?
        public var oncePerLevel: Bool?
        public var firstCertificateLevels: [String]?
        enum CodingKeys: String, CodingKey {
            case clause, amounts
            case requiresCertificate = "requires_certificate"
            case upliftPercent = "uplift_percent"
            case oncePerLevel = "once_per_level"
            case firstCertificateLevels = "first_certificate_levels"
        }
    }

    /// `living_allowance`: `per_day` for `categories`.
    public struct LivingAllowance: Sendable, Decodable {
        public var clause: String
        public var perDay: Double
        public var categories: [String]
        enum CodingKeys: String, CodingKey {
            case clause, categories
            case perDay = "per_day"
        }
    }

    /// `catalogue`: the catalogue amount given with the claim, `requires_certificate`,
    /// `uplift_percent` by category (衡 六(二): 目录规定的补贴标准上浮70%/50%).
    public struct Catalogue: Sendable, Decodable {
        public var clause: String
        public var requiresCertificate: Bool?
        public var upliftPercent: [String: Int]?
        enum CodingKeys: String, CodingKey {
            case clause
            case requiresCertificate = "requires_certificate"
            case upliftPercent = "uplift_percent"
        }
    }

    enum CodingKeys: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .kind)
        switch kind {
        case "tiered_per_day": self = .tieredPerDay(try TieredPerDay(from: decoder))
        case "per_day": self = .perDay(try PerDay(from: decoder))
        case "flat": self = .flat(try Flat(from: decoder))
        case "per_hour": self = .perHour(try PerHour(from: decoder))
        case "by_level": self = .byLevel(try ByLevel(from: decoder))
        case "living_allowance": self = .livingAllowance(try LivingAllowance(from: decoder))
        case "catalogue": self = .catalogue(try Catalogue(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath + [CodingKeys.kind],
                debugDescription: "unknown rule kind \"\(kind)\" (known: tiered_per_day, per_day, flat, per_hour, by_level, living_allowance, catalogue)"))
        }
    }
}

/// A policy file that cannot be used: the file, the field, and why.
public struct PolicyError: Error, Equatable, LocalizedFailure {
    /// The file or built-in id.
    public var source: String
    /// The field's path, `programs[1].rules[0].cap`.
    public var field: String
    /// Why.
    public var reason: String

    public var words: (key: String, values: [String: String]) {
        field.isEmpty
            ? ("error.policy.unknown", ["policy": source, "known": reason])
            : ("error.policy.field", ["source": source, "field": field, "reason": reason])
    }
}

extension Policy {
    /// The policy ids built into the binary.
    public static var builtInIDs: [String] { builtInPolicies.map(\.id) }

    /// A built-in policy by id.
    public static func builtIn(_ id: String) -> Policy? {
        builtInPolicies.first { $0.id == id }.flatMap { try? Policy(bytes: Array($0.json.utf8), source: $0.id) }
    }

    /// A built-in id, or the path of a policy file.
    /// - Throws: ``PolicyError``, naming the field that is wrong, or the ids there are.
    public static func resolve(_ idOrPath: String) throws -> Policy {
        if let p = builtIn(idOrPath) { return p }
        guard idOrPath.contains("/") || idOrPath.hasSuffix(".json") else {
            throw PolicyError(source: idOrPath, field: "", reason: builtInIDs.joined(separator: ", "))
        }
        return try load(path: idOrPath)
    }

    /// Reads a policy file.
    public static func load(path: String) throws -> Policy {
        let bytes: [UInt8]
        do { bytes = try readWhole(path) } catch { throw PolicyError(source: path, field: "(file)", reason: "\(error)") }
        return try Policy(bytes: bytes, source: path)
    }

    /// A policy from the bytes of its file, checked.
    public init(bytes: [UInt8], source: String) throws {
        do {
            self = try JSONDecoder().decode(Policy.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, context) {
            throw PolicyError(source: source, field: Policy.path(context.codingPath + [key]), reason: "missing")
        } catch let DecodingError.typeMismatch(type, context) {
            throw PolicyError(source: source, field: Policy.path(context.codingPath), reason: "must be \(Policy.typeName(type))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw PolicyError(source: source, field: Policy.path(context.codingPath), reason: "must be \(Policy.typeName(type)), not null")
        } catch let DecodingError.dataCorrupted(context) {
            let field = Policy.path(context.codingPath)
            throw PolicyError(source: source, field: field.isEmpty ? "(file)" : field, reason: context.debugDescription)
        } catch {
            throw PolicyError(source: source, field: "(file)", reason: "not JSON")
        }
        try check(source: source)
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for k in keys {
            if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
        }
        return out
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int.Type: "a number"
        case is String.Type: "text"
        case is Bool.Type: "true or false"
        default: "\(type)".lowercased().contains("array") ? "a list" : "an object"
        }
    }

    /// The largest amount a policy may name, in yuan: every product of an amount with days or
    /// class hours then fits in ``Money``.
    public static let largestYuan: Double = 1_000_000

    /// What JSON cannot say: amounts not negative and at most ``largestYuan``, percents and
    /// day counts in range, tiers in order, programme ids that exist.
    func check(source: String) throws {
        func fail(_ field: String, _ reason: String) -> PolicyError { PolicyError(source: source, field: field, reason: reason) }
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw fail("id", "must be letters, digits and -")
        }
        guard (1...600).contains(settings.classHourMinutes) else { throw fail("settings.class_hour_minutes", "must be 1 to 600") }
        guard (1...100).contains(settings.dayPercent) else { throw fail("settings.day_percent", "must be 1 to 100") }
        func checkEffective(_ e: Effective?, _ field: String) throws {
            guard let e else { return }
            if let f = e.from, ClassDay(iso: f) == nil { throw fail("\(field).from", "must be a date YYYY-MM-DD") }
            if let t = e.to, ClassDay(iso: t) == nil { throw fail("\(field).to", "must be a date YYYY-MM-DD") }
            if let f = e.fromDay, let t = e.toDay, t < f { throw fail("\(field).to", "must not be before from") }
        }
        try checkEffective(effective, "effective")
        if let d = claimDeadline {
            guard (1...12).contains(d.month) else { throw fail("claim_deadline.month", "must be 1 to 12") }
            guard (1...31).contains(d.day), d.date(after: ClassDay(number: 1096)) != nil else {
                throw fail("claim_deadline.day", "must be a day of that month")
            }
        }
        if let n = limits.perPersonPerYear, !(1...366).contains(n) { throw fail("limits.per_person_per_year", "must be 1 to 366") }
        let ids = Set(programs.map(\.id))
        guard ids.count == programs.count else { throw fail("programs", "two programmes have the same id") }
        let categoryIDs = Set(categories.map(\.id))
        for (p, program) in programs.enumerated() {
            guard !program.rules.isEmpty else { throw fail("programs[\(p)].rules", "must have at least one rule") }
            try checkEffective(program.effective, "programs[\(p)].effective")
            for (r, rule) in program.rules.enumerated() {
                let at = "programs[\(p)].rules[\(r)]"
                func money(_ v: Double, _ name: String) throws {
                    if v < 0 || !v.isFinite { throw fail("\(at).\(name)", "must not be negative") }
                    if v > Policy.largestYuan { throw fail("\(at).\(name)", "must be at most \(Int(Policy.largestYuan)) yuan") }
                }
                func percent(_ v: Int, _ name: String, most: Int = 1000) throws {
                    if !(0...most).contains(v) { throw fail("\(at).\(name)", "must be 0 to \(most)") }
                }
                switch rule {
                case .tieredPerDay(let t):
                    guard !t.tiers.isEmpty else { throw fail("\(at).tiers", "must have at least one tier") }
                    for (i, tier) in t.tiers.enumerated() {
                        try money(tier.perDay, "tiers[\(i)].per_day")
                        if let d = tier.days, !(1...3660).contains(d) { throw fail("\(at).tiers[\(i)].days", "must be 1 to 3660") }
                        if i < t.tiers.count - 1, (tier.days ?? 0) <= 0 { throw fail("\(at).tiers[\(i)].days", "must be more than 0 (only the last tier may leave it out)") }
                    }
                    try money(t.cap, "cap")
                    if let m = t.employmentRateMinPercent, !(0...100).contains(m) { throw fail("\(at).employment_rate_min_percent", "must be 0 to 100") }
                    if let o = t.otherwise, !ids.contains(o) || o == program.id { throw fail("\(at).otherwise", "must name another programme of this file") }
                case .perDay(let d):
                    try money(d.perDay, "per_day")
                    try money(d.cap, "cap")
                    if let m = d.extraDaysMax { try percent(m, "extra_days_max", most: 366) }
                case .flat(let f):
                    try money(f.amount, "amount")
                    if let d = f.minDays, !(1...3660).contains(d) { throw fail("\(at).min_days", "must be 1 to 3660") }
                    if let h = f.minHours, !(1...100_000).contains(h) { throw fail("\(at).min_hours", "must be 1 to 100000") }
                case .perHour(let h):
                    for (k, v) in h.perHour { try money(v, "per_hour.\(k)") }
                    for (k, v) in h.cap { try money(v, "cap.\(k)") }
                    for (i, step) in (h.offlineShareScale ?? []).enumerated() {
                        // A share scales the amount down: a percent outside 0...100 paid less than nothing.
                        try percent(step.percent, "offline_share_scale[\(i)].percent", most: 100)
                        if let b = step.belowPercent { try percent(b, "offline_share_scale[\(i)].below_percent", most: 100) }
                    }
                case .byLevel(let b):
                    for (k, v) in b.amounts { try money(v, "amounts.\(k)") }
                    // The uplift multiplies an amount in fen: bounded, it cannot overflow.
                    for (k, v) in b.upliftPercent ?? [:] { try percent(v, "uplift_percent.\(k)", most: 100) }
                    for k in (b.upliftPercent ?? [:]).keys where !categoryIDs.contains(k) { throw fail("\(at).uplift_percent.\(k)", "is not a category of this file") }
                    if (b.oncePerLevel == true || b.firstCertificateLevels != nil) && program.paysFor == .training {
                        throw fail("\(at).once_per_level", "is for certificate programmes (pays_for certificate or special_certificate)")
                    }
                case .livingAllowance(let l):
                    try money(l.perDay, "per_day")
                    for c in l.categories where !categoryIDs.contains(c) { throw fail("\(at).categories", "\(c) is not a category of this file") }
                case .catalogue(let c):
                    for (k, v) in c.upliftPercent ?? [:] { try percent(v, "uplift_percent.\(k)", most: 100) }
                    for k in (c.upliftPercent ?? [:]).keys where !categoryIDs.contains(k) { throw fail("\(at).uplift_percent.\(k)", "is not a category of this file") }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A whole small file (policy files are a few KB).
func readWhole(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "rb") else { throw PolicyReadError(why: String(cString: strerror(errno))) }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n > 0 { out += buffer[0..<n] }
        if n < buffer.count { break }
        if out.count > 4 << 20 { throw PolicyReadError(why: "larger than 4 MB") }
    }
    return out
}

struct PolicyReadError: Error, CustomStringConvertible {
    var why: String
    var description: String { why }
}

/// A class whose policy or programme cannot be found.
public enum ClassPolicyError: Error, Equatable, LocalizedFailure {
    /// The class names no policy and none was given.
    case noPolicy(classID: UInt32)
    /// The class names no programme and none was given.
    case noProgram(classID: UInt32, programs: [String])
    /// The programme is not in the policy.
    case unknownProgram(String, policy: String, programs: [String])

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .noPolicy(let c): ("usage.claims.policy", ["class": String(c)])
        case .noProgram(let c, let ps): ("usage.claims.program", ["class": String(c), "programs": ps.joined(separator: ", ")])
        case .unknownProgram(let p, let policy, let ps):
            ("usage.claims.unknown_program", ["program": p, "policy": policy, "programs": ps.joined(separator: ", ")])
        }
    }
}

extension Policy {
    /// The policy and programme a class is claimed under: the ones given, else the class's own.
    /// - Throws: ``ClassPolicyError``, ``PolicyError``.
    public static func forClass(_ info: ClassInfo, policy: String?, program: String?) throws -> (Policy, Program) {
        guard let name = policy ?? info.policy else { throw ClassPolicyError.noPolicy(classID: info.id) }
        let p = try resolve(name)
        guard let programID = program ?? info.program else {
            throw ClassPolicyError.noProgram(classID: info.id, programs: p.programs.map(\.id))
        }
        guard let def = p.program(programID) else {
            throw ClassPolicyError.unknownProgram(programID, policy: p.id, programs: p.programs.map(\.id))
        }
        return (p, def)
    }
}
