import FieldKitCore
@testable import FieldKitPolicy
import FoundationEssentials
import Testing

/// Policy files are input: numbers the evaluation multiplies or converts are bounded when the
/// file is loaded, so a hostile or mistyped file is refused naming the field, never a trap.
/// Each case was found by the policy fuzzing harness (Tests/Fuzz/corpus/policy/regress-*).
@Suite("Policy file bounds")
struct PolicyBoundsTests {
    /// A one-programme policy around one rule (the rule's JSON fields after `kind` and `clause`).
    static func policy(kind: String, _ fields: String) -> String {
        #"{"id":"x","title":"t","document":"d","region":"r","settings":{"class_hour_minutes":45,"day_percent":80},"#
            + #""limits":{"same_trade_level_year":true,"clause":"c"},"categories":[{"id":"u","name":"n","words":["w"]}],"#
            + #""programs":[{"id":"p","name":"n","name_en":"n","rules":[{"kind":"\#(kind)","clause":"c",\#(fields)}]}]}"#
    }

    static let refused: [(String, String, String, String)] = [
        ("a per-day amount past Int64 in fen", "per_day", #""per_day":1092233720368547758.07,"cap":1000"#, "programs[0].rules[0].per_day"),
        ("a cap of 1e300", "tiered_per_day", #""tiers":[{"per_day":100}],"cap":1e300"#, "programs[0].rules[0].cap"),
        ("a flat amount just past the bound", "flat", #""amount":1000000.01"#, "programs[0].rules[0].amount"),
        ("an offline share step paying -1%", "per_hour",
         #""per_hour":{"*":3},"cap":{"*":240},"offline_share_scale":[{"below_percent":30,"percent":-1},{"percent":100}]"#,
         "programs[0].rules[0].offline_share_scale[0].percent"),
        ("an offline share step below 2^62 percent", "per_hour",
         #""per_hour":{"*":3},"cap":{"*":240},"offline_share_scale":[{"below_percent":4611686018427387904,"percent":40}]"#,
         "programs[0].rules[0].offline_share_scale[0].below_percent"),
        ("an uplift of Int64.max percent", "by_level", #""amounts":{"*":600},"uplift_percent":{"u":9223372036854775807}"#,
         "programs[0].rules[0].uplift_percent.u"),
        ("a last tier of -5 days", "tiered_per_day", #""tiers":[{"days":-5,"per_day":100}],"cap":1000"#,
         "programs[0].rules[0].tiers[0].days"),
    ]

    @Test("an amount, a share or a count of days past its bounds is refused naming the field", arguments: refused)
    func refusedAtLoad(name: String, kind: String, fields: String, field: String) {
        do {
            _ = try Policy(bytes: Array(Self.policy(kind: kind, fields).utf8), source: "big.json")
            Issue.record("\(name) was accepted")
        } catch let e as PolicyError {
            #expect(e.field == field, "\(name): \(e)")
            #expect(e.description.contains("big.json") && e.description.contains(field), "\(e.description)")
        } catch {
            Issue.record("\(name): \(error)")
        }
    }

    @Test("the largest amount loads and is worked out without overflow")
    func largestAmountWorks() throws {
        let p = try Policy(bytes: Array(Self.policy(kind: "per_day", #""per_day":1000000,"cap":1000000"#).utf8), source: "max.json")
        let info = ClassInfo(
            id: 1, name: "n", trade: try #require(OccupationCode("4-03-02-01")), level: 5, location: "l",
            startDate: try #require(ClassDay(iso: "2026-03-02")), endDate: try #require(ClassDay(iso: "2026-03-31")),
            sessions: try #require(SessionWindow.parseList("08:30-11:30")))
        let day = info.startDate
        let tally = AttendanceTally(
            records: [AttendanceRecord(day: day, sessionIndex: 0, signedIn: day.at(info.sessions[0].start).milliseconds,
                                       signedOut: day.at(info.sessions[0].end).milliseconds)],
            of: info, settings: p.settings)
        let result = p.evaluate(ClaimRequest(voucherID: 1, classInfo: info, program: "p", tally: tally))
        #expect(result.refused == nil)
        #expect(result.amount == 100_000_000)
    }
}
