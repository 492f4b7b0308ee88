import CountyKit
import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import Foundation
import Logging

/// The county store on the county home's SQLite file (the embedded default).
///
/// One connection, one writer at a time (SQLite's rule anyway): calls are serialised by a lock.
/// Every upload is one `BEGIN IMMEDIATE` transaction, so a crash mid-commit leaves either all of
/// a batch or none of it, and `UNIQUE(device_id, seq)` makes a second copy impossible.
public final class SQLiteCountyStore: CountyStore, @unchecked Sendable {
    let office: CountyOffice
    let lock = NSLock()
    let logger: Logger
    /// Voucher codes whose signature verified, across uploads.
    let verified = VerifiedCodes()

    /// Opens the store of a county home.
    public init(office: CountyOffice, logger: Logger = Logger(label: "fieldkit-county", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.office = office
        self.logger = logger
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - Enrollment

    public func enroll(_ request: EnrollRequest) throws -> EnrollResponse {
        try locked {
            let db = office.db
            let now = office.now().milliseconds
            return try db.transaction {
                let hash = CountyOffice.codeHash(request.code)
                // Every reason a code cannot be used gets the same answer, so the answers tell a
                // guesser nothing (not even which site a code is for); the log says which.
                func refuse(_ why: String) -> Problem {
                    logger.info("enrollment refused", metadata: ["why": "\(why)", "site": "\(request.site)"])
                    return Problem.enrollmentCode
                }
                guard let (site, expires, used, usedBy, location) = try db.first(
                    "SELECT site_id, expires_ms, used_ms, device_id, location FROM enrollment_codes WHERE code_hash = ?", [.text(hash)],
                    { ($0.text(0) ?? "", $0.int64(1), $0.optionalInt64(2), $0.text(3), $0.text(4)) })
                else { throw refuse("unknown code") }
                guard site == request.site else { throw refuse("code for another site") }
                if let existing = try office.device(request.device) {
                    // The same device asking again with its code (its first answer was lost): same answer.
                    guard existing.publicKey == request.public_key, usedBy == request.device, existing.status == "active" else {
                        throw Problem("device-exists", status: 409, title: "This device id is enrolled already",
                                      detail: "device \(request.device) is enrolled with another key or was cut off")
                    }
                    return response(request)
                }
                guard used == nil else { throw refuse("code used") }
                guard now <= expires else { throw refuse("code expired") }
                guard try db.first("SELECT 1 FROM devices WHERE public_key = ?", [.text(request.public_key)], { _ in true }) == nil
                else {
                    throw Problem("device-exists", status: 409, title: "This key is enrolled already",
                                  detail: "the key of device \(request.device) is enrolled under another id")
                }
                // Where the officer said this PC would stand goes with it (`device add --location`).
                try db.run(
                    "INSERT INTO devices(id, site_id, public_key, status, enrolled_ms, location) VALUES (?, ?, ?, 'active', ?, ?)",
                    [.text(request.device), .text(site), .text(request.public_key), .integer(now), .string(location)])
                try db.run(
                    "UPDATE enrollment_codes SET used_ms = ?, device_id = ? WHERE code_hash = ?",
                    [.integer(now), .text(request.device), .text(hash)])
                logger.info("device enrolled", metadata: ["device": "\(request.device)", "site": "\(site)"])
                return response(request)
            }
        }
    }

    func response(_ request: EnrollRequest) -> EnrollResponse {
        EnrollResponse(
            device: request.device, site: request.site, county: office.countyID,
            county_public_key: Base64.encode(office.rootPublicKey.rawRepresentation))
    }

    public func device(_ id: String) throws -> DeviceRecord? { try locked { try office.device(id) } }

    public func highWater(device: String, deviceMs: Int64) throws -> Receipt {
        try locked { try office.highWater(device: device, deviceMs: deviceMs) }
    }

    public func bundle(site: String) throws -> (sequence: Int64, file: [UInt8]) {
        try locked { try office.currentBundle(site: site) }
    }

    // MARK: - Upload

    public func ingest(_ batch: EventBatch, idempotencyKey: String, bodySHA256: String, deviceMs: Int64) throws -> Receipt {
        try locked {
            let db = office.db
            return try db.transaction {
                guard let device = try office.device(batch.device) else { throw Problem.unknownDevice(batch.device) }
                // A retry of a request already answered: the same receipt.
                if let (storedHash, receiptText) = try db.first(
                    "SELECT body_sha256, receipt FROM uploads WHERE device_id = ? AND idempotency_key = ?",
                    [.text(device.id), .text(idempotencyKey)], { ($0.text(0) ?? "", $0.text(1) ?? "") }),
                    storedHash == bodySHA256, let receipt = try? JSONDecoder().decode(Receipt.self, from: Data(receiptText.utf8))
                {
                    return receipt
                }
                let held = device.headSeq
                guard batch.from <= held + 1 else {
                    throw Problem("gap", status: 409, title: "Events are missing before this batch",
                                  detail: "the county holds \(device.id) up to \(held); send from \(held + 1)", expectedSeq: held + 1)
                }
                // What the county holds of the overlap, to compare byte for byte (by hash).
                var stored: [Int64: [UInt8]] = [:]
                if batch.from <= held {
                    for (seq, hash) in try db.query(
                        "SELECT seq, hash FROM events WHERE device_id = ? AND seq BETWEEN ? AND ?",
                        [.text(device.id), .integer(max(1, batch.from - 1)), .integer(min(held, batch.to))],
                        { ($0.int64(0), $0.blob(1)) })
                    { stored[seq] = hash }
                } else if batch.from > 1 {
                    stored[batch.from - 1] = device.headHash
                }
                var previous = batch.from == 1 ? SiteEvent.genesisHash : stored[batch.from - 1] ?? device.headHash
                let insert = try db.prepare(
                    """
                    INSERT INTO events(device_id, seq, site_id, kind, direction, voucher_id, class_id, class_day, session_index,
                        flags, wall_ms, hash, body, received_ms, quarantine) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                var audit = EventAudit(facts: office, verified: verified)
                var quarantined = 0
                let encoder = SyncWire.encoder()
                let received = office.now().milliseconds
                var head = held
                var headHash = device.headHash
                var touched: Set<String> = []
                for e in batch.events {
                    guard e.hashMatches, let hash = hexBytes(e.hash) else {
                        throw Problem("tampered-event", status: 422, title: "An event does not match its hash",
                                      detail: "event \(e.seq) of \(device.id) was altered on the way or on the device")
                    }
                    // A restored device may go on from an earlier event than the county's last,
                    // when it says so in a signed `restored` event: which event it continues (its
                    // previous-hash must be the county's event there), and that the county held
                    // up to here (events made after it before the restore are lost, it states).
                    var statement: RestoreStatement?
                    if e.seq == held + 1, e.kind == EventKind.restored.rawValue, let declared = RestoreStatement(note: e.note),
                        declared.countySeq == held, declared.eventSeq == e.seq, hexBytes(e.prev_hash) == declared.baseHash
                    {
                        let base =
                            declared.baseSeq == 0
                            ? SiteEvent.genesisHash
                            : try db.first(
                                "SELECT hash FROM events WHERE device_id = ? AND seq = ?", [.text(device.id), .integer(declared.baseSeq)],
                                { $0.blob(0) })
                        if base == declared.baseHash {
                            previous = declared.baseHash
                            statement = declared
                        }
                    }
                    guard hexBytes(e.prev_hash) == previous else {
                        throw Problem.fork("event \(e.seq) of \(device.id) does not continue the chain the county holds")
                    }
                    if e.seq <= held {
                        guard stored[e.seq] == hash else {
                            throw Problem.fork("event \(e.seq) of \(device.id) differs from the one the county holds")
                        }
                    } else {
                        let reasons = try audit.reasons(for: e, site: device.site, receivedMs: received)
                        if !reasons.isEmpty { quarantined += 1 }
                        try insert.bind([
                            .text(device.id), .integer(e.seq), .text(device.site), .text(e.kind), .string(e.direction),
                            e.voucher_id.map { .integer(Int64(bitPattern: $0)) } ?? .null, .int(e.class_id),
                            .string(e.class_day), .int(e.session_index), .text(e.flags), .integer(e.wall_ms), .blob(hash),
                            .text(String(decoding: eventJSON(e), as: UTF8.self)), .integer(received),
                            reasons.isEmpty ? .null : .text(reasons.map(\.rawValue).joined(separator: ",")),
                        ])
                        while try insert.step() {}
                        insert.reset()
                        if let statement {
                            try db.run(
                                """
                                INSERT INTO restorations(device_id, seq, base_seq, county_seq, wall_ms, received_ms)
                                VALUES (?, ?, ?, ?, ?, ?)
                                """,
                                [.text(device.id), .integer(e.seq), .integer(statement.baseSeq), .integer(statement.countySeq),
                                 .integer(e.wall_ms), .integer(received)])
                            logger.info(
                                "device restored from a backup", metadata: ["device": "\(device.id)", "base": "\(statement.baseSeq)", "held": "\(held)"])
                        }
                        head = e.seq
                        headHash = hash
                        if e.direction != nil, let v = e.voucher_id, let day = e.class_day { touched.insert("\(v)|\(day)") }
                    }
                    previous = hash
                }
                let receipt = try office.signReceipt(device: device.id, ackedSeq: head, headHash: headHash, deviceMs: deviceMs)
                if quarantined > 0 {
                    logger.info("events held apart", metadata: ["device": "\(device.id)", "events": "\(quarantined)"])
                }
                let offset = receipt.server_ms.subtractingClamped(deviceMs)
                try db.run(
                    "UPDATE devices SET head_seq = ?, head_hash = ?, last_sync_ms = ?, clock_offset_ms = ? WHERE id = ?",
                    [.integer(head), .blob(headHash), .integer(receipt.server_ms), .integer(offset), .text(device.id)])
                try db.run(
                    "INSERT INTO clock_readings(device_id, server_ms, device_ms, offset_ms) VALUES (?, ?, ?, ?)",
                    [.text(device.id), .integer(receipt.server_ms), .integer(deviceMs), .integer(offset)])
                try db.run(
                    """
                    INSERT INTO uploads(device_id, idempotency_key, body_sha256, receipt, created_ms) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(device_id, idempotency_key) DO UPDATE SET body_sha256 = excluded.body_sha256,
                        receipt = excluded.receipt, created_ms = excluded.created_ms
                    """,
                    [
                        .text(device.id), .text(idempotencyKey), .text(bodySHA256),
                        .text(String(decoding: try encoder.encode(receipt), as: UTF8.self)), .integer(received),
                    ])
                for key in touched.sorted() {
                    let parts = key.split(separator: "|")
                    try findConflicts(voucher: UInt64(parts[0]) ?? 0, day: String(parts[1]), now: received)
                }
                return receipt
            }
        }
    }

    func eventJSON(_ e: WireEvent) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        e.appendJSON(to: &out)
        return out
    }

    /// Flags a voucher signed in at two sites at overlapping times on one day.
    func findConflicts(voucher: UInt64, day: String, now: Int64) throws {
        let rows = try office.db.query(
            "SELECT site_id, direction, wall_ms FROM events WHERE voucher_id = ? AND class_day = ? AND direction IS NOT NULL ORDER BY wall_ms, seq",
            [.integer(Int64(bitPattern: voucher)), .text(day)]
        ) { ($0.text(0) ?? "", $0.text(1) ?? "", $0.int64(2)) }
        guard Set(rows.map(\.0)).count > 1 else { return }
        // Intervals per site: from each sign-in to the next sign-out (or the end of the day).
        var intervals: [(site: String, from: Int64, to: Int64)] = []
        var open: [String: Int64] = [:]
        for (site, direction, time) in rows {
            if direction == "in" {
                if open[site] == nil { open[site] = time }
            } else if let from = open.removeValue(forKey: site) {
                intervals.append((site, from, time))
            }
        }
        for (site, from) in open { intervals.append((site, from, Int64.max)) }
        for (i, a) in intervals.enumerated() {
            for b in intervals[(i + 1)...] where a.site != b.site && a.from < b.to && b.from < a.to {
                let (first, second) = a.site < b.site ? (a, b) : (b, a)
                try office.db.run(
                    "INSERT OR IGNORE INTO conflicts(voucher_id, class_day, site_a, site_b, detected_ms, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .integer(Int64(bitPattern: voucher)), .text(day), .text(first.site), .text(second.site), .integer(now),
                        .text("signed in at \(first.site) from \(first.from) and at \(second.site) from \(second.from)"),
                    ])
                logger.info("voucher signed in at two sites", metadata: ["voucher": "\(voucher)", "day": "\(day)"])
            }
        }
    }
}

extension Problem {
    /// An enrollment code that is unknown, used, expired or for another site: one answer for all.
    static let enrollmentCode = Problem(
        "enrollment-code", status: 403, title: "The enrollment code cannot be used",
        detail: "the code is unknown, used, expired or for another site; check it, or ask the county for a new one")

    /// A device the county does not know.
    static func unknownDevice(_ id: String) -> Problem {
        Problem("unknown-device", status: 401, title: "Unknown device",
                detail: "device \(id) is not enrolled; enroll it with a code from the county")
    }

    /// Events that contradict what the county holds: never retried.
    static func fork(_ detail: String) -> Problem {
        Problem("fork", status: 409, title: "The device's log contradicts what the county holds", detail: detail)
    }
}

extension Problem {
    /// The name of ``tooManyAttempts(_:)``.
    static let tooManyAttemptsName = "too-many-attempts"

    /// Too many failed enrollments from this address or for this code: wait.
    static func tooManyAttempts(_ seconds: Int64) -> Problem {
        var p = Problem(
            tooManyAttemptsName, status: 429, title: "Too many failed enrollment attempts",
            detail: "wait \(seconds) seconds, then check the code with the county")
        p.retryAfter = seconds
        return p
    }
}
