import CountyKit
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Station: video references and coverage")
struct VideoTests {
    func write(_ path: String, _ text: String) throws { try Files.writeAtomically(Array(text.utf8), to: path) }

    @Test("register once with SHA-256 and times from the name; again changes nothing; other content is an alarm")
    func register() throws {
        let f = try Fixture()
        let path = f.dir + "/ch01_20260302083000_20260302093000.mp4"
        try write(path, "pretend video")
        // Given a recording registered from its name
        guard case .added(let v) = try f.station.registerVideo(path: path, camera: "ch01") else { Issue.record("not added"); return }
        #expect(v.sha256 == "f00578db5e20c26ad241bcea6487af8ba7124ad9fb050f07f80c9a6ab82e88a2")  // sha256sum of the same bytes
        #expect(v.size == 13 && v.span == TimeSpan(ClassDay(iso: "2026-03-02")!.at(LocalTime("08:30")!).milliseconds,
                                                      ClassDay(iso: "2026-03-02")!.at(LocalTime("09:30")!).milliseconds))
        // Then the log holds it as an event carrying the metadata (never the video)
        let event = try #require(try f.station.events().last)
        #expect(event.kind == .video && event.code == "sha256:" + v.sha256 && (event.note ?? "").contains("\"camera\":\"ch01\""))
        // Registering again: nothing new
        #expect(try f.station.registerVideo(path: path, camera: "ch01") == .unchanged(v))
        let count = try f.station.events().count
        #expect(count == event.seq)
        // The file's content changes: an alarm in the log, the reference keeps the original hash
        try write(path, "another video")
        guard case .changed(let old, let newSHA) = try f.station.registerVideo(path: path, camera: "ch01") else {
            Issue.record("not an alarm")
            return
        }
        #expect(old.sha256 == v.sha256 && newSHA != v.sha256)
        #expect(try f.station.events().last?.kind == .videoChanged)
        #expect(try f.station.video(path: path)?.sha256 == v.sha256)
        #expect(try f.station.verifyLog().ok)
        // A name without times, and an unreadable file, are refused in words
        try write(f.dir + "/lesson.mp4", "x")
        #expect(throws: StationError.videoNoTimes(f.dir + "/lesson.mp4")) { try f.station.registerVideo(path: f.dir + "/lesson.mp4", camera: "c") }
        #expect(throws: StationError.self) { try f.station.registerVideo(path: f.dir + "/ch02_20260302083000_20260302093000.mp4", camera: "c") }
    }

    @Test("the audit names every recording that is missing or changed")
    func audit() throws {
        let f = try Fixture()
        let a = f.dir + "/ch01_20260302083000_20260302093000.mp4"
        let b = f.dir + "/ch01_20260302093000_20260302103000.mp4"
        let c = f.dir + "/ch01_20260302103000_20260302113000.mp4"
        for p in [a, b, c] { try write(p, p) }
        for p in [a, b, c] { _ = try f.station.registerVideo(path: p, camera: "ch01") }
        #expect(try f.station.auditVideos().isEmpty)
        unlink(b)
        try write(c, "tampered")
        let problems = try f.station.auditVideos()
        #expect(problems.map(\.problem) == ["missing", "changed"])
        #expect(problems.map(\.video.path) == [b, c])
    }

    @Test("coverage: the times trainees were signed in with no recording, per session, and the covered share")
    func coverage() throws {
        let f = try Fixture()
        // Given two trainees in the morning session: 08:30 to 11:00, and 09:00 to 11:30 (never signed out)
        f.clock.set("2026-03-02", "08:30")
        _ = try f.station.scan(f.code(0))
        f.clock.set("2026-03-02", "09:00")
        _ = try f.station.scan(f.code(1))
        f.clock.set("2026-03-02", "11:00")
        _ = try f.station.scan(f.code(0))
        // And recordings 08:30-09:30 and 10:00-11:30 (a 30-minute hole)
        for (i, name) in ["ch01_20260302083000_20260302093000.mp4", "ch01_20260302100000_20260302113000.mp4"].enumerated() {
            try write(f.dir + "/" + name, "video \(i)")
            _ = try f.station.registerVideo(path: f.dir + "/" + name, camera: "ch01")
        }
        f.clock.set("2026-03-02", "12:30")
        let sessions = try f.station.coverage(classID: 12, day: ClassDay(iso: "2026-03-02"))
        let morning = try #require(sessions.first)
        #expect(sessions.count == 1 && morning.session == "08:30-11:30")
        let day = ClassDay(iso: "2026-03-02")!
        #expect(morning.gaps == [TimeSpan(day.at(LocalTime("09:30")!).milliseconds, day.at(LocalTime("10:00")!).milliseconds)])
        #expect(abs(morning.coveredShare - 150.0 / 180) < 1e-9)
    }
}
