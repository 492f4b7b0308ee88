@testable import CountyKit
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

/// A county with two sites and three classes, and devices whose events the tests write as the
/// sync server stores them (one row per event; `quarantine` fixed on arrival).
final class FlagWorld {
    let county: CountyOffice
    /// Voucher ids by class, in roster order.
    var vouchers: [UInt32: [UInt64]] = [:]
    private var seqs: [String: Int64] = [:]

    init() throws {
        county = try CountyOffice.initialize(home: temporaryDirectory() + "/county", countyID: "141023")
        try county.addSite(id: "S01", name: "岳阳镇学校")
        try county.addSite(id: "S02", name: "城关镇学校")
        // Class 7 at S01; class 8 at S02 (morning and a midday window); class 9 at S02, no location.
        try addClass(7, site: "S01", location: "古县岳阳镇培训点", sessions: "08:30-11:30,14:00-17:00")
        try addClass(8, site: "S02", location: "古县城关镇培训点", sessions: "08:30-11:30,11:30-13:30")
        try addClass(9, site: "S02", location: "", sessions: "08:30-11:30")
        // Person 1 holds a voucher in every class, person 3 in classes 7 and 8, person 2 only in 7.
        try issue(7, people: [1, 2, 3])
        try issue(8, people: [1, 3])
        try issue(9, people: [1])
        try device("D1", site: "S01", location: " 古县岳阳镇培训点 ")
        try device("D2", site: "S02", location: "古县城关镇培训点")
        try device("D3", site: "S01", location: "古县城关镇")
        try device("D4", site: "S01", location: nil)
    }

    func addClass(_ id: UInt32, site: String, location: String, sessions: String) throws {
        try county.addClass(
            ClassInfo(
                id: id, name: "Class \(id)", trade: OccupationCode("6-18-02-04")!, level: 4, location: location,
                startDate: ClassDay(iso: "2026-03-02")!, endDate: ClassDay(iso: "2026-03-20")!,
                sessions: SessionWindow.parseList(sessions)!),
            site: site)
    }

    func issue(_ classID: UInt32, people: [Int]) throws {
        let roster = people.map { "P\($0),\(validID($0))" }.joined(separator: "\n")
        vouchers[classID] = try county.issueVouchers(classID: classID, roster: Array(roster.utf8)).map(\.voucherID)
    }

    func device(_ id: String, site: String, location: String?) throws {
        try county.db.run(
            "INSERT INTO devices (id, site_id, public_key, status, enrolled_ms, location) VALUES (?, ?, ?, 'active', 0, ?)",
            [.text(id), .text(site), .text("key-\(id)"), .string(location)])
    }

    /// The voucher of the n-th trainee (0-based) of a class.
    func voucher(_ classID: UInt32, _ n: Int) -> UInt64 { vouchers[classID]![n] }

    /// A China-time moment on a day, as UTC ms.
    static func at(_ day: String, _ hhmm: String) -> Int64 {
        let parts = hhmm.split(separator: ":").map { Int64($0)! }
        return ClassDay(iso: day)!.start().milliseconds + (parts[0] * 60 + parts[1]) * 60_000
    }

    /// One synced event of a device.
    func event(
        _ device: String, kind: String = "scan", direction: String? = nil, voucher: UInt64? = nil, classID: UInt32? = nil,
        day: String? = nil, session: Int? = nil, ms: Int64, flags: String = "", quarantine: String? = nil, body: String = "{}"
    ) throws {
        let seq = (seqs[device] ?? 0) + 1
        seqs[device] = seq
        let site = try county.device(device)?.site ?? ""
        try county.db.run(
            """
            INSERT INTO events (device_id, seq, site_id, kind, direction, voucher_id, class_id, class_day, session_index,
                                flags, wall_ms, hash, body, received_ms, quarantine)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, zeroblob(32), ?, 0, ?)
            """,
            [
                .text(device), .integer(seq), .text(site), .text(kind), .string(direction),
                voucher.map { .integer(Int64($0)) } ?? .null, classID.map { .integer(Int64($0)) } ?? .null,
                .string(day), session.map { .integer(Int64($0)) } ?? .null, .text(flags), .integer(ms), .text(body),
                .string(quarantine),
            ])
    }

    /// A sign-in or sign-out.
    func scan(
        _ device: String, _ classID: UInt32, _ trainee: Int, _ direction: String, day: String, session: Int, at hhmm: String,
        seconds: Int64 = 0, quarantine: String? = nil
    ) throws {
        try event(
            device, direction: direction, voucher: voucher(classID, trainee), classID: classID, day: day, session: session,
            ms: FlagWorld.at(day, hhmm) + seconds * 1000, quarantine: quarantine)
    }

    /// Attended from `from` to `to` (nil: no sign-out).
    func attend(
        _ device: String, _ classID: UInt32, _ trainee: Int, day: String, session: Int, _ from: String, _ to: String?
    ) throws {
        try scan(device, classID, trainee, "in", day: day, session: session, at: from)
        if let to { try scan(device, classID, trainee, "out", day: day, session: session, at: to) }
    }

    /// The flags of a class's record for a voucher on a day.
    func flags(_ classID: UInt32, _ trainee: Int, day: String) throws -> Set<String>? {
        let v = voucher(classID, trainee)
        return try county.heldAttendance(classID: classID).first { $0.voucherID == v && $0.day.description == day }?.flags
    }
}

@Suite("County flags: overlap, location, recordings")
struct CountyFlagsTests {
    @Test("overlap: the same person in two classes at once (another site) flags both records; 11:30 out and 11:30 in does not")
    func overlapAcrossSites() throws {
        let w = try FlagWorld()
        // Person 1 (trainee 0 in 7 and 8): in class 7 at S01 08:29–11:31, and in class 8 at S02 10:00–11:00.
        try w.attend("D1", 7, 0, day: "2026-03-02", session: 0, "08:29", "11:31")
        try w.attend("D2", 8, 0, day: "2026-03-02", session: 0, "10:00", "11:00")
        // Person 3 (trainee 2 in 7, trainee 1 in 8): class 7 until 11:30, class 8 from 11:30: a walk, no overlap.
        try w.attend("D1", 7, 2, day: "2026-03-02", session: 0, "08:30", "11:30")
        try w.attend("D2", 8, 1, day: "2026-03-02", session: 1, "11:30", "13:00")
        // Person 2 is only in class 7.
        try w.attend("D1", 7, 1, day: "2026-03-02", session: 0, "08:30", "11:30")

        #expect(try w.flags(7, 0, day: "2026-03-02")?.contains("overlap") == true)
        #expect(try w.flags(8, 0, day: "2026-03-02")?.contains("overlap") == true)
        #expect(try w.flags(7, 2, day: "2026-03-02") == [])
        #expect(try w.flags(8, 1, day: "2026-03-02") == [])
        #expect(try w.flags(7, 1, day: "2026-03-02") == [])
        // Class 9 (person 1's third voucher) has no attendance: nothing there.
        #expect(try w.county.heldAttendance(classID: 9).isEmpty)
    }

    @Test("overlap: an open record lasts to its session's end; one minute overlapping flags, a touch does not; a third voucher counts")
    func overlapOpenAndSeveralVouchers() throws {
        let w = try FlagWorld()
        // 03-04: class 7 signed in 08:30, never out (present until 11:30); class 8 in at 11:29: one minute.
        try w.attend("D1", 7, 0, day: "2026-03-04", session: 0, "08:30", nil)
        try w.attend("D2", 8, 0, day: "2026-03-04", session: 1, "11:29", "13:00")
        // 03-05: the same, but class 8 from 11:30: the open record ends at 11:30, no overlap.
        try w.attend("D1", 7, 0, day: "2026-03-05", session: 0, "08:30", nil)
        try w.attend("D2", 8, 0, day: "2026-03-05", session: 1, "11:30", "13:00")
        // 03-06: person 1's third voucher (class 9, S02) overlaps class 7; class 8 that day does not.
        try w.attend("D1", 7, 0, day: "2026-03-06", session: 1, "14:00", "17:00")
        try w.attend("D2", 9, 0, day: "2026-03-06", session: 0, "08:30", "16:00")
        try w.attend("D2", 8, 0, day: "2026-03-06", session: 0, "08:30", "09:00")

        #expect(try w.flags(7, 0, day: "2026-03-04") == ["overlap"])
        #expect(try w.flags(8, 0, day: "2026-03-04") == ["overlap"])
        #expect(try w.flags(7, 0, day: "2026-03-05") == [])
        #expect(try w.flags(8, 0, day: "2026-03-05") == [])
        #expect(try w.flags(7, 0, day: "2026-03-06") == ["overlap"])
        // 03-09: signed out 59 seconds after the other class's sign-in: under a minute, no flag.
        try w.scan("D1", 7, 0, "in", day: "2026-03-09", session: 0, at: "08:30")
        try w.scan("D1", 7, 0, "out", day: "2026-03-09", session: 0, at: "11:30", seconds: 59)
        try w.attend("D2", 8, 0, day: "2026-03-09", session: 1, "11:30", "13:00")
        #expect(try w.flags(7, 0, day: "2026-03-09") == [])
        #expect(try w.flags(8, 0, day: "2026-03-09") == [])
        #expect(try w.flags(9, 0, day: "2026-03-06")?.contains("overlap") == true)
        // Class 9's record overlaps class 8's too (08:30–09:00 inside 08:30–16:00).
        #expect(try w.flags(8, 0, day: "2026-03-06") == ["overlap"])
    }

    @Test("overlap: a quarantined event never creates one, neither a sign-in nor a sign-out")
    func quarantineNeverOverlaps() throws {
        let w = try FlagWorld()
        try w.attend("D1", 7, 0, day: "2026-03-02", session: 0, "08:30", "11:30")
        // Class 8: a sign-in the county held apart, at a time that would overlap.
        try w.scan("D2", 8, 0, "in", day: "2026-03-02", session: 0, at: "09:00", quarantine: "unknown_voucher")
        try w.scan("D2", 8, 0, "out", day: "2026-03-02", session: 0, at: "10:00")
        // 03-03: class 8 06:00–08:00 counted; a held-apart sign-out at 10:00 would stretch it over class 7.
        try w.attend("D1", 7, 0, day: "2026-03-03", session: 0, "08:30", "11:30")
        try w.attend("D2", 8, 0, day: "2026-03-03", session: 0, "06:00", "08:00")
        try w.scan("D2", 8, 0, "out", day: "2026-03-03", session: 0, at: "10:00", quarantine: "clock")

        #expect(try w.county.heldAttendance(classID: 8).map(\.day.description) == ["2026-03-03"])
        #expect(try w.flags(7, 0, day: "2026-03-02") == [])
        #expect(try w.flags(7, 0, day: "2026-03-03") == [])
        #expect(try w.flags(8, 0, day: "2026-03-03") == [])
    }

    @Test("location: a device standing elsewhere flags; the same place (spaces aside) or an unknown place does not")
    func location() throws {
        let w = try FlagWorld()
        // D1 stands at class 7's place (with stray spaces); D3 elsewhere; D4 unknown.
        try w.attend("D1", 7, 0, day: "2026-03-02", session: 0, "08:30", "11:30")
        try w.attend("D3", 7, 1, day: "2026-03-02", session: 0, "08:30", "11:30")
        try w.attend("D4", 7, 2, day: "2026-03-02", session: 0, "08:30", "11:30")
        // Signed in on D1, out on D3: one of its events came from elsewhere.
        try w.scan("D1", 7, 0, "in", day: "2026-03-03", session: 0, at: "08:30")
        try w.scan("D3", 7, 0, "out", day: "2026-03-03", session: 0, at: "11:30")
        // Class 9 has no location: never flagged, whatever the device.
        try w.attend("D3", 9, 0, day: "2026-03-04", session: 0, "08:30", "11:30")

        #expect(try w.flags(7, 0, day: "2026-03-02") == [])
        #expect(try w.flags(7, 1, day: "2026-03-02") == ["location"])
        #expect(try w.flags(7, 2, day: "2026-03-02") == [])
        #expect(try w.flags(7, 0, day: "2026-03-03") == ["location"])
        #expect(try w.flags(9, 0, day: "2026-03-04") == [])

        // Moving D3 to the class's place clears it; making it unknown clears it too.
        #expect(try w.county.locateDevice("D3", location: "古县岳阳镇培训点\n").location == "古县岳阳镇培训点")
        #expect(try w.flags(7, 1, day: "2026-03-02") == [])
        try w.county.locateDevice("D3", location: "城关")
        #expect(try w.flags(7, 1, day: "2026-03-02") == ["location"])
        #expect(try w.county.locateDevice("D3", location: "  ").location == nil)
        #expect(try w.flags(7, 1, day: "2026-03-02") == [])
        #expect(throws: CountyError.unknownDevice("D9")) { try w.county.locateDevice("D9", location: "x") }
    }

    @Test("device add keeps the location with the enrollment code, trimmed; blank is unknown")
    func enrollmentLocation() throws {
        let w = try FlagWorld()
        #expect(try w.county.addDevice(site: "S01", location: " 古县岳阳镇培训点 ").location == "古县岳阳镇培训点")
        #expect(try w.county.addDevice(site: "S01", location: "").location == nil)
        #expect(try w.county.addDevice(site: "S01").location == nil)
        let stored = try w.county.db.query("SELECT location FROM enrollment_codes ORDER BY created_ms, location", []) { $0.text(0) }
        #expect(stored.compactMap { $0 } == ["古县岳阳镇培训点"])
        #expect(try w.county.device("D1")?.location == " 古县岳阳镇培训点 ")
        #expect(try w.county.listDevices().first { $0.id == "D4" }?.location == nil)
    }

    @Test("recordings: every video span of the site's devices; garbage notes and held-apart events are skipped")
    func recordings() throws {
        let w = try FlagWorld()
        func body(_ note: String?) throws -> String {
            struct Body: Encodable { var kind = "video", note: String? }
            return String(decoding: try JSONEncoder().encode(Body(note: note)), as: UTF8.self)
        }
        func note(_ start: Int64, _ end: Int64) -> String {
            #"{"camera":"cam1","end_ms":\#(end),"file":"/v/a.mp4","sha256":"00","size":10,"start_ms":\#(start)}"#
        }
        let t = FlagWorld.at("2026-03-02", "08:00")
        try w.event("D1", kind: "video", ms: t, body: try body(note(t + 3_600_000, t + 7_200_000)))
        try w.event("D4", kind: "video", ms: t, body: try body(note(t, t + 3_600_000)))
        // Garbage: not JSON, no note, a note that is not JSON, wrong types, a number no Int64 holds,
        // end before start, end equal to start, nesting deep enough to exhaust a recursive parser.
        try w.event("D1", kind: "video", ms: t, body: "{not json")
        try w.event("D1", kind: "video", ms: t, body: try body(nil))
        try w.event("D1", kind: "video", ms: t, body: try body("start_ms=1"))
        try w.event("D1", kind: "video", ms: t, body: try body(#"{"start_ms":"1","end_ms":"2"}"#))
        try w.event("D1", kind: "video", ms: t, body: try body(#"{"start_ms":1,"end_ms":1e300}"#))
        try w.event("D1", kind: "video", ms: t, body: try body(note(t + 10, t)))
        try w.event("D1", kind: "video", ms: t, body: try body(note(t, t)))
        try w.event("D1", kind: "video", ms: t, body: try body(String(repeating: "[", count: 100_000)))
        try w.event("D1", kind: "video", ms: t, body: try body(String(repeating: #"{"a":"#, count: 50_000)))
        // Held apart by the county: never a recording.
        try w.event("D1", kind: "video", ms: t, quarantine: "signature", body: try body(note(t - 9_000, t - 1_000)))
        // Another site's device, and a scan with a note-like body.
        try w.event("D2", kind: "video", ms: t, body: try body(note(t, t + 60_000)))
        try w.event("D1", kind: "scan", ms: t, body: try body(note(t - 5, t - 1)))

        #expect(try w.county.recordings(site: "S01") == [TimeSpan(t, t + 3_600_000), TimeSpan(t + 3_600_000, t + 7_200_000)])
        #expect(try w.county.recordings(site: "S02") == [TimeSpan(t, t + 60_000)])
        #expect(throws: CountyError.unknownSite("S09")) { try w.county.recordings(site: "S09") }
    }

    @Test("a class of 60 trainees over 60 days, all of them in a second class too: one pass, right flags")
    func scale() throws {
        let w = try FlagWorld()
        let clock = ContinuousClock()
        let people = Array(100..<160)
        for (id, site) in [(UInt32(20), "S01"), (21, "S02")] {
            try w.county.addClass(
                ClassInfo(
                    id: id, name: "Class \(id)", trade: OccupationCode("6-18-02-04")!, level: 4, location: "",
                    startDate: ClassDay(iso: "2026-03-02")!, endDate: ClassDay(iso: "2026-04-30")!,
                    sessions: SessionWindow.parseList("08:30-11:30,14:00-17:00")!),
                site: site)
            try w.issue(id, people: people)
        }
        // Every day: class 20 in the morning, class 21 in the afternoon; on the last day trainee 7
        // signs in to class 21 at 11:00 while still in class 20.
        let first = ClassDay(iso: "2026-03-02")!
        try w.county.db.transaction {
            for d in 0..<60 {
                let day = first.adding(days: d).description
                for n in people.indices {
                    try w.attend("D1", 20, n, day: day, session: 0, "08:30", "11:30")
                    try w.attend("D2", 21, n, day: day, session: 1, d == 59 && n == 7 ? "11:00" : "14:00", "17:00")
                }
            }
        }
        let start = clock.now
        let held = try w.county.heldAttendance(classID: 20)
        let took = clock.now - start
        #expect(held.count == 60 * 60)
        let last = first.adding(days: 59)
        #expect(held.filter { $0.flags.contains("overlap") }.map { [$0.voucherID, UInt64($0.day.number)] }
            == [[w.voucher(20, 7), UInt64(last.number)]])
        #expect(took < .seconds(20), "heldAttendance of 3,600 records against 3,600 others took \(took)")
    }
}
