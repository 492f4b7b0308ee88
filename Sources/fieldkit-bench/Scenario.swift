// The benchmark's world: a county with one site and one class, a roster of generated trainees
// with signed vouchers, a station that imported the site's bundle, and optionally a log
// pre-filled with many valid, hash-chained events from earlier class days.
import CountyKit
import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

/// The class every benchmark uses, and the days around it.
struct Scenario {
    /// The class number.
    static let classID: UInt32 = 12
    /// The site.
    static let siteID = "S01"
    /// Two sessions a day, as most county classes run.
    static let sessions = SessionWindow.parseList("08:30-11:30,14:00-17:00")!
    /// The first class day (the county and the station are set up the evening before).
    static let firstDay = ClassDay(iso: "2026-01-05")!

    /// The folder holding `county/` and `site/`.
    let dir: String
    /// The station's (fake) clock.
    let clock: BenchClock
    /// The issued vouchers.
    let vouchers: [IssuedVoucher]
    /// The day the timed scans start: the day after the pre-filled ones.
    let benchDay: ClassDay

    /// The station's home folder.
    var siteHome: String { dir + "/site" }

    /// Events one class day adds to the log when everyone signs in and out of both sessions.
    static func eventsPerDay(vouchers: Int) -> Int { vouchers * sessions.count * 2 }

    /// Creates the county, the class, the vouchers and the station, all on a fake clock set to
    /// the evening before the first class day.
    /// - Parameters:
    ///   - prefillEvents: how many events the log will be filled with (it sets how many earlier
    ///     class days there are, so the timed day comes after them).
    init(dir: String, vouchers count: Int, prefillEvents: Int) throws {
        self.dir = dir
        let days = (prefillEvents + Scenario.eventsPerDay(vouchers: count) - 1) / Scenario.eventsPerDay(vouchers: count)
        benchDay = Scenario.firstDay.adding(days: days)
        let clock = BenchClock(Scenario.firstDay.adding(days: -1).at(LocalTime("18:00")!))
        self.clock = clock
        let logger = quietLogger("fieldkit-bench")

        let county = try CountyOffice.initialize(
            home: dir + "/county", countyID: "141023", logger: logger, now: { clock.now() })
        try county.addSite(id: Scenario.siteID, name: "古县职业培训学校")
        try county.addClass(
            ClassInfo(
                id: Scenario.classID, name: "中式烹调师（初级）", trade: OccupationCode("4-03-02-01")!, level: 5,
                location: "古县岳阳镇", startDate: Scenario.firstDay, endDate: benchDay.adding(days: 30),
                sessions: Scenario.sessions),
            site: Scenario.siteID)
        vouchers = try county.issueVouchers(classID: Scenario.classID, roster: Array(rosterCSV(count: count).utf8))
        let bundle = try county.exportBundle(site: Scenario.siteID, validDays: 365).fileBytes

        let station = try Station.initialize(
            home: dir + "/site", siteID: Scenario.siteID, rootKeyFile: try Files.read(dir + "/county/root.pub"),
            clock: clock, logger: logger)
        _ = try station.importTrust(fileBytes: bundle)
    }

    /// Opens the station with the real durable settings.
    func openStation() throws -> Station {
        try Station(home: siteHome, clock: clock, logger: quietLogger("fieldkit-bench"))
    }

    // MARK: - Bulk fill

    /// Fills the log up to `target` events, quickly but validly: the earlier class days as they
    /// would have been recorded (everyone signs in and out of both sessions, a device-signed
    /// checkpoint at each session's end), with the derived `sessions` and `attendance` rows.
    ///
    /// Each event is a real ``SiteEvent`` chained to the previous hash and inserted with
    /// `Database.insert`, as `Station.append` does; the database is opened without fsync and
    /// committed in large batches. Returns the events added.
    @discardableResult
    func prefill(to target: Int64) throws -> Int64 {
        // Who this device is: the same values Station.append writes.
        let probe = try openStation()
        let deviceID = probe.deviceID
        let utcOffset = probe.utcOffset
        guard let keyRaw = Base64.decode(String(decoding: try Files.read(siteHome + "/" + Station.Layout.deviceKey), as: UTF8.self)),
            let deviceKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: keyRaw)
        else { throw BenchError("cannot read the station's device key") }
        _ = consume probe  // close the station's connection before bulk loading

        let db = try Database(path: siteHome + "/" + Station.Layout.database, durability: .none)
        var (seq, prev) = try db.first("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1") {
            ($0.int64(0), $0.blob(1))
        } ?? (0, SiteEvent.genesisHash)
        let start = seq
        guard seq < target else { return 0 }

        var mono: Int64 = 1_000_000_000
        var lastTime = clock.time
        var rng = SplitMix64(seed: 0x5EED_F111)

        /// Chains, hashes and inserts one event; returns its sequence number.
        func append(
            kind: EventKind, direction: Direction? = nil, voucher: IssuedVoucher? = nil, session: SessionKey? = nil,
            note: String? = nil, flags: Set<EventFlag> = [], at time: Timestamp
        ) throws -> Int64 {
            mono += 1_000_000
            let event = SiteEvent(
                seq: seq + 1, uuid: uuidV7(milliseconds: time.milliseconds), deviceID: deviceID, kind: kind,
                direction: direction, voucherID: voucher?.voucherID, classID: session?.classID, classDay: session?.day,
                sessionIndex: session?.index, note: note, code: voucher?.code, flags: flags, wallTime: time,
                utcOffset: utcOffset, bootID: clock.bootID, monotonicNanos: mono, prevHash: prev)
            try db.insert(event)  // the same insert Station.append uses
            seq = event.seq
            prev = event.hash
            lastTime = time
            if seq % 20_000 == 0 {
                try db.execute("COMMIT; BEGIN")
                if seq % 100_000 == 0 { progress("filled \(seq) of \(target) events") }
            }
            return seq
        }

        try db.execute("BEGIN")
        var day = Scenario.firstDay
        fill: while true {
            guard day < benchDay else { throw BenchError("the pre-filled days ran into the timed day \(benchDay)") }
            for (index, window) in Scenario.sessions.enumerated() {
                let key = SessionKey(classID: Scenario.classID, day: day, index: index)
                let keyValues: [SQLValue] = [.integer(Int64(key.classID)), .text(day.description), .integer(Int64(index))]
                let start = day.at(window.start, utcOffset: utcOffset)
                let end = day.at(window.end, utcOffset: utcOffset)
                let closes = end.adding(minutes: 60)
                // A past session: already closed.
                try db.run(
                    "INSERT INTO sessions(class_id, class_day, session_index, closes_ms, closed) VALUES (?, ?, ?, ?, 1)",
                    keyValues + [.integer(closes.milliseconds)])
                // Sign-ins from 25 minutes before the start to 20 minutes after (the last ones late).
                let arrivals = vouchers.shuffled(using: &rng)
                for (i, v) in arrivals.enumerated() {
                    guard seq < target else { break fill }
                    let t = start.adding(minutes: -25).milliseconds + Int64(i) * 45 * 60_000 / Int64(arrivals.count)
                    let time = Timestamp(milliseconds: t)
                    let late = time > start.adding(minutes: 15)
                    let s = try append(kind: .scan, direction: .signIn, voucher: v, session: key, flags: late ? [.late] : [], at: time)
                    try db.run(
                        "INSERT INTO attendance(class_id, class_day, session_index, voucher_id, in_seq, in_ms) VALUES (?, ?, ?, ?, ?, ?)",
                        keyValues + [.integer(Int64(bitPattern: v.voucherID)), .integer(s), .integer(t)])
                }
                // Sign-outs from 5 minutes before the end to 30 minutes after.
                for (i, v) in vouchers.shuffled(using: &rng).enumerated() {
                    guard seq < target else { break fill }
                    let t = end.adding(minutes: -5).milliseconds + Int64(i) * 35 * 60_000 / Int64(vouchers.count)
                    let s = try append(kind: .scan, direction: .signOut, voucher: v, session: key, at: Timestamp(milliseconds: t))
                    try db.run(
                        """
                        UPDATE attendance SET out_seq = ?, out_ms = ?
                        WHERE class_id = ? AND class_day = ? AND session_index = ? AND voucher_id = ?
                        """, [.integer(s), .integer(t)] + keyValues + [.integer(Int64(bitPattern: v.voucherID))])
                }
                // The checkpoint the station signs when the sign-out window closes.
                let cp = try Checkpoint(
                    signing: deviceID, seq: seq, headHash: prev, at: closes, reason: "end of \(key)", key: deviceKey)
                try db.run(
                    "INSERT INTO checkpoints(seq, head_hash, signed_ms, reason, signature) VALUES (?, ?, ?, ?, ?)",
                    [.integer(cp.seq), .blob(cp.headHash), .integer(cp.signedAt.milliseconds), .text(cp.reason), .blob(cp.signature)])
            }
            day = day.adding(days: 1)
        }
        // The latest time seen, as Station.append would have left it.
        try db.run(
            "INSERT OR REPLACE INTO settings(key, value) VALUES ('high_water_ms', ?)", [.text(String(lastTime.milliseconds))])
        try db.execute("COMMIT")
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return seq - start
    }
}
