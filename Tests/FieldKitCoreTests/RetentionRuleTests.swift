import FieldKitCore
import Testing

@Suite("Retention rules: two years after the class, in local days")
struct RetentionRuleTests {
    let offset = UTCOffset.china
    func day(_ s: String) -> ClassDay { ClassDay(iso: s)! }
    func span(_ d: String, _ from: String, _ to: String) -> TimeSpan {
        TimeSpan(day(d).at(LocalTime(from)!, utcOffset: offset).milliseconds, day(d).at(LocalTime(to)!, utcOffset: offset).milliseconds)
    }
    let periods = [
        ClassPeriod(classID: 12, start: ClassDay(iso: "2026-03-02")!, end: ClassDay(iso: "2026-03-31")!),
        ClassPeriod(classID: 14, start: ClassDay(iso: "2026-03-30")!, end: ClassDay(iso: "2026-04-20")!),
    ]

    @Test("records: class end + 2 years; 29 February becomes 28 February")
    func records() {
        #expect(Retention.recordsKeepUntil(classEnd: day("2026-03-31")) == day("2028-03-31"))
        #expect(Retention.recordsKeepUntil(classEnd: day("2028-02-29")) == day("2030-02-28"))
    }

    @Test("a recording is kept by the latest class whose days it overlaps, else by its own day")
    func videos() {
        #expect(Retention.videoKeepUntil(span("2026-03-02", "08:30", "09:30"), periods: periods, utcOffset: offset) == day("2028-03-31"))
        // Overlaps both classes: the later end wins
        #expect(Retention.videoKeepUntil(span("2026-03-30", "08:30", "09:30"), periods: periods, utcOffset: offset) == day("2028-04-20"))
        // No class: its own day
        #expect(Retention.videoKeepUntil(span("2026-05-06", "08:30", "09:30"), periods: periods, utcOffset: offset) == day("2028-05-06"))
        // Across midnight into the first class day (local time): it overlaps the class
        let night = TimeSpan(
            day("2026-03-01").at(LocalTime("23:30")!, utcOffset: offset).milliseconds,
            day("2026-03-02").at(LocalTime("00:30")!, utcOffset: offset).milliseconds)
        #expect(Retention.overlapping(night, periods: periods, utcOffset: offset).map(\.classID) == [12])
        // Ending exactly at the class's first midnight: not inside it
        let before = TimeSpan(night.start, day("2026-03-02").start(utcOffset: offset).milliseconds)
        #expect(Retention.overlapping(before, periods: periods, utcOffset: offset).isEmpty)
        #expect(Retention.videoKeepUntil(before, periods: periods, utcOffset: offset) == day("2028-03-01"))
    }

    @Test("purge only once the keep-until day is over", arguments: [
        ("2028-03-30", false), ("2028-03-31", false), ("2028-04-01", true), ("2030-01-01", true),
    ])
    func boundary(today: String, may: Bool) {
        #expect(Retention.mayPurge(keepUntil: day("2028-03-31"), today: day(today)) == may)
    }
}
