import FieldKitCore
@testable import FieldKitPolicy
import FoundationEssentials
import Testing

@Suite("Bounded numbers: ratios, policy amounts, money arithmetic")
struct BoundsTests {
    @Test(
        "ratios with huge or malformed numbers are nil, never a trap",
        arguments: [
            "9223372036854775807/9223372036854775807", "9223372036854775807", "1/9223372036854775807", "0.9223372036854775807",
            "9223372036854775807%", "99999999999999999999999", "1234567890123/1", "1/1234567890123", "999999999999.999999999",
            "1/0", "0/0", "-1/2", "+1/2", "1/-2", "1e9", "１/２", "٣/٤", "", "/", "1/", "/1", ".", "..5", "1..5", "%", "0x10", " 1 / 2 ",
        ])
    func hugeRatios(text: String) {
        #expect(Ratio(parsing: text) == nil, "\(text)")
    }

    @Test("ratios are kept in lowest terms, so large but sane ones still fit")
    func reduced() throws {
        let r = try #require(Ratio(parsing: "999999999999/999999999999"))
        #expect(r.numerator == 1 && r.denominator == 1 && r.description == "100%")
        #expect(Ratio(parsing: "99999999.5") == Ratio(199_999_999, 2))
        #expect(Ratio(parsing: "123456789012/2") == Ratio(61_728_394_506, 1))
        #expect(Ratio(0, 5) == Ratio(0, 1) && Ratio(1, 3)! < Ratio(334, 1000)!)
        #expect(Ratio(Int64.max, 1) == nil && Ratio(Int64.max, Int64.max) == Ratio(1, 1))
    }

    @Test("comparisons and percents are exact at the bounds (128-bit products)")
    func comparisons() throws {
        let a = try #require(Ratio(Ratio.largest - 1, Ratio.largest))
        let b = try #require(Ratio(Ratio.largest - 2, Ratio.largest - 1))
        #expect(b < a && !(a < b) && a != b)
        #expect(a.atLeast(percent: 99) && !a.atLeast(percent: 100) && !a.atLeast(percent: Int.max) && a.atLeast(percent: Int.min))
        #expect(a.times(Int64.max) == nil && Ratio(1, 2)!.times(150_001) == 75_000)
        #expect(Ratio(Ratio.largest, 1)!.description == "100000000000000%")
    }

    static let header = #"{"id":"x","title":"t","document":"d","region":"r","settings":{"class_hour_minutes":45,"day_percent":80},"limits":{"same_trade_level_year":true,"clause":"c"},"categories":[{"id":"k","name":"k","words":["k"]}],"programs":[{"id":"p","name":"n","name_en":"n","rules":["#
    static let outOfRange: [(String, String)] = [
        (#"{"kind":"flat","clause":"c","amount":1e300}"#, "programs[0].rules[0].amount"),
        (#"{"kind":"flat","clause":"c","amount":1000000.01}"#, "programs[0].rules[0].amount"),
        (#"{"kind":"per_day","clause":"c","per_day":100,"cap":1000,"extra_days_max":-9223372036854775808}"#, "programs[0].rules[0].extra_days_max"),
        (#"{"kind":"tiered_per_day","clause":"c","tiers":[{"days":5,"per_day":100},{"days":-9223372036854775808,"per_day":1}],"cap":1000}"#, "programs[0].rules[0].tiers[1].days"),
        (#"{"kind":"per_hour","clause":"c","per_hour":{"*":1},"cap":{},"offline_share_scale":[{"below_percent":10,"percent":9223372036854775807}]}"#, "programs[0].rules[0].offline_share_scale[0].percent"),
        (#"{"kind":"by_level","clause":"c","amounts":{"*":1},"uplift_percent":{"k":9223372036854775807}}"#, "programs[0].rules[0].uplift_percent.k"),
    ]

    @Test("a policy file with amounts, days or percents out of range is refused naming the field", arguments: outOfRange)
    func policyBounds(rule: String, field: String) {
        do {
            _ = try Policy(bytes: Array((Self.header + rule + "]}]}").utf8), source: "bad.json")
            Issue.record("accepted \(rule)")
        } catch let e as PolicyError {
            #expect(e.field == field, "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("an amount that does not fit in fen refuses the claim instead of trapping")
    func moneyOverflow() {
        let info = classIn("hengyang-2019")
        let result = policy("hengyang-2019").evaluate(ClaimRequest(
            voucherID: 1, classInfo: info, program: "free_training", tally: tally(fullDays(10, of: info), info), categories: ["poor_labour"],
            context: ClaimContext(certificateObtained: true, catalogueAmount: Money.max)))
        #expect(result.refused == .amountTooLarge && result.amount == 0)
        #expect(result.refusalText(Localizer(.en))?.contains("too large") == true)
    }

    @Test("a device's sign-in at Int64.max or sign-out at Int64.min counts nothing and traps nothing")
    func extremeTimes() {
        let info = makeClass()
        let d = info.startDate
        let t = tally([
            AttendanceRecord(day: d, sessionIndex: 0, signedIn: Int64.max, signedOut: Int64.min),
            AttendanceRecord(day: d, sessionIndex: 1, signedIn: Int64.min, signedOut: Int64.max),
        ], info)
        #expect(t.clean.minutes == 180 && t.clean.days == 0)
    }
}
