@testable import CountyKit
import CountyServer
import Dispatch
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FieldKitSync
import Foundation
import Hummingbird
import Logging
import Testing

/// Runs blocking work (libcurl, SQLite) on its own thread, so the test's cooperative thread is
/// free for the in-process county server meanwhile.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// A fresh folder on /dev/shm (fast fsync) or /tmp.
func scratchDirectory() -> String {
    // Scripts/test points FIELDKIT_TEST_TMP at one folder it removes afterwards.
    let base = getenv("FIELDKIT_TEST_TMP").map { String(cString: $0) } ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
    var template = Array("\(base)/fksync-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// A county with site S01, its server in this process on a free loopback port, and a station.
final class SyncWorld: @unchecked Sendable {
    let dir = scratchDirectory()
    let office: CountyOffice
    let station: Station
    var port = 0

    init() throws {
        office = try CountyOffice.initialize(home: dir + "/county", countyID: "141023")
        try office.addSite(id: "S01", name: "School")
        station = try Station.initialize(
            home: dir + "/site", siteID: "S01", rootKeyFile: try Files.read(dir + "/county/root.pub"))
        _ = try station.importTrust(fileBytes: office.exportBundle(site: "S01").fileBytes)
    }

    /// Starts the server; returns when it listens.
    func serve(maxEvents: Int = 5000) async throws {
        let store = SQLiteCountyStore(office: office)
        let (stream, ready) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(service: SyncService(store: store, maxEvents: maxEvents), port: 0, logger: Logger(label: "county", factory: { _ in SwiftLogNoOpLogHandler() })) { bound in
            ready.yield(bound)
        }
        Task { try? await app.runService() }
        for await bound in stream {
            port = bound
            break
        }
    }

    func held() throws -> (all: Int64, distinct: Int64) {
        let tally = try office.eventTally()
        return (tally.events, tally.distinct)
    }
}

@Suite("Sync over a link that drops, stalls, duplicates and lies")
struct ConvergenceTests {
    @Test("10k events at a 30% fault rate: after convergence the county holds exactly the device's events, once each")
    func convergence() async throws {
        let world = try SyncWorld()
        try await world.serve()
        // Given a station with 10k events (unreadable scans are recorded as refusals)
        let head: Int64 = try await offThePool {
            for i in 0..<10_000 { _ = try world.station.scan("noise-\(i)") }
            return try world.station.syncState().headSeq
        }
        #expect(head >= 10_000)
        let proxy = try FaultProxy(upstreamPort: world.port, rate: 0, seed: 0xF1E1D, faults: Fault.allCases)
        defer { proxy.stop() }
        let url = "http://127.0.0.1:\(proxy.port)"
        var policy = SyncClient.Policy()
        policy.batchEvents = 40
        policy.backoffBase = 0.002
        policy.backoffCap = 0.05
        policy.maxFailures = 12
        let code = try world.office.addDevice(site: "S01").code
        let fixedPolicy = policy
        // When it enrolls on a good moment, then syncs through a link failing 30% of the time
        let runs: Int = try await offThePool {
            let client = SyncClient(
                station: world.station, county: url, http: HTTPClient(connectTimeout: 2, timeout: 10, lowSpeedSeconds: 3),
                policy: fixedPolicy, pause: { usleep(UInt32($0 * 1_000_000)) })
            _ = try client.enroll(code: code)
            proxy.rate = 0.3
            var runs = 0
            while runs < 200 {
                runs += 1
                if (try? client.sync()) != nil { break }
            }
            return runs
        }
        // Then every event is at the county exactly once, acknowledged by a verified receipt
        let state = try world.station.syncState()
        let held = try world.held()
        #expect(state.ackedSeq == head && state.unsynced == 0)
        #expect(held.all == head && held.distinct == head)
        let counts = proxy.counts()
        let injected = counts.values.reduce(0, +)
        print("convergence: \(head) events, \(proxy.requests) requests, \(injected) faults injected \(counts), \(runs) sync runs")
        #expect(injected > 0 && Fault.allCases.allSatisfy { (counts[$0] ?? 0) > 0 })
    }

    @Test("a batch too large for the county is halved until it fits; a county restored from an older copy is refilled from where it stands")
    func halveAndRewind() async throws {
        let world = try SyncWorld()
        try await world.serve(maxEvents: 30)
        let url = "http://127.0.0.1:\(world.port)"
        let code = try world.office.addDevice(site: "S01").code
        let countyDB = world.dir + "/county/county.db"
        // Given 200 events and a client sending 1000 at a time to a county taking 30
        let outcome: SyncClient.Outcome = try await offThePool {
            for i in 0..<100 { _ = try world.station.scan("noise-\(i)") }
            let client = SyncClient(station: world.station, county: url)
            _ = try client.enroll(code: code)
            let first = try client.sync()
            // A copy of the county as it is now (after 100 events): its backup
            try world.office.db.execute("VACUUM INTO '\(countyDB).backup'")
            for i in 100..<200 { _ = try world.station.scan("noise-\(i)") }
            _ = try client.sync()
            return first
        }
        // Then it went through in batches of at most 30
        #expect(outcome.requests >= 4)
        #expect(try world.held().all == (try world.station.syncState().headSeq))
        // When the county is restored from the older copy (it lost the later 100)
        let held = try world.held().all
        try world.office.db.execute("""
            ATTACH '\(countyDB).backup' AS old;
            DROP TRIGGER events_append_only_delete;
            DELETE FROM events WHERE seq > (SELECT max(seq) FROM old.events);
            UPDATE devices SET head_seq = (SELECT head_seq FROM old.devices WHERE old.devices.id = devices.id),
                head_hash = (SELECT head_hash FROM old.devices WHERE old.devices.id = devices.id);
            DELETE FROM uploads;
            DETACH old;
            """)
        #expect(try world.held().all < held)
        // Then the next sync meets a gap, rewinds, and the county is whole again
        _ = try await offThePool {
            _ = try world.station.scan("after the restore")
            return try SyncClient(station: world.station, county: url).sync()
        }
        #expect(try world.held().all == (try world.station.syncState().headSeq))
    }
}
