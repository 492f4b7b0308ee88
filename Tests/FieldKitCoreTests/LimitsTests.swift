import FieldKitCore
import Testing

@Suite("Numbers at their limits: held or refused, never a trap")
struct LimitsTests {
    @Test("times at Int64's ends print, give a day and move without trapping", arguments: [Int64.min, Int64.min + 1, -1, 0, Int64.max])
    func extremeTimes(ms: Int64) {
        let t = Timestamp(milliseconds: ms)
        #expect(!t.description.isEmpty && !t.localDescription().isEmpty && !t.localClock().isEmpty)
        _ = t.classDay()
        #expect(t.adding(minutes: .max).milliseconds >= t.milliseconds)
        #expect(t.adding(minutes: .min).milliseconds <= t.milliseconds)
        #expect((0..<1440).contains(t.minuteOfDay(utcOffset: .max)))
        #expect(Timestamp(seconds: ms).milliseconds == (ms > 0 ? (ms > Int64.max / 1000 ? .max : ms * 1000) : (ms < Int64.min / 1000 ? .min : ms * 1000)))
    }

    @Test("clamped sums and differences")
    func clamped() {
        #expect(Int64.max.addingClamped(1) == .max && Int64.min.addingClamped(-1) == .min && Int64(2).addingClamped(3) == 5)
        #expect(Int64.min.subtractingClamped(1) == .min && Int64.max.subtractingClamped(-1) == .max && Int64(2).subtractingClamped(3) == -1)
    }

    @Test("an event's shape: the station's own events pass, each bound is named when crossed")
    func shapes() {
        let genuine = SiteEvent(
            seq: 1, uuid: uuidV7(milliseconds: 1_772_000_000_000), deviceID: "S01-00aa0000", kind: .scan, direction: .signIn,
            voucherID: 1_000_001, classID: 12, classDay: ClassDay(iso: "2026-03-02"), sessionIndex: 0, flags: [.late, .manual],
            wallTime: Timestamp(milliseconds: 1_772_000_000_000), utcOffset: 28_800, bootID: "b", monotonicNanos: 1,
            prevHash: SiteEvent.genesisHash)
        #expect(WireEvent(genuine).shapeProblem == nil)
        var e = WireEvent(genuine)
        e.kind = "refused"
        #expect(e.shapeProblem?.contains("no direction") == true)
        e = WireEvent(genuine)
        e.note = String(repeating: "x", count: 16_385)
        #expect(e.shapeProblem?.contains("note") == true)
        e = WireEvent(genuine)
        e.flags = "late,late"
        #expect(e.shapeProblem?.contains("flags") == true)
        e = WireEvent(genuine)
        e.class_day = "2026-02-30"
        #expect(e.shapeProblem?.contains("class_day") == true)
        e = WireEvent(genuine)
        e.seq = WireEvent.maxSeq + 1
        #expect(e.shapeProblem?.contains("seq") == true)
    }
}
