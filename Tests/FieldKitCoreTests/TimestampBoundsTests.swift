@testable import FieldKitCore
import Testing

/// A device chooses its events' `wall_ms`: the county shows them (`attendance`, its JSON), so
/// every time, to the ends of Int64, has words and a day instead of a trap. Found by the wire
/// fuzzing harness (Tests/Fuzz/corpus/wire/regress-wall-ms-*).
@Suite("Timestamps at the ends of Int64")
struct TimestampBoundsTests {
    @Test("UTC and local words, day and minute for the extreme times", arguments: [Int64.min, Int64.min + 1, -1, Int64.max - 1, Int64.max])
    func extremes(ms: Int64) {
        let t = Timestamp(milliseconds: ms)
        #expect(t.description.hasSuffix("Z"))
        #expect(!t.localDescription().isEmpty)
        #expect((0..<1440).contains(t.minuteOfDay()))
        #expect((0..<1440).contains(t.minuteOfDay(utcOffset: -14 * 3600)))
        #expect(t.localClock().count == 5)
        _ = t.classDay().description
    }

    @Test("ordinary times are unchanged: the day, the clock and the words")
    func ordinary() throws {
        let t = try #require(Timestamp(rfc3339: "2026-03-02T00:30:00.250Z"))
        #expect(t.description == "2026-03-02T00:30:00.250Z")
        #expect(t.localDescription() == "2026-03-02 08:30:00")
        #expect(t.classDay() == ClassDay(iso: "2026-03-02"))
        #expect(t.minuteOfDay() == 8 * 60 + 30)
        let before1970 = Timestamp(milliseconds: -1)
        #expect(before1970.description == "1969-12-31T23:59:59.999Z")
        #expect(before1970.localDescription() == "1970-01-01 07:59:59")
    }

    @Test("a local shift past the end stops at the end")
    func saturates() {
        #expect(Timestamp(milliseconds: .max).local(UTCOffset.china) == .max)
        #expect(Timestamp(milliseconds: .min).local(-UTCOffset.china) == .min)
        #expect(Timestamp(milliseconds: 0).local(.max) == .max)
        #expect(Timestamp(milliseconds: 0).local(.min) == .min)
        #expect(floorMod(-1, 86_400_000) == 86_399_999)
        #expect(floorMod(.min, 1000) == 192)
        #expect(floorMod(.max, 1000) == 807)
    }
}
