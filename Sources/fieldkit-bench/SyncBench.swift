import CountyKit
import CountyServer
import Crypto
import Dispatch
import FieldKitCore
import FieldKitStore
import FieldKitSync
import FoundationEssentials
import Hummingbird
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What `fieldkit-bench sync` measures.
struct SyncResult: Encodable {
    /// Events the station sent.
    var events: Int64
    /// Wall seconds for `SyncClient.sync()` against the county server on loopback.
    var sync_seconds: Double
    /// Events per second.
    var sync_events_per_second: Double
    /// Requests the sync made.
    var sync_requests: Int
    /// Devices uploading at once in the ingest run.
    var ingest_devices: Int
    /// Events they uploaded in all.
    var ingest_events: Int
    /// Wall seconds from the first request to the last receipt.
    var ingest_seconds: Double
    /// Events stored per second by the county.
    var ingest_events_per_second: Double
    /// The county held exactly what was sent, once (checked after both runs).
    var exactly_once: Bool
    /// Events of the station's genuine log the county's checks held apart (must be 0).
    var held_apart: Int64
}

/// Starts the county server in this process on a free loopback port; returns its URL.
func startCountyServer(office: CountyOffice) throws -> String {
    let store = SQLiteCountyStore(office: office)
    let ready = DispatchSemaphore(value: 0)
    let port = PortBox()
    let app = buildApplication(service: SyncService(store: store), port: 0, logger: quietLogger("county")) { bound in
        port.value = bound
        ready.signal()
    }
    Task { try? await app.runService() }
    guard ready.wait(timeout: .now() + 30) == .success else { throw BenchError("the county server did not start") }
    return "http://127.0.0.1:\(port.value)"
}

final class PortBox: @unchecked Sendable { var value = 0 }

/// 1. A station with `events` in its log syncs them all to the county on loopback.
/// 2. `devices` devices upload `perDevice` events each at the same time (batches of 1000).
func runSyncBench(dir: String, events: Int64, devices: Int, perDevice: Int) throws -> SyncResult {
    let scenario = try Scenario(dir: dir, vouchers: 200, prefillEvents: Int(events))
    try scenario.prefill(to: events)
    let office = try CountyOffice(home: dir + "/county", logger: quietLogger("county"))
    let url = try startCountyServer(office: office)

    // The station enrolls and syncs everything.
    let station = try scenario.openStation()
    let code = try office.addDevice(site: Scenario.siteID).code
    let client = SyncClient(station: station, county: url, http: HTTPClient())
    _ = try client.enroll(code: code)
    let head = try station.syncState().headSeq

    let t0 = DispatchTime.now()
    let outcome = try client.sync()
    let syncSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9

    // Devices of other sites, uploading at once.
    for d in 0..<devices { try office.addSite(id: "B\(d)", name: "Bench site \(d)") }
    var uploads: [[(headers: [(name: String, value: String)], body: [UInt8], path: String)]] = []
    for d in 0..<devices {
        let key = Curve25519.Signing.PrivateKey()
        let id = DeviceID.make(site: "B\(d)", key: key.publicKey)
        let publicKey = Base64.encode(key.publicKey.rawRepresentation)
        let enrollCode = try office.addDevice(site: "B\(d)").code
        let signature = Base64.encode(try key.signature(
            for: SyncWire.enrollMessage(code: enrollCode, site: "B\(d)", device: id, publicKey: publicKey)))
        _ = try office.enroll(
            EnrollRequest(code: enrollCode, site: "B\(d)", device: id, public_key: publicKey, signature: signature), in: office,
            logger: quietLogger("county"))
        var events: [WireEvent] = []
        var prev = SiteEvent.genesisHash
        for i in 1...perDevice {
            let e = SiteEvent(
                seq: Int64(i), uuid: uuidV7(milliseconds: 1_767_600_000_000 + Int64(i)), deviceID: id, kind: .refused,
                reason: "unreadable", code: "hmac-sha256:00/1", wallTime: Timestamp(milliseconds: 1_767_600_000_000 + Int64(i) * 1000),
                utcOffset: 28_800, bootID: "bench", monotonicNanos: Int64(i), prevHash: prev)
            prev = e.hash
            events.append(WireEvent(e))
        }
        var requests: [(headers: [(name: String, value: String)], body: [UInt8], path: String)] = []
        for start in stride(from: 0, to: events.count, by: 1000) {
            let batch = EventBatch(device: id, events: Array(events[start..<min(start + 1000, events.count)]))
            let body = Array(try SyncWire.encoder().encode(batch))
            let path = SyncWire.eventsPath(device: id)
            let time: Int64 = 1_767_600_000_000
            let sig = try key.signature(
                for: SyncWire.requestMessage(
                    method: "POST", path: path, device: id, time: time, idempotencyKey: batch.idempotencyKey, body: body))
            requests.append((
                [
                    (SyncWire.Header.device, id), (SyncWire.Header.time, String(time)),
                    (SyncWire.Header.signature, Base64.encode(sig)), (SyncWire.Header.idempotencyKey, batch.idempotencyKey),
                    ("Content-Type", "application/json"),
                ], body, path
            ))
        }
        uploads.append(requests)
    }
    // One thread per device, as ten site PCs would be.
    let failures = UnsafeMutablePointer<Int>.allocate(capacity: uploads.count)
    failures.initialize(repeating: 0, count: uploads.count)
    defer { failures.deallocate() }
    let t1 = DispatchTime.now()
    let threads = uploads.enumerated().map { (i, requests) in
        spawnThread {
            let http = HTTPClient()
            for r in requests {
                let response = try? http.send(FieldKitSync.HTTPRequest(method: "POST", url: url + r.path, headers: r.headers, body: r.body))
                if response?.status != 200 { failures[i] += 1 }
            }
        }
    }
    for t in threads { pthread_join(t, nil) }
    let ingestSeconds = Double(DispatchTime.now().uptimeNanoseconds - t1.uptimeNanoseconds) / 1e9
    let held = try office.eventTally()
    let total = Int64(devices * perDevice) + head
    return SyncResult(
        events: head, sync_seconds: syncSeconds, sync_events_per_second: Double(head) / syncSeconds,
        sync_requests: outcome.requests, ingest_devices: devices, ingest_events: devices * perDevice,
        ingest_seconds: ingestSeconds, ingest_events_per_second: Double(devices * perDevice) / ingestSeconds,
        exactly_once: (0..<uploads.count).allSatisfy { failures[$0] == 0 } && held.events == total && held.distinct == total,
        held_apart: held.heldApart)
}

/// What a thread started by ``spawnThread(_:)`` runs.
final class ThreadWork {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts a thread running `body`; join it with `pthread_join`.
func spawnThread(_ body: @escaping () -> Void) -> pthread_t {
    var thread = pthread_t()
    let work = Unmanaged.passRetained(ThreadWork(body)).toOpaque()
    pthread_create(&thread, nil, { raw in
        Unmanaged<ThreadWork>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, work)
    return thread
}
