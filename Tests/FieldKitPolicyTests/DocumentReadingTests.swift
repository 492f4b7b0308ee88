import FieldKitCore
@testable import FieldKitPolicy
import FoundationEssentials
import Testing

/// Each reading worked by hand from the documents (../shared/seeds), the clause in the test's name.
/// 晋 = 晋人社厅函〔2023〕786号 (seed 000), 古 = 古人社发〔2023〕21号 (001), 衡 = 衡人社发〔2019〕21号 (004).
@Suite("Readings of the documents, by clause")
struct DocumentReadingTests {
    func claim(
        _ policyID: String, _ program: String, info: ClassInfo, records: [AttendanceRecord], categories: Set<String> = [],
        priors: [PriorClaim] = [], context: ClaimContext = ClaimContext(certificateObtained: true)
    ) -> ClaimResult {
        policy(policyID).evaluate(ClaimRequest(
            voucherID: 9, classInfo: info, program: program, tally: tally(records, info), categories: categories, priorClaims: priors,
            context: context))
    }

    // MARK: uplift

    @Test("衡 六(二) 目录规定的补贴标准上浮70%: out-of-catalogue junior 550 stays 550 for poor-county park labour; in-catalogue 600 becomes 1020")
    func upliftOnTheCatalogue() {
        let info = classIn("hengyang-2019", level: 5)
        let outside = claim("hengyang-2019", "enterprise_outside_catalogue", info: info, records: fullDays(3, of: info), categories: ["poor_county_park_enterprise"])
        #expect(outside.amount == 55_000 && !outside.lines.contains { $0.key == "uplift" })
        let inside = claim(
            "hengyang-2019", "enterprise_catalogue", info: info, records: fullDays(3, of: info), categories: ["poor_county_park_enterprise"],
            context: ClaimContext(certificateObtained: true, catalogueAmount: 60_000))
        // 600 + 600 × 70% = 600 + 420
        #expect(inside.amount == 102_000)
        #expect(inside.lines.map(\.amount) == [60_000, 42_000])
        // Both categories: the larger uplift, never both
        let both = claim(
            "hengyang-2019", "enterprise_catalogue", info: info, records: fullDays(3, of: info),
            categories: ["poor_county_park_enterprise", "transfer_enterprise"], context: ClaimContext(certificateObtained: true, catalogueAmount: 60_000))
        #expect(both.amount == 102_000)
    }

    // MARK: 不录不补

    @Test("晋 七 不录不补: 衡 六(一) free training, catalogue 800, zero scans → nothing; a day of attendance → 800")
    func noAttendanceNoPay() {
        let info = classIn("hengyang-2019")
        let context = ClaimContext(certificateObtained: true, catalogueAmount: 80_000)
        let none = claim("hengyang-2019", "free_training", info: info, records: [], context: context)
        #expect(none.refused == .noAttendance && none.amount == 0)
        #expect(none.refusalText(Localizer(.zhHans))?.contains("不录不补") == true)
        #expect(claim("hengyang-2019", "free_training", info: info, records: fullDays(1, of: info), context: context).amount == 80_000)
    }

    @Test("晋 七 不录不补 for every rule that pays for training: flat without a minimum, by level, a manual-only day held apart")
    func everyTrainingRuleNeedsAttendance() {
        let shanxi = classIn("shanxi-2023")
        #expect(claim("shanxi-2023", "apprenticeship", info: shanxi, records: []).refused == .noAttendance)
        #expect(claim("shanxi-2023", "apprenticeship", info: shanxi, records: fullDays(1, of: shanxi)).amount == 500_000)
        let heng = classIn("hengyang-2019", level: 4)
        #expect(claim("hengyang-2019", "enterprise_outside_catalogue", info: heng, records: []).refused == .noAttendance)
        // Only manual entries: held for review, so nothing counts until accepted
        let manual = claim("hengyang-2019", "enterprise_outside_catalogue", info: heng, records: fullDays(2, of: heng, flagged: [0: .manual, 1: .manual]))
        #expect(manual.refused == .noAttendance && manual.refusalValues["flagged"] == "2")
        #expect(manual.refusalText(Localizer(.zhHans))?.contains("另有 2 天") == true)
        #expect(claim("hengyang-2019", "enterprise_outside_catalogue", info: heng, records: []).refusalText(Localizer(.en)) == "no attendance that counts: nothing is paid (不录不补)")
    }

    @Test("晋 五(三) certificate subsidies pay for the certificate, not attendance: no scans and still 400, with a line saying so")
    func certificateNeedsNoAttendance() {
        let info = classIn("shanxi-2023", program: "certificate", level: 5)
        let r = claim("shanxi-2023", "certificate", info: info, records: [])
        #expect(r.refused == nil && r.amount == 40_000)
        #expect(r.lines.first?.key == "certificate_only")
    }

    // MARK: 3 days or 24 class hours

    @Test("晋 四(一)2 累计不少于3天（或24学时）: three one-hour days are 4 class hours, not 3 days → refused")
    func shortDaysAreNotDays() {
        let info = classIn("shanxi-2023", sessions: "19:00-20:00")
        let r = claim("shanxi-2023", "enterprise_staff", info: info, records: fullDays(3, of: info))
        #expect(r.days == 3, "each short day is a day of its own schedule")
        #expect(r.refused == .notEnoughDays && r.amount == 0)
        // 3 × 60 minutes = 180 = 4 class hours of 45 minutes: far from 24
        #expect(r.refusalValues["days"] == "0" && r.refusalValues["hours"] == "4")
    }

    @Test("晋 四(一)2: three full days (8 class hours each) → 300; 古 四(一)1 the same; two long days of 12 class hours → 300 by hours")
    func fullDaysPay() {
        let shanxi = classIn("shanxi-2023")
        #expect(claim("shanxi-2023", "enterprise_staff", info: shanxi, records: fullDays(3, of: shanxi)).amount == 30_000)
        let gu = classIn("gu-county-2023")
        #expect(claim("gu-county-2023", "enterprise_staff", info: gu, records: fullDays(3, of: gu)).amount == 30_000)
        let long = classIn("shanxi-2023", sessions: "08:00-12:00,13:00-17:00,18:00-19:00")
        let r = claim("shanxi-2023", "enterprise_staff", info: long, records: fullDays(2, of: long))
        #expect(r.amount == 30_000 && r.lines.contains { $0.key == "flat_hours" })
    }

    @Test("晋 四(一)2: a day of 6 class hours (270 minutes) is shorter than 80% of 8 class hours (288) and counts only as hours")
    func sixHourDays() {
        let info = classIn("shanxi-2023", sessions: "08:30-11:30,14:00-15:30")
        let r = claim("shanxi-2023", "enterprise_staff", info: info, records: fullDays(4, of: info))
        // 4 × 270 = 1080 minutes = 24 class hours: paid by hours, with a line naming the short days
        #expect(r.amount == 30_000 && r.lines.contains { $0.key == "short_days" } && r.lines.contains { $0.key == "flat_hours" })
    }

    // MARK: repeats

    @Test("晋 四(一)3 同一工种同一等级同一年度内不得重复培训 blocks a second training, never the certificate subsidy (五)")
    func repeatTrainingNotCertificate() {
        let training = PriorClaim(voucherID: 3, program: "enterprise_staff", trade: "6-18-02-04", level: 4, year: 2023)
        let info = classIn("shanxi-2023", program: "certificate", level: 4)
        let cert = claim("shanxi-2023", "certificate", info: info, records: fullDays(1, of: info), priors: [training])
        #expect(cert.refused == nil && cert.amount == 60_000)
        let again = claim("shanxi-2023", "enterprise_staff", info: info, records: fullDays(3, of: info), priors: [training])
        #expect(again.refused == .repeatClaim)
        // A certificate subsidy does not block training either
        var certificate = training
        certificate.paysFor = .certificate
        #expect(claim("shanxi-2023", "enterprise_staff", info: info, records: fullDays(3, of: info), priors: [certificate]).refused == nil)
    }

    @Test("晋 五(二) 同一等级只能享受一次取证补贴: lifetime, so a level-3 certificate paid in 2021 blocks level 3 in 2023")
    func certificateOncePerLevel() {
        let earlier = PriorClaim(voucherID: 4, program: "certificate", trade: "4-01-01-01", level: 3, year: 2021, paysFor: .certificate)
        let info = classIn("shanxi-2023", program: "certificate", level: 3)
        let r = claim("shanxi-2023", "certificate", info: info, records: [], priors: [earlier])
        #expect(r.refused == .certificateLevelClaimed && r.refusalValues["year"] == "2021")
        let junior = classIn("shanxi-2023", program: "certificate", level: 5)
        #expect(claim("shanxi-2023", "certificate", info: junior, records: [], priors: [earlier]).amount == 40_000, "another level")
    }

    @Test("晋 五(三) 初次取证直接取中级工600: after a junior certificate subsidy the intermediate is no first certificate")
    func firstCertificateOnly() {
        let junior = PriorClaim(voucherID: 5, program: "certificate", trade: "4-01-01-01", level: 5, year: 2022, paysFor: .certificate)
        let info = classIn("shanxi-2023", program: "certificate", level: 4)
        #expect(claim("shanxi-2023", "certificate", info: info, records: []).amount == 60_000)
        #expect(claim("shanxi-2023", "certificate", info: info, records: [], priors: [junior]).refused == .notFirstCertificate)
        // 特种作业操作证初次取证400: a second special-operations certificate is not paid; a skill certificate does not count
        let special = classIn("shanxi-2023", program: "special_certificate", level: 0)
        let firstSpecial = PriorClaim(voucherID: 6, program: "special_certificate", trade: "x", level: 0, year: 2022, paysFor: .specialCertificate)
        #expect(claim("shanxi-2023", "special_certificate", info: special, records: [], priors: [junior]).amount == 40_000)
        #expect(claim("shanxi-2023", "special_certificate", info: special, records: [], priors: [firstSpecial]).refused != nil)
    }

    @Test("衡 六(四) 同一职业同一等级不可重复享受: across years, so a 2021 repeat of a 2020 subsidy is refused")
    func hengyangAcrossYears() {
        let prior = PriorClaim(voucherID: 7, program: "safety", trade: "6-18-02-04", level: 4, year: 2020)
        let info = makeClass(start: "2021-03-01")
        let r = claim("hengyang-2019", "safety", info: info, records: fullDays(5, of: info), priors: [prior])
        #expect(r.refused == .repeatClaimEver && r.refusalValues["year"] == "2020")
    }

    // MARK: online share, dates

    @Test("晋 四(四) online training without the offline share is refused, never silently scaled to 40%")
    func offlineShareRequired() {
        let info = classIn("shanxi-2023", level: 5)
        let r = claim("shanxi-2023", "online", info: info, records: fullDays(5, of: info))
        #expect(r.refused == .offlineShareMissing && r.amount == 0)
        let given = claim("shanxi-2023", "online", info: info, records: fullDays(5, of: info),
                          context: ClaimContext(offlineShare: Ratio(1, 20), certificateObtained: true))
        // 40 class hours × 3 = 120, 5% went on offline → 40% = 48
        #expect(given.amount == 4_800)
    }

    @Test("衡 文末 执行期限到2021年12月31日: a 2026 class is refused; an explicit override works it out and says so")
    func effectiveDates() {
        let info = makeClass(start: "2026-03-02")
        let refused = claim("hengyang-2019", "safety", info: info, records: fullDays(5, of: info))
        #expect(refused.refused == .notInForce && refused.refusalValues["range"] == "2019-08-30 – 2021-12-31")
        let overridden = claim("hengyang-2019", "safety", info: info, records: fullDays(5, of: info),
                               context: ClaimContext(certificateObtained: true, outsideEffectiveDates: true))
        #expect(overridden.amount == 20_000 && overridden.lines.first?.key == "outside_dates")
        // 古: the county's plan for 2023; 晋 五(五): certificate subsidies by institutions end with 2023
        #expect(claim("gu-county-2023", "universal", info: info, records: fullDays(5, of: info)).refused == .notInForce)
        let cert2024 = makeClass(start: "2024-03-04", days: 30)
        #expect(claim("shanxi-2023", "certificate", info: cert2024, records: []).refused == .notInForce)
        #expect(claim("shanxi-2023", "order_project", info: cert2024, records: fullDays(5, of: cert2024),
                      context: ClaimContext(employmentRate: Ratio(9, 10))).amount == 75_000, "the province's notice has no end date")
    }

    @Test("晋 六 次年3月底: the deadline of a class ending in 2023 is 2024-03-31")
    func claimDeadline() {
        let d = policy("shanxi-2023").claimDeadline
        #expect(d?.date(after: ClassDay(iso: "2023-12-20")!) == ClassDay(iso: "2024-03-31"))
        #expect(policy("hengyang-2019").claimDeadline == nil, "衡 names none")
    }

    @Test("policy files: an effective range backwards, a deadline on 31 February, a certificate rule in a training programme are refused")
    func newFieldsChecked() {
        let header = #"{"id":"x","title":"t","document":"d","region":"r","settings":{"class_hour_minutes":45,"day_percent":80},"limits":{"same_trade_level":"year","clause":"c"},"categories":[]"#
        func field(_ extra: String, _ programs: String = #"[{"id":"p","name":"n","name_en":"n","rules":[{"kind":"flat","clause":"c","amount":1}]}]"#) -> String? {
            do {
                _ = try Policy(bytes: Array((header + extra + #","programs":"# + programs + "}").utf8), source: "x.json")
                return nil
            } catch let e as PolicyError { return e.field } catch { return "\(error)" }
        }
        #expect(field("") == nil)
        #expect(field(#","effective":{"from":"2024-01-01","to":"2023-01-01","clause":"c"}"#) == "effective.to")
        #expect(field(#","effective":{"from":"2024-13-01","clause":"c"}"#) == "effective.from")
        #expect(field(#","claim_deadline":{"month":2,"day":31,"clause":"c"}"#) == "claim_deadline.day")
        #expect(field("", #"[{"id":"p","name":"n","name_en":"n","rules":[{"kind":"by_level","clause":"c","amounts":{"*":1},"once_per_level":true}]}]"#)
                == "programs[0].rules[0].once_per_level")
        #expect(field("", #"[{"id":"p","name":"n","name_en":"n","pays_for":"lottery","rules":[{"kind":"flat","clause":"c","amount":1}]}]"#)
                == "programs[0].pays_for")
    }

    // MARK: employment from a file

    @Test("employment file: every trainee of the class must be listed — leaving the jobless one out does not turn 75% into 100%")
    func employmentFileComplete() throws {
        let all: Set<UInt64> = [1, 2, 3, 4]
        let full = "voucher_id,employed\n1,是\n2,是\n3,是\n4,否\n"
        #expect(try EmploymentFile.rate(bytes: Array(full.utf8), file: "f.csv", required: all, allowed: all) == Ratio(3, 4))
        do {
            _ = try EmploymentFile.rate(bytes: Array("voucher_id,employed\n1,是\n2,是\n3,是\n".utf8), file: "f.csv", required: all, allowed: all)
            Issue.record("accepted a file without voucher 4")
        } catch let e as EmploymentFileError {
            #expect(e.reason == .missing && e.value == "4")
            #expect(Localizer(.zhHans)(e.words.key, e.words.values).contains("4"))
        }
    }

    @Test("employment file: a duplicate with the same answer is one row; with another answer it is refused naming both lines; quoted cells read")
    func employmentFileDuplicates() throws {
        let all: Set<UInt64> = [1, 2]
        #expect(try EmploymentFile.rate(bytes: Array("1,是\n1,yes\n2,否\n".utf8), file: "f", required: all, allowed: all) == Ratio(1, 2))
        #expect(try EmploymentFile.rate(bytes: Array("\u{FEFF}\"voucher_id\",\"employed\"\r\n\"1\",\"是\"\r\n\"2\",\"是\"\r\n".utf8), file: "f", required: all, allowed: all) == Ratio(1, 1))
        #expect(throws: EmploymentFileError(file: "f", reason: .conflict, line: 3, value: "1", other: "1")) {
            try EmploymentFile.rate(bytes: Array("1,是\n2,否\n1,否\n".utf8), file: "f", required: all, allowed: all)
        }
        #expect(throws: EmploymentFileError(file: "f", reason: .notInClass, line: 1, value: "7")) {
            try EmploymentFile.rate(bytes: Array("7,是\n".utf8), file: "f", required: all, allowed: all)
        }
        // A revoked voucher may be left out (or listed, and then it counts)
        #expect(try EmploymentFile.rate(bytes: Array("1,是\n".utf8), file: "f", required: [1], allowed: all) == Ratio(1, 1))
    }

    // MARK: capitals

    @Test("amounts in Chinese capitals (大写) as a cheque writes them", arguments: [
        (Money(330_000), "人民币叁仟叁佰元整"), (100_560, "人民币壹仟零伍元陆角"), (5, "人民币伍分"), (0, "人民币零元整"),
        (1_000_000_000, "人民币壹仟万元整"), (1_000_050_000, "人民币壹仟万零伍佰元整"), (10_001_000_000, "人民币壹亿零壹万元整"),
        (150_000, "人民币壹仟伍佰元整"), (102_000, "人民币壹仟零贰拾元整"), (1_000_005, "人民币壹万元零伍分"), (123_456_789, "人民币壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        (1_100_000, "人民币壹万壹仟元整"), (101_000_000, "人民币壹佰零壹万元整"),
    ])
    func capitals(fen: Money, text: String) {
        #expect(chineseCapitals(fen) == text)
    }
}
