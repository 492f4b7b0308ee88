import CountyKit
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A clock the test moves by hand.
final class TestClock: StationClock, @unchecked Sendable {
    var time: Timestamp
    var mono: Int64 = 1_000_000
    let bootID = "test-boot"

    init(_ time: Timestamp) { self.time = time }
    func now() -> Timestamp { time }
    func monotonicNanos() -> Int64 {
        mono += 1000
        return mono
    }
    /// Sets the local time (UTC+8) on a day.
    func set(_ day: String, _ time: String) { self.time = ClassDay(iso: day)!.at(LocalTime(time)!) }
}

/// A fresh folder under /dev/shm when it exists (fast fsync), else /tmp.
func temporaryDirectory(_ tag: String = "fk") -> String {
    // Scripts/test points FIELDKIT_TEST_TMP at one folder it removes afterwards.
    let base = getenv("FIELDKIT_TEST_TMP").map { String(cString: $0) } ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
    var template = Array("\(base)/\(tag)-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// Generates valid ID numbers.
func idNumber(_ n: Int) -> String {
    let birth = ClassDay(year: 1960, month: 1, day: 1)!.adding(days: n / 1000).description.filter { $0 != "-" }
    let first = "141023" + birth + String(String(1000 + n % 1000).suffix(3))
    return first + String(IDNumber.checkCharacter(for: first))
}

/// A county with one site and class 12 (2026-03-02 to 2026-03-31, 08:30-11:30 and 14:00-17:00),
/// vouchers for `trainees` people, and a station that imported the bundle.
final class Fixture {
    let dir: String
    let clock: TestClock
    let county: CountyOffice
    let station: Station
    var vouchers: [IssuedVoucher]

    init(trainees: Int = 5, sessions: String = "08:30-11:30,14:00-17:00") throws {
        dir = temporaryDirectory()
        clock = TestClock(ClassDay(iso: "2026-03-01")!.at(LocalTime("09:00")!))
        let clock = self.clock
        county = try CountyOffice.initialize(home: dir + "/county", countyID: "141023", now: { clock.now() })
        try county.addSite(id: "S01", name: "古县职业培训学校")
        try county.addSite(id: "S02", name: "Other school")
        try county.addClass(
            ClassInfo(
                id: 12, name: "中式烹调师", trade: OccupationCode("4-03-02-01")!, level: 5, location: "古县",
                startDate: ClassDay(iso: "2026-03-02")!, endDate: ClassDay(iso: "2026-03-31")!,
                sessions: SessionWindow.parseList(sessions)!), site: "S01")
        try county.addClass(
            ClassInfo(
                id: 13, name: "Elsewhere", trade: OccupationCode("4-03-02-01")!, level: 5, location: "",
                startDate: ClassDay(iso: "2026-03-02")!, endDate: ClassDay(iso: "2026-03-31")!,
                sessions: SessionWindow.parseList(sessions)!), site: "S02")
        let roster = (0..<trainees).map { "Trainee \($0),\(idNumber($0))" }.joined(separator: "\n")
        vouchers = try county.issueVouchers(classID: 12, roster: Array(roster.utf8))
        vouchers += try county.issueVouchers(classID: 13, roster: Array("Other,\(idNumber(9999))".utf8))
        station = try Station.initialize(
            home: dir + "/site", siteID: "S01",
            rootKeyFile: try Files.read(dir + "/county/root.pub"), clock: clock)
        _ = try station.importTrust(fileBytes: county.exportBundle(site: "S01").fileBytes)
    }

    /// The code of voucher `i` of class 12.
    func code(_ i: Int) -> String { vouchers[i].code }

    deinit { _ = try? removeTree(dir) }
}

/// Removes a folder tree.
func removeTree(_ path: String) throws {
    try FileManager.default.removeItem(atPath: path)
}
