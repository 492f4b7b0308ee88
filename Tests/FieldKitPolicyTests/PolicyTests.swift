import FieldKitCore
@testable import FieldKitPolicy
import FoundationEssentials
import Testing

/// A class of two sessions a day (08:30-11:30, 14:00-17:00: 360 minutes), 2026-03-02 to 2026-06-30
/// (or from `start`, four months).
func makeClass(level: UInt8 = 4, sessions: String = "08:30-11:30,14:00-17:00", start: String = "2026-03-02", days: Int = 120) -> ClassInfo {
    let first = ClassDay(iso: start)!
    return ClassInfo(
        id: 12, name: "焊工", trade: OccupationCode("6-18-02-04")!, level: level, location: "", startDate: first,
        endDate: first.adding(days: days), sessions: SessionWindow.parseList(sessions)!)
}

/// A class inside the dates the policy (and programme) applies: 古县's plan is for 2023, 衡阳's
/// ran 2019-08-30 to 2021-12-31, 山西's certificate subsidies ended with 2023.
func classIn(_ policy: String, program: String = "", level: UInt8 = 4, sessions: String = "08:30-11:30,14:00-17:00") -> ClassInfo {
    let start = switch policy {
    case "gu-county-2023": "2023-03-06"
    case "hengyang-2019": "2020-03-02"
    default: program.contains("certificate") ? "2023-09-04" : "2026-03-02"
    }
    return makeClass(level: level, sessions: sessions, start: start, days: program.contains("certificate") ? 60 : 120)
}

func at(_ day: ClassDay, _ time: String) -> Int64 { day.at(LocalTime(time)!).milliseconds }

/// `n` full days of attendance from the class's first day; the days in `flagged` carry a flag.
func fullDays(_ n: Int, of info: ClassInfo = makeClass(), flagged: [Int: AttendanceFlag] = [:]) -> [AttendanceRecord] {
    (0..<n).flatMap { i -> [AttendanceRecord] in
        let d = info.startDate.adding(days: i)
        return info.sessions.enumerated().map { (s, w) in
            AttendanceRecord(
                day: d, sessionIndex: s, signedIn: d.at(w.start).milliseconds - 300_000, signedOut: d.at(w.end).milliseconds + 120_000,
                flags: flagged[i].map { [$0] } ?? [])
        }
    }
}

func tally(_ records: [AttendanceRecord], _ info: ClassInfo = makeClass()) -> AttendanceTally {
    AttendanceTally(records: records, of: info, settings: AttendanceSettings())
}

func policy(_ id: String) -> Policy { Policy.builtIn(id)! }

@Suite("Attendance → days and class hours")
struct TallyTests {
    let d = ClassDay(iso: "2026-03-02")!

    @Test("early sign-in and late sign-out are clipped to the window; 360 minutes is a day and 8 class hours")
    func clipping() {
        let t = tally([
            AttendanceRecord(day: d, sessionIndex: 0, signedIn: at(d, "07:50"), signedOut: at(d, "12:10")),
            AttendanceRecord(day: d, sessionIndex: 1, signedIn: at(d, "13:00"), signedOut: at(d, "17:45")),
        ])
        #expect(t.clean == .init(minutes: 360, days: 1, hours: 8))
        #expect(t.reviewItems.isEmpty && t.days == [d])
    }

    @Test("exactly 80% of the day's minutes makes a day; a minute less does not", arguments: [(288, 1), (287, 0)])
    func dayShare(minutes: Int, days: Int) {
        // Morning whole (180), afternoon from 14:00 for the rest
        let t = tally([
            AttendanceRecord(day: d, sessionIndex: 0, signedIn: at(d, "08:30"), signedOut: at(d, "11:30")),
            AttendanceRecord(day: d, sessionIndex: 1, signedIn: at(d, "14:00"), signedOut: at(d, "14:00") + Int64(minutes - 180) * 60_000),
        ])
        #expect(t.clean.minutes == minutes && t.clean.days == days)
    }

    @Test("an open sign-in counts nothing and is held for review; two pairs in one session add up")
    func openAndTwoPairs() {
        let t = tally([
            AttendanceRecord(day: d, sessionIndex: 0, signedIn: at(d, "08:30"), signedOut: at(d, "10:00")),
            AttendanceRecord(day: d, sessionIndex: 0, signedIn: at(d, "10:20"), signedOut: at(d, "11:30")),
            AttendanceRecord(day: d, sessionIndex: 1, signedIn: at(d, "14:00"), signedOut: nil),
        ])
        #expect(t.clean.minutes == 160 && t.clean.days == 0)
        #expect(t.reviewItems.map(\.flags) == [["open"]])
    }

    @Test("manual and clock-flagged sessions are counted apart; late is listed but counts")
    func flagged() {
        var records = fullDays(3, flagged: [1: .manual, 2: .late])
        records[0].flags = [.clock]  // the first morning only
        let t = tally(records)
        #expect(t.clean.days == 1 && t.withFlagged.days == 3 && t.flagged.days == 2)
        #expect(t.reviewItems.count == 5)  // clock morning, 2 manual sessions, 2 late sessions
        #expect(t.clean.hours == 3 * 360 / 45 - (360 + 180) / 45)
    }

    @Test("the flags of a day sheet or the county's events")
    func parseFlags() {
        #expect(AttendanceFlag.parse(list: "late,manual,bogus") == [.late, .manual])
        #expect(AttendanceFlag.parse(list: "") == [])
    }
}

@Suite("Subsidy policies: worked examples from the documents")
struct PolicyTests {
    struct Example: CustomTestStringConvertible, Sendable {
        var name: String
        var policy: String
        var program: String
        var days: Int
        var level: UInt8 = 4
        var rate: String? = nil
        var extraDays = 0
        var share: String? = nil
        var certificate = false
        var catalogue: Money? = nil
        var categories: Set<String> = []
        var yuan: Int64?
        var refused: RefusalCode? = nil
        var testDescription: String { name }
    }

    static let examples: [Example] = [
        // Gu County 2023, 四(一)2: 150 × first 10 days, then 100, at most 4000, if ≥ 80% found work
        Example(name: "古县 订单式 exactly 10 days at exactly 80%", policy: "gu-county-2023", program: "order_project", days: 10, rate: "4/5", yuan: 1500),
        Example(name: "古县 订单式 3 days", policy: "gu-county-2023", program: "order_project", days: 3, rate: "0.9", yuan: 450),
        Example(name: "古县 订单式 11 days", policy: "gu-county-2023", program: "order_project", days: 11, rate: "85%", yuan: 1600),
        Example(name: "古县 订单式 35 days reach the cap exactly", policy: "gu-county-2023", program: "order_project", days: 35, rate: "0.8", yuan: 4000),
        Example(name: "古县 订单式 40 days capped", policy: "gu-county-2023", program: "order_project", days: 40, rate: "0.8", yuan: 4000),
        // Below 80%: 普惠制, 100 a day, in principle ≤ 1000, up to 3 approved extra days
        Example(name: "古县 79.9% falls back to 普惠制", policy: "gu-county-2023", program: "order_project", days: 8, rate: "79.9%", yuan: 800),
        Example(name: "古县 普惠制 12 days capped at 1000", policy: "gu-county-2023", program: "order_project", days: 12, rate: "0.5", yuan: 1000),
        Example(name: "古县 普惠制 12 days, 3 extra approved", policy: "gu-county-2023", program: "universal", days: 12, extraDays: 3, yuan: 1200),
        Example(name: "古县 普惠制 14 days, 5 asked, 3 allowed", policy: "gu-county-2023", program: "universal", days: 14, extraDays: 5, yuan: 1300),
        Example(name: "古县 no employment rate given", policy: "gu-county-2023", program: "order_project", days: 10, yuan: nil, refused: .employmentRateMissing),
        Example(name: "古县 enterprise staff 3 days", policy: "gu-county-2023", program: "enterprise_staff", days: 3, yuan: 300),
        Example(name: "古县 enterprise staff 2 days", policy: "gu-county-2023", program: "enterprise_staff", days: 2, yuan: nil, refused: .notEnoughDays),
        // Shanxi 2023 (000): cap 5000; below 80% nothing
        Example(name: "山西 订单式 45 days = 5000", policy: "shanxi-2023", program: "order_project", days: 45, rate: "0.8", yuan: 5000),
        Example(name: "山西 订单式 60 days capped", policy: "shanxi-2023", program: "order_project", days: 60, rate: "1", yuan: 5000),
        Example(name: "山西 订单式 79% refused", policy: "shanxi-2023", program: "order_project", days: 10, rate: "0.79", yuan: nil, refused: .employmentRateLow),
        Example(name: "山西 apprenticeship 5000", policy: "shanxi-2023", program: "apprenticeship", days: 1, yuan: 5000),
        Example(name: "山西 certificate senior (level 3)", policy: "shanxi-2023", program: "certificate", days: 1, level: 3, certificate: true, yuan: 800),
        Example(name: "山西 certificate junior (level 5)", policy: "shanxi-2023", program: "certificate", days: 1, level: 5, certificate: true, yuan: 400),
        Example(name: "山西 certificate intermediate, none obtained", policy: "shanxi-2023", program: "certificate", days: 1, yuan: nil, refused: .notEligible),
        Example(name: "山西 special operations certificate", policy: "shanxi-2023", program: "special_certificate", days: 1, level: 0, certificate: true, yuan: 400),
        // Online: 3/4/5 a class hour by level, capped 240/280/300, scaled by the offline share
        Example(name: "山西 online junior 11 days (88 h × 3 = 264) capped at 240, ≥30% offline", policy: "shanxi-2023", program: "online", days: 11, level: 5, share: "0.3", certificate: true, yuan: 240),
        Example(name: "山西 online junior 11 days, 15% offline → 60% of 240", policy: "shanxi-2023", program: "online", days: 11, level: 5, share: "0.15", certificate: true, yuan: 144),
        Example(name: "山西 online junior 5 days (40 h) × 3", policy: "shanxi-2023", program: "online", days: 5, level: 5, share: "0.5", certificate: true, yuan: 120),
        Example(name: "山西 online senior 2 days (16 h), 9% offline → 40%", policy: "shanxi-2023", program: "online", days: 2, level: 3, share: "0.09", certificate: true, yuan: 32),
        // Hengyang 2019 (004)
        Example(name: "衡阳 safety 5 days (40 h) × 5", policy: "hengyang-2019", program: "safety", days: 5, certificate: true, yuan: 200),
        Example(name: "衡阳 safety 9 days (72 h) capped at 300", policy: "hengyang-2019", program: "safety", days: 9, certificate: true, yuan: 300),
        Example(name: "衡阳 free training + living allowance for poor labour", policy: "hengyang-2019", program: "free_training", days: 10, certificate: true, catalogue: 100_000, categories: ["poor_labour"], yuan: 1200),
        Example(name: "衡阳 free training, no allowance category", policy: "hengyang-2019", program: "free_training", days: 10, certificate: true, catalogue: 100_000, yuan: 1000),
        Example(name: "衡阳 outside the catalogue, intermediate", policy: "hengyang-2019", program: "enterprise_outside_catalogue", days: 5, certificate: true, yuan: 990),
        // 六(二): the uplift is on the catalogue standard (目录规定的补贴标准上浮), never on 550/990/1320
        Example(name: "衡阳 六(二) outside the catalogue, poor-county park: no uplift", policy: "hengyang-2019", program: "enterprise_outside_catalogue", days: 5, level: 5, certificate: true, categories: ["poor_county_park_enterprise"], yuan: 550),
        Example(name: "衡阳 六(二) in the catalogue 600, poor-county park +70% = 1020", policy: "hengyang-2019", program: "enterprise_catalogue", days: 5, certificate: true, catalogue: 60_000, categories: ["poor_county_park_enterprise"], yuan: 1020),
        Example(name: "衡阳 六(二) in the catalogue 600, industry-transfer enterprise +50% = 900", policy: "hengyang-2019", program: "enterprise_catalogue", days: 5, certificate: true, catalogue: 60_000, categories: ["transfer_enterprise"], yuan: 900),
    ]

    @Test("amounts by hand from the documents", arguments: examples)
    func workedExample(_ e: Example) throws {
        let info = classIn(e.policy, program: e.program, level: e.level)
        let result = policy(e.policy).evaluate(ClaimRequest(
            voucherID: 1, classInfo: info, program: e.program, tally: tally(fullDays(e.days, of: info), info), categories: e.categories,
            context: ClaimContext(
                employmentRate: e.rate.flatMap { Ratio(parsing: $0) }, extraApprovedDays: e.extraDays,
                offlineShare: e.share.flatMap { Ratio(parsing: $0) }, certificateObtained: e.certificate, catalogueAmount: e.catalogue)))
        #expect(result.refused == e.refused, "\(result.lines.map { $0.text(Localizer(.en)) })")
        #expect(result.amount == (e.yuan ?? 0) * 100, "\(result.lines.map { $0.text(Localizer(.en)) })")
        if e.refused == nil {
            #expect(!result.lines.isEmpty)
            #expect(result.lines.reduce(0) { $0 + $1.amount } == result.amount, "the lines add up to the amount")
        }
    }

    @Test("enterprise staff: 24 class hours suffice without 3 days; 23 do not")
    func hoursInsteadOfDays() {
        let info = makeClass(sessions: "08:00-12:00,13:00-17:00,18:00-19:00")  // 540 minutes = 12 class hours a day
        for (days, expected) in [(2, Money(30_000)), (1, 0)] {
            let r = policy("shanxi-2023").evaluate(ClaimRequest(
                voucherID: 1, classInfo: info, program: "enterprise_staff", tally: tally(fullDays(days, of: info), info)))
            #expect(r.amount == expected && r.hours == 12 * days)
            if days == 2 { #expect(r.lines[0].key == "flat_hours") }
        }
    }

    @Test("the same voucher, the same trade-level-year, or a fourth subsidy in a year: refused")
    func limits() {
        func claim(_ id: String, _ priors: [PriorClaim]) -> ClaimResult {
            let info = classIn(id)
            return policy(id).evaluate(ClaimRequest(
                voucherID: 7, classInfo: info, program: id == "hengyang-2019" ? "safety" : "order_project", tally: tally(fullDays(10, of: info), info),
                priorClaims: priors, context: ClaimContext(employmentRate: Ratio(9, 10), certificateObtained: true)))
        }
        let same = PriorClaim(voucherID: 7, program: "order_project", trade: "6-18-02-04", level: 4, year: 2023)
        #expect(claim("gu-county-2023", [same]).refused == .alreadyClaimed)
        var other = same
        other.voucherID = 3
        #expect(claim("gu-county-2023", [other]).refused == .repeatClaim)
        other.year = 2022
        #expect(claim("gu-county-2023", [other]).refused == nil, "another year")
        other.year = 2023
        other.level = 3
        #expect(claim("gu-county-2023", [other]).refused == nil, "another level")
        let three = (1...3).map { PriorClaim(voucherID: UInt64($0), program: "safety", trade: "4-0\($0)-00-00", level: 5, year: 2020) }
        #expect(claim("hengyang-2019", Array(three.prefix(2))).refused == nil)
        #expect(claim("hengyang-2019", three).refused == .yearlyLimit)
        #expect(claim("gu-county-2023", three.map { var c = $0; c.year = 2023; return c }).refused == nil, "古县 sets no yearly count")
    }

    @Test("flagged days are held back unless accepted, with a line saying so; a test voucher is never paid")
    func flaggedAttendance() {
        let gu = classIn("gu-county-2023")
        let records = fullDays(10, of: gu, flagged: [9: .manual])
        let request = ClaimRequest(
            voucherID: 1, classInfo: gu, program: "order_project", tally: tally(records, gu),
            context: ClaimContext(employmentRate: Ratio(4, 5)))
        let held = policy("gu-county-2023").evaluate(request)
        #expect(held.amount == 135_000 && held.days == 9 && held.flagged.days == 1)
        #expect(held.lines.last?.key == "flagged_held")
        var accepted = request
        accepted.context.acceptFlagged = true
        #expect(policy("gu-county-2023").evaluate(accepted).amount == 150_000)
        let test = policy("gu-county-2023").evaluate(ClaimRequest(
            voucherID: 1, classInfo: gu, program: "order_project", tally: tally(fullDays(10, of: gu, flagged: [0: .test]), gu),
            context: ClaimContext(employmentRate: Ratio(4, 5))))
        #expect(test.refused == .testVoucher && test.amount == 0)
    }

    @Test("rule lines read in Chinese and English with the clause")
    func lines() {
        let gu = classIn("gu-county-2023")
        let r = policy("gu-county-2023").evaluate(ClaimRequest(
            voucherID: 1, classInfo: gu, program: "order_project", tally: tally(fullDays(40, of: gu), gu),
            context: ClaimContext(employmentRate: Ratio(17, 20))))
        let zh = r.lines.map { $0.text(Localizer(.zhHans)) }
        #expect(zh == [
            "就业率 85%，达到 80%（四(一)2）", "10 天 × 150.00 元 = 1500.00 元（四(一)2）", "30 天 × 100.00 元 = 3000.00 元（四(一)2）",
            "最高 4000.00 元，核减 500.00 元（四(一)2）",
        ])
        #expect(r.lines[1].text(Localizer(.en)) == "10 days × 150.00 = 1500.00 (四(一)2)")
    }

    @Test("categories from roster words")
    func categories() {
        #expect(policy("hengyang-2019").categories(from: "脱贫劳动力；残疾人") == ["poor_labour", "hard_to_employ"])
        #expect(policy("hengyang-2019").categories(from: nil).isEmpty)
    }

    @Test("ratios: 0.8, 80%, 4/5 are the same; bad text is nil")
    func ratios() {
        #expect(Ratio(parsing: "0.8") == Ratio(parsing: "80%") && Ratio(parsing: "4/5") == Ratio(parsing: ".8"))
        #expect(Ratio(parsing: "79.9%")!.atLeast(percent: 80) == false && Ratio(parsing: "0.8")!.atLeast(percent: 80))
        #expect(Ratio(parsing: "abc") == nil && Ratio(parsing: "1/0") == nil && Ratio(parsing: "-0.5") == nil)
        #expect(Ratio(parsing: "0.825")!.description == "82.5%")
    }
}

@Suite("Policy files")
struct PolicyFileTests {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    @Test("every built-in policy loads; the generated file matches Assets/policies")
    func builtIns() throws {
        #expect(Policy.builtInIDs.sorted() == ["gu-county-2023", "hengyang-2019", "shanxi-2023"])
        for (id, json) in builtInPolicies {
            let onDisk = String(decoding: try readWhole(Self.root + "/Assets/policies/\(id).json"), as: UTF8.self)
            #expect(onDisk == json, "run Scripts/gen-policies")
            let p = try #require(Policy.builtIn(id))
            #expect(!p.document.isEmpty && !p.programs.isEmpty)
        }
        #expect(try Policy.resolve(Self.root + "/Assets/policies/gu-county-2023.json").id == "gu-county-2023")
        #expect(throws: PolicyError(source: "gu-2023", field: "", reason: "gu-county-2023, hengyang-2019, shanxi-2023")) {
            try Policy.resolve("gu-2023")
        }
    }

    static let broken: [(String, String, String)] = [
        ("not JSON", "{", "(file)"),
        ("missing title", #"{"id":"x"}"#, "title"),
        ("cap as text", #"{"id":"x","title":"t","document":"d","region":"r","settings":{"class_hour_minutes":45,"day_percent":80},"limits":{"same_trade_level_year":true,"clause":"c"},"categories":[],"programs":[{"id":"p","name":"n","name_en":"n","rules":[{"kind":"per_day","clause":"c","per_day":100,"cap":"1000"}]}]}"#, "programs[0].rules[0].cap"),
        ("unknown rule kind", #"{"id":"x","title":"t","document":"d","region":"r","settings":{"class_hour_minutes":45,"day_percent":80},"limits":{"same_trade_level_year":true,"clause":"c"},"categories":[],"programs":[{"id":"p","name":"n","name_en":"n","rules":[{"kind":"per_week","clause":"c"}]}]}"#, "programs[0].rules[0].kind"),
        ("negative amount", #"{"id":"x","title":"t","document":"d","region":"r","settings":{"class_hour_minutes":45,"day_percent":80},"limits":{"same_trade_level_year":true,"clause":"c"},"categories":[],"programs":[{"id":"p","name":"n","name_en":"n","rules":[{"kind":"flat","clause":"c","amount":-300}]}]}"#, "programs[0].rules[0].amount"),
        ("fall-back to nothing", #"{"id":"x","title":"t","document":"d","region":"r","settings":{"class_hour_minutes":45,"day_percent":80},"limits":{"same_trade_level_year":true,"clause":"c"},"categories":[],"programs":[{"id":"p","name":"n","name_en":"n","rules":[{"kind":"tiered_per_day","clause":"c","tiers":[{"per_day":100}],"cap":1000,"employment_rate_min_percent":80,"otherwise":"nope"}]}]}"#, "programs[0].rules[0].otherwise"),
        ("day share 0", #"{"id":"x","title":"t","document":"d","region":"r","settings":{"class_hour_minutes":45,"day_percent":0},"limits":{"same_trade_level_year":true,"clause":"c"},"categories":[],"programs":[]}"#, "settings.day_percent"),
    ]

    @Test("a malformed policy file is refused with the field and the reason", arguments: broken)
    func malformed(name: String, json: String, field: String) {
        do {
            _ = try Policy(bytes: Array(json.utf8), source: "bad.json")
            Issue.record("\(name) was accepted")
        } catch let e as PolicyError {
            #expect(e.field == field, "\(name): \(e)")
            let line = Localizer(.en)(e.words.key, e.words.values)
            #expect(line.contains("bad.json") && !line.contains("\n"), "\(line)")
        } catch {
            Issue.record("\(name): \(error)")
        }
    }
}
