// The scan-path benchmark: class days played scan by scan through the real `Station.scan`
// (decode, Ed25519 verify, rules, durable WAL commit), each call timed with a real stopwatch
// while the station's clock reads the scripted time.
import CountyKit
import FieldKitCore
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// One scripted scan: when it happens and what the scanner types.
struct ScriptedScan {
    var time: Timestamp
    var code: String
}

/// A class day as a classroom lives it, for each session: a sign-in wave (some trainees scan
/// twice, about 1 in 100 shows a damaged or forged code) and, at the end, a sign-out wave
/// (some scan twice again). Days repeat until `count` scans are scripted.
func scanScript(vouchers: [IssuedVoucher], from firstDay: ClassDay, count: Int, seed: UInt64 = 42) -> [ScriptedScan] {
    var rng = SplitMix64(seed: seed)
    var out: [ScriptedScan] = []
    var day = firstDay
    while out.count < count {
        for window in Scenario.sessions {
            let start = day.at(window.start)
            let end = day.at(window.end)
            // Sign-ins from 25 minutes before the start to 20 minutes after (the last ones late).
            var wave: [ScriptedScan] = []
            for (i, v) in vouchers.shuffled(using: &rng).enumerated() {
                let t = Timestamp(milliseconds: start.adding(minutes: -25).milliseconds + Int64(i) * 45 * 60_000 / Int64(vouchers.count))
                if rng.chance(0.01) { wave.append(ScriptedScan(time: Timestamp(milliseconds: t.milliseconds - 500), code: forged(v.code))) }
                wave.append(ScriptedScan(time: t, code: v.code))
                if rng.chance(0.08) { wave.append(ScriptedScan(time: Timestamp(milliseconds: t.milliseconds + 3_000), code: v.code)) }
            }
            // Sign-outs from 5 minutes before the end to 30 minutes after.
            for (i, v) in vouchers.shuffled(using: &rng).enumerated() {
                let t = Timestamp(milliseconds: end.adding(minutes: -5).milliseconds + Int64(i) * 35 * 60_000 / Int64(vouchers.count))
                wave.append(ScriptedScan(time: t, code: v.code))
                if rng.chance(0.04) { wave.append(ScriptedScan(time: Timestamp(milliseconds: t.milliseconds + 2_000), code: v.code)) }
            }
            out += wave.sorted { $0.time < $1.time }
        }
        day = day.adding(days: 1)
    }
    return Array(out.prefix(count))
}

/// What `scan-path` prints.
struct ScanPathReport: Encodable {
    var events_before: Int64
    var events_after: Int64
    var prefilled_events: Int64
    var fill_seconds: Double
    var setup_seconds: Double
    var vouchers: Int
    var scans: Int
    var scan_wall_seconds: Double
    var first_scan_day: String
    /// Every scan.
    var all: LatencyStats
    /// WAL checkpoints run after answering (``Station/maintain()``), timed apart from the scans.
    var wal_checkpoints_after_answer: LatencyStats?
    /// By outcome: sign_in, sign_out, duplicate, refused.
    var by_outcome: [String: LatencyStats]
    /// The five slowest scans: where the tail comes from.
    var slowest: [SlowScan]
    var verify_ok: Bool
    var verify_problem: String?
    var verify_events: Int64
    var verify_checkpoints: Int
    var verify_seconds: Double
    var db_bytes: Int64
    var wal_autocheckpoint: Int?
    var dir: String
}

/// One slow scan: its place in the script, its latency and outcome.
struct SlowScan: Encodable {
    var index: Int
    var us: Double
    var outcome: String
}

/// Sets up a station (optionally with `events` already in its log), plays `scans` scans through
/// it, then verifies the whole log.
/// - Parameter walAutocheckpoint: for experiments, SQLite's `wal_autocheckpoint` in pages
///   (nil keeps the station's setting, SQLite's default of 1000; 0 turns it off).
func runScanPath(dir: String, events: Int64, scans: Int, vouchers: Int, walAutocheckpoint: Int? = nil) throws
    -> ScanPathReport
{
    var t0 = stopwatchNanos()
    progress("setting up a county, \(vouchers) vouchers and a station in \(dir)")
    let scenario = try Scenario(dir: dir, vouchers: vouchers, prefillEvents: Int(events))
    let setupSeconds = seconds(since: t0)

    t0 = stopwatchNanos()
    var prefilled: Int64 = 0
    if events > 0 {
        progress("bulk-filling the log to \(events) events")
        prefilled = try scenario.prefill(to: events)
        // The bulk load wrote without fsync: flush it now, so the kernel's writeback of it does
        // not compete with the timed commits (a real log grew over months).
        progress("flushing the bulk load to disk")
        sync()
    }
    let fillSeconds = seconds(since: t0)

    // The real station, durable as shipped (WAL, synchronous=FULL), on the scripted clock.
    let station = try scenario.openStation()
    if let pages = walAutocheckpoint { try station.checkpointOnCommit(everyPages: pages) }
    let before = try station.eventCount()
    let script = scanScript(vouchers: scenario.vouchers, from: scenario.benchDay, count: scans)
    progress("timing \(scans) scans on a log of \(before) events")

    var all: [UInt64] = []
    all.reserveCapacity(scans)
    var maintenance: [UInt64] = []
    var byOutcome: [String: [UInt64]] = [:]
    var labels: [String] = []
    labels.reserveCapacity(scans)
    let wall = stopwatchNanos()
    for (i, s) in script.enumerated() {
        scenario.clock.time = s.time
        let start = stopwatchNanos()
        let outcome = try station.scan(s.code)
        let elapsed = stopwatchNanos() - start
        all.append(elapsed)
        let label = switch outcome.result {
        case .accepted: outcome.direction == .signOut ? "sign_out" : "sign_in"
        case .duplicate: "duplicate"
        case .rejected: "refused"
        }
        byOutcome[label, default: []].append(elapsed)
        labels.append(label)
        // What the CLI and kiosk do after answering: copy the WAL into the database when it has
        // grown. Timed on its own; it is not part of the answer's latency.
        let m = stopwatchNanos()
        if try station.maintain() { maintenance.append(stopwatchNanos() - m) }
        if (i + 1) % 2_000 == 0 { progress("\(i + 1) scans") }
    }
    let scanWall = seconds(since: wall)

    progress("verifying the log")
    t0 = stopwatchNanos()
    let verification = try station.verifyLog()
    let verifySeconds = seconds(since: t0)
    let after = try station.eventCount()
    let dbPath = scenario.siteHome + "/" + Station.Layout.database
    return ScanPathReport(
        events_before: before, events_after: after, prefilled_events: prefilled, fill_seconds: round3(fillSeconds),
        setup_seconds: round3(setupSeconds), vouchers: vouchers, scans: scans, scan_wall_seconds: round3(scanWall),
        first_scan_day: scenario.benchDay.description, all: LatencyStats(nanos: all),
        wal_checkpoints_after_answer: maintenance.isEmpty ? nil : LatencyStats(nanos: maintenance),
        by_outcome: byOutcome.mapValues { LatencyStats(nanos: $0) },
        slowest: all.indices.sorted { all[$0] > all[$1] }.prefix(5).map {
            SlowScan(index: $0, us: round1(Double(all[$0]) / 1000), outcome: labels[$0])
        },
        verify_ok: verification.ok,
        verify_problem: verification.problem, verify_events: verification.events,
        verify_checkpoints: verification.checkpoints, verify_seconds: round3(verifySeconds),
        db_bytes: fileBytes(dbPath) + fileBytes(dbPath + "-wal"), wal_autocheckpoint: walAutocheckpoint, dir: dir)
}
