import CountyKit
import FieldKitCore
import FieldKitSQLite
@testable import FieldKitStore
import FoundationEssentials
import Testing

@Suite("A missing site database, a cut-off init, a new device")
struct InitTests {
    /// A folder with a county's root.pub and the clock of the tests.
    final class Home {
        let dir = temporaryDirectory("fk-init")
        let clock = TestClock(ClassDay(iso: "2026-03-01")!.at(LocalTime("09:00")!))
        let root: [UInt8]
        var site: String { dir + "/site" }

        init() throws {
            try CountyOffice.initialize(home: dir + "/county", countyID: "141023")
            root = try Files.read(dir + "/county/root.pub")
        }

        @discardableResult
        func initialize() throws -> Station { try Station.initialize(home: site, siteID: "S01", rootKeyFile: root, clock: clock) }
        func exists(_ name: String) -> Bool { Files.exists(site + "/" + name) }
        func remove(_ name: String) throws { try Files.remove(site + "/" + name) }

        deinit { _ = try? removeTree(dir) }
    }

    @Test("database gone: every open says restore it from backup; init refuses to reuse the key")
    func databaseGone() throws {
        let home = try Home()
        let first = try home.initialize()
        let kid = String(first.deviceID.split(separator: "-").last ?? "")
        for name in ["fieldkit.db", "fieldkit.db-wal", "fieldkit.db-shm"] { try home.remove(name) }

        #expect(throws: StationError.databaseMissing(home: home.site, database: home.site + "/fieldkit.db", keyID: kid)) {
            try Station(home: home.site, clock: home.clock)
        }
        let words = StationError.databaseMissing(home: home.site, database: home.site + "/fieldkit.db", keyID: kid)
        #expect(words.text(Localizer(.en)).hasPrefix("database missing: \(home.site)/fieldkit.db is gone"))
        #expect(words.text(Localizer(.zhHans)).hasPrefix("数据库缺失"))
        #expect(!words.text(Localizer(.en)).contains("run `fieldkit init"))

        #expect(throws: StationError.initWouldReuseKey(home: home.site, database: home.site + "/fieldkit.db", keyID: kid)) {
            try home.initialize()
        }
        #expect(!home.exists("fieldkit.db"), "a refused init leaves nothing behind")
    }

    @Test("--new-device: the old key files are kept renamed, a new key makes a new device id and a new log")
    func newDevice() throws {
        let home = try Home()
        let first = try home.initialize()
        let oldKey = try Files.read(home.site + "/device.key")
        try home.remove("fieldkit.db")

        let retired = try Station.retireDeviceKey(home: home.site, clock: home.clock)
        let stamp = "2026-03-01T010000Z"
        #expect(Set(retired).isSuperset(of: [home.site + "/device.key.retired-\(stamp)", home.site + "/device.pub.retired-\(stamp)"]))
        #expect(!home.exists("device.key") && !home.exists("device.pub"))
        #expect(try Files.read(home.site + "/device.key.retired-\(stamp)") == oldKey)
        #expect(Files.mode(home.site + "/device.key.retired-\(stamp)") == 0o600)

        let second = try home.initialize()
        #expect(second.deviceID != first.deviceID && second.deviceID.hasPrefix("S01-"))
        #expect(try Files.read(home.site + "/device.key") != oldKey)
        #expect(try second.events().map(\.seq) == [1])

        // A second retirement in the same second never overwrites the first.
        try home.remove("fieldkit.db")
        let again = try Station.retireDeviceKey(home: home.site, clock: home.clock)
        #expect(again.contains(home.site + "/device.key.retired-\(stamp)-2"))
        #expect(try Files.read(home.site + "/device.key.retired-\(stamp)") == oldKey)
    }

    @Test("--new-device with the database in place retires nothing")
    func newDeviceWithDatabase() throws {
        let home = try Home()
        try home.initialize()
        #expect(throws: StationError.alreadyInitialized(home.site, site: "S01")) {
            try Station.retireDeviceKey(home: home.site, clock: home.clock)
        }
        #expect(home.exists("device.key") && !home.exists("device.key.new"))
    }

    @Test("an init cut off after writing its key (no database yet) finishes on a rerun, with that key")
    func cutOffBeforeDatabase() throws {
        let home = try Home()
        let other = try Home()
        let made = try other.initialize()
        // Given: what a cut-off init leaves: the pending key and nothing else.
        try Files.makeDirectory(home.site)
        try Files.createPrivate(try Files.read(other.site + "/device.key"), at: home.site + "/device.key.new")
        // When: init runs again.
        let station = try home.initialize()
        // Then: the same key, now in place; the log starts at 1.
        #expect(station.deviceID == made.deviceID)
        #expect(home.exists("device.key") && !home.exists("device.key.new"))
        #expect(try station.events().map(\.seq) == [1])
    }

    @Test("an init cut off after the database but before the key was put in place finishes on a rerun")
    func cutOffAfterDatabase() throws {
        let home = try Home()
        let first = try home.initialize()
        // Given: the database and its first event committed, the key not yet renamed into place.
        try Files.move(home.site + "/device.key", to: home.site + "/device.key.new")
        #expect(throws: StationError.notInitialized(home.site)) { try Station(home: home.site, clock: home.clock) }
        // When: init runs again. Then: it finishes with the same key and one log.
        let station = try home.initialize()
        #expect(station.deviceID == first.deviceID)
        #expect(try station.events().map(\.seq) == [1])
        #expect(home.exists("device.key") && !home.exists("device.key.new"))
    }

    @Test("a write-ahead log left without its database is set aside, never replayed into a new one")
    func strayWriteAheadLog() throws {
        let home = try Home()
        try Files.makeDirectory(home.site)
        try Files.writeAtomically(Array("not a log".utf8), to: home.site + "/fieldkit.db-wal")
        let station = try home.initialize()
        #expect(try station.events().map(\.seq) == [1])
        #expect(try Files.read(home.site + "/fieldkit.db-wal.retired-2026-03-01T010000Z") == Array("not a log".utf8))
    }

    @Test("a log whose device key is gone is never replaced: restore the key")
    func keyGone() throws {
        let f = try Fixture()
        let site = f.dir + "/site"
        let events = try f.station.events().count
        #expect(events >= 2)
        try Files.remove(site + "/device.key")
        #expect(throws: StationError.deviceKeyMissing(home: site, key: site + "/device.key")) {
            try Station(home: site, clock: f.clock)
        }
        #expect(throws: StationError.deviceKeyMissing(home: site, key: site + "/device.key")) {
            try Station.initialize(home: site, siteID: "S01", rootKeyFile: try Files.read(f.dir + "/county/root.pub"), clock: f.clock)
        }
        #expect(try Database(path: site + "/fieldkit.db").first("SELECT count(*) FROM events") { $0.int64(0) } == Int64(events))
    }
}
