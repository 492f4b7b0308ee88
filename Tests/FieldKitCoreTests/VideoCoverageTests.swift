import FieldKitCore
import Testing

@Suite("Video coverage and recorder file names")
struct VideoCoverageTests {
    /// Minutes from a base as a span.
    static func m(_ a: Int64, _ b: Int64) -> TimeSpan { TimeSpan(a * 60_000, b * 60_000) }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var presence: [TimeSpan]
        var recordings: [TimeSpan]
        var gaps: [TimeSpan]
        var share: Double
        var description: String { name }
    }

    static let cases = [
        Case(name: "fully covered", presence: [m(0, 60)], recordings: [m(-5, 65)], gaps: [], share: 1),
        Case(name: "no video at all", presence: [m(0, 60)], recordings: [], gaps: [m(0, 60)], share: 0),
        Case(name: "a gap in the middle", presence: [m(0, 60)], recordings: [m(0, 20), m(30, 60)], gaps: [m(20, 30)], share: 50.0 / 60),
        Case(name: "overlapping clips of two cameras", presence: [m(0, 60)], recordings: [m(0, 40), m(35, 50), m(10, 20)],
             gaps: [m(50, 60)], share: 50.0 / 60),
        Case(name: "touching clips leave no gap", presence: [m(0, 60)], recordings: [m(0, 30), m(30, 60)], gaps: [], share: 1),
        Case(name: "trainees in two spans, video starts late", presence: [m(0, 30), m(40, 60), m(20, 35)],
             recordings: [m(10, 100)], gaps: [m(0, 10)], share: 45.0 / 55),
        Case(name: "nobody present", presence: [], recordings: [m(0, 10)], gaps: [], share: 1),
        Case(name: "across midnight (minutes past a day's start)", presence: [m(1380, 1500)], recordings: [m(1380, 1440), m(1450, 1500)],
             gaps: [m(1440, 1450)], share: 110.0 / 120),
    ]

    @Test("gaps and covered share", arguments: cases)
    func coverage(_ c: Case) {
        #expect(VideoCoverage.gaps(presence: c.presence, recordings: c.recordings) == c.gaps)
        #expect(abs(VideoCoverage.coveredShare(presence: c.presence, recordings: c.recordings) - c.share) < 1e-9)
    }

    @Test("start and end from recorder file names (local time, UTC+8); names without two times give nil")
    func fileNames() {
        let start = ClassDay(iso: "2026-03-02")!.at(LocalTime("08:30")!).milliseconds
        let end = ClassDay(iso: "2026-03-02")!.at(LocalTime("09:30")!).milliseconds
        for name in [
            "ch01_20260302083000_20260302093000.mp4", "/nvr/2026-03-02/192.168.1.64_01_20260302083000_20260302093000.mp4",
            "CAM1-20260302083000-20260302093000.avi",
        ] {
            #expect(RecorderFileName.span(of: name) == TimeSpan(start, end), "\(name)")
        }
        #expect(RecorderFileName.span(of: "ch01_20260302093000_20260302083000.mp4") == nil)
        #expect(RecorderFileName.span(of: "ch01_20261302083000_20261302093000.mp4") == nil)
        #expect(RecorderFileName.span(of: "lesson.mp4") == nil)
        #expect(RecorderFileName.span(of: "ch01_202603020830_202603020930.mp4") == nil)
    }
}
