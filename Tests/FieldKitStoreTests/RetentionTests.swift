import CountyKit
import FieldKitCore
import FieldKitSQLite
@testable import FieldKitStore
import FoundationEssentials
import Testing

@Suite("Station: retention, holds and purging")
struct RetentionTests {
    /// A fixture with two registered recordings of class 12's first day.
    func setUp() throws -> (Fixture, [String]) {
        let f = try Fixture()
        var paths: [String] = []
        for (i, name) in ["ch01_20260302083000_20260302113000.mp4", "ch02_20260302083000_20260302113000.mp4"].enumerated() {
            let path = f.dir + "/" + name
            try Files.writeAtomically(Array("recording \(i)".utf8), to: path)
            _ = try f.station.registerVideo(path: path, camera: "ch0\(i + 1)")
            paths.append(path)
        }
        return (f, paths)
    }

    /// Moves both clocks to a local day and imports a bundle the county signs then.
    func moveTo(_ f: Fixture, _ day: String, importBundle: Bool = true) throws {
        f.clock.set(day, "10:00")
        if importBundle { _ = try f.station.importTrust(fileBytes: try f.county.exportBundle(site: "S01").fileBytes) }
    }

    func states(_ f: Fixture) throws -> [String] { try f.station.retention().videos.map(\.state) }

    @Test("kept to class end + 2 years; purgeable only the day after, and only by a county-signed day")
    func boundary() throws {
        let (f, _) = try setUp()
        let r = try f.station.retention()
        #expect(r.records.map(\.keep_until) == ["2028-03-31"])
        #expect(r.videos.map(\.keep_until) == ["2028-03-31", "2028-03-31"] && r.videos.allSatisfy { $0.classes == [12] })
        try moveTo(f, "2028-03-31")
        #expect(try states(f) == ["keep", "keep"])
        // The PC says 1 April, but the newest county-signed bundle is from 31 March: still kept
        try moveTo(f, "2028-04-01", importBundle: false)
        #expect(try states(f) == ["keep", "keep"])
        #expect(try f.station.purge(approver: "王主任", reason: "test").deleted.isEmpty)
        try moveTo(f, "2028-04-01")
        #expect(try states(f) == ["purgeable", "purgeable"])
    }

    @Test("a purge signs a disposal event before each file goes; records stay; the log verifies")
    func purge() throws {
        let (f, paths) = try setUp()
        let before = try f.station.events().count
        try moveTo(f, "2028-04-01")
        let result = try f.station.purge(approver: "王主任", reason: "retention period passed")
        #expect(result.deleted.map(\.path) == paths && result.bytes == 22)
        #expect(paths.allSatisfy { !Files.exists($0) })
        let disposals = try f.station.events().filter { $0.kind == .disposal }
        #expect(disposals.count == 2)
        #expect(disposals[0].reason == "王主任" && (disposals[0].note ?? "").contains("\"approver\":\"王主任\""))
        #expect((disposals[0].note ?? "").contains("\"sha256\":\"") && (disposals[0].note ?? "").contains("\"size\":\"11\""))
        // Each disposal is covered by a device-signed checkpoint at or after it
        let verification = try f.station.verifyLog()
        #expect(verification.ok && verification.checkpoints >= 2)
        #expect(try f.station.events().count >= before + 2, "nothing of the log was removed")
        #expect(try states(f) == ["disposed", "disposed"])
        // Again: nothing more
        let again = try f.station.purge(approver: "王主任", reason: "again")
        #expect(again.deleted.isEmpty)
        #expect(try f.station.events().filter { $0.kind == .disposal }.count == 2)
    }

    @Test("holds on a recording or on its class keep it; release lets it go")
    func holds() throws {
        let (f, paths) = try setUp()
        try f.station.placeHold(video: paths[0], note: "审计调阅 2028-017")
        try f.station.placeHold(classID: 12, note: "举报核查")
        #expect(throws: RetentionError.noteRequired) { try f.station.placeHold(classID: 12, note: "  ") }
        #expect(throws: RetentionError.unknownVideo("/nowhere.mp4")) { try f.station.placeHold(video: "/nowhere.mp4", note: "x") }
        #expect(try f.station.events().filter { $0.kind == .hold }.count == 2)
        try moveTo(f, "2028-06-01")
        #expect(try states(f) == ["hold", "hold"])
        #expect(try f.station.purge(approver: "王主任", reason: "x").deleted.isEmpty)
        try f.station.releaseHold(classID: 12, note: "核查结束")
        #expect(try states(f) == ["hold", "purgeable"])
        #expect(try f.station.purge(approver: "王主任", reason: "x").deleted.map(\.path) == [paths[1]])
        #expect(Files.exists(paths[0]))
        #expect(throws: RetentionError.noHold("12")) { try f.station.releaseHold(classID: 12, note: "again") }
    }

    @Test("a clock set back blocks purging; changed content is an alarm and stays")
    func clockAndChanges() throws {
        let (f, paths) = try setUp()
        try moveTo(f, "2028-04-02")
        f.clock.set("2028-04-01", "10:00")
        #expect(throws: RetentionError.self) { try f.station.purge(approver: "王主任", reason: "x") }
        #expect(paths.allSatisfy { Files.exists($0) })
        f.clock.set("2028-04-02", "11:00")
        try Files.writeAtomically(Array("tampered!!!".utf8), to: paths[0])
        let r = try f.station.purge(approver: "王主任", reason: "x")
        #expect(r.changed.map(\.path) == [paths[0]] && r.deleted.map(\.path) == [paths[1]])
        #expect(Files.exists(paths[0]))
        #expect(try f.station.events().last(where: { $0.kind == .videoChanged }) != nil)
    }

    @Test("cut off between the disposal event and the unlink: the next run finishes, no second event")
    func crashBetween() throws {
        let (f, paths) = try setUp()
        try moveTo(f, "2028-04-01")
        let due = try f.station.retention().videos[0]
        try f.station.dispose(due, approver: "王主任", reason: "x")  // committed, then the power went
        #expect(Files.exists(paths[0]))
        let r = try f.station.purge(approver: "王主任", reason: "x")
        #expect(!Files.exists(paths[0]) && !Files.exists(paths[1]))
        #expect(r.deleted.map(\.path) == [paths[1]])
        #expect(try f.station.events().filter { $0.kind == .disposal }.count == 2)
    }
}
