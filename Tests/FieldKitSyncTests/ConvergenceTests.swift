import CountyKit
import CountyServer
import Dispatch
import FieldKitCore
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
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
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
    func serve() async throws {
        let store = SQLiteCountyStore(office: office)
        let (stream, ready) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(service: SyncService(store: store), port: 0, logger: Logger(label: "county")) { bound in
            ready.yield(bound)
        }
        Task { try? await app.runService() }
        for await bound in stream {
            port = bound
            break
        }
    }

    func held() throws -> (all: Int64, distinct: Int64) {
        try office.db.first("SELECT count(*), count(DISTINCT device_id || ':' || seq) FROM events") { ($0.int64(0), $0.int64(1)) }
            ?? (0, 0)
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
}
