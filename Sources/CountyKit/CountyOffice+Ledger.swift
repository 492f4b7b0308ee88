import FieldKitCore
import FieldKitSQLite
import FoundationEssentials

/// The county home's SQLite file as a ``CountyLedger``: the embedded default backend. Every
/// unit is one `BEGIN IMMEDIATE` transaction, so a crash mid-commit leaves all of a batch or
/// none of it, another process writing the same file waits its turn, and
/// `UNIQUE(device_id, seq)` makes a second copy impossible. One connection: the caller keeps
/// to one thread at a time (CountyServer's store runs it on its own serial queue).
extension CountyOffice: CountyLedger {
    public func atomically<T>(_ body: () throws -> T) throws -> T {
        try db.transaction(immediate: true, body)
    }

    public func deviceID(withKey publicKey: String) throws -> String? {
        try db.first("SELECT id FROM devices WHERE public_key = ?", [.text(publicKey)], { $0.text(0) }) ?? nil
    }

    public func enrollmentCode(hash: String) throws -> StoredEnrollmentCode? {
        try db.first(
            "SELECT site_id, expires_ms, used_ms, device_id, location FROM enrollment_codes WHERE code_hash = ?", [.text(hash)],
            { StoredEnrollmentCode(site: $0.text(0) ?? "", expiresMs: $0.int64(1), usedMs: $0.optionalInt64(2), usedBy: $0.text(3), location: $0.text(4)) })
    }

    public func enroll(_ e: LedgerEnrollment) throws {
        try db.run(
            "INSERT INTO devices(id, site_id, public_key, status, enrolled_ms, location) VALUES (?, ?, ?, 'active', ?, ?)",
            [.text(e.device), .text(e.site), .text(e.publicKey), .integer(e.nowMs), .string(e.location)])
        try db.run(
            "UPDATE enrollment_codes SET used_ms = ?, device_id = ? WHERE code_hash = ?",
            [.integer(e.nowMs), .text(e.device), .text(e.codeHash)])
    }

    public func upload(device: String, idempotencyKey: String) throws -> StoredUpload? {
        try db.first(
            "SELECT body_sha256, receipt FROM uploads WHERE device_id = ? AND idempotency_key = ?",
            [.text(device), .text(idempotencyKey)],
            { StoredUpload(bodySHA256: $0.text(0) ?? "", receipt: try? JSONDecoder().decode(Receipt.self, from: Data(($0.text(1) ?? "").utf8))) })
    }

    public func eventHashes(device: String, seqs: ClosedRange<Int64>) throws -> [Int64: [UInt8]] {
        var out: [Int64: [UInt8]] = [:]
        for (seq, hash) in try db.query(
            "SELECT seq, hash FROM events WHERE device_id = ? AND seq BETWEEN ? AND ?",
            [.text(device), .integer(seqs.lowerBound), .integer(seqs.upperBound)], { ($0.int64(0), $0.blob(1)) })
        { out[seq] = hash }
        return out
    }

    public func append(_ a: LedgerAppend) throws {
        let insert = try db.prepare(
            """
            INSERT INTO events(device_id, seq, site_id, kind, direction, voucher_id, class_id, class_day, session_index,
                flags, wall_ms, hash, body, received_ms, quarantine) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for held in a.events {
            let e = held.event
            try insert.bind([
                .text(a.device), .integer(e.seq), .text(a.site), .text(e.kind), .string(e.direction),
                e.voucher_id.map { .integer(Int64(bitPattern: $0)) } ?? .null, .int(e.class_id),
                .string(e.class_day), .int(e.session_index), .text(e.flags), .integer(e.wall_ms), .blob(held.hash),
                .text(String(decoding: held.body, as: UTF8.self)), .integer(a.receivedMs),
                held.quarantine.isEmpty ? .null : .text(held.quarantine.map(\.rawValue).joined(separator: ",")),
            ])
            while try insert.step() {}
            insert.reset()
        }
        if let r = a.restoration {
            try db.run(
                "INSERT INTO restorations(device_id, seq, base_seq, county_seq, wall_ms, received_ms) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(a.device), .integer(r.seq), .integer(r.baseSeq), .integer(r.countySeq), .integer(r.wallMs), .integer(a.receivedMs)])
        }
        let offset = a.receipt.server_ms.subtractingClamped(a.deviceMs)
        try db.run(
            "UPDATE devices SET head_seq = ?, head_hash = ?, last_sync_ms = ?, clock_offset_ms = ? WHERE id = ?",
            [.integer(a.headSeq), .blob(a.headHash), .integer(a.receipt.server_ms), .integer(offset), .text(a.device)])
        try db.run(
            "INSERT INTO clock_readings(device_id, server_ms, device_ms, offset_ms) VALUES (?, ?, ?, ?)",
            [.text(a.device), .integer(a.receipt.server_ms), .integer(a.deviceMs), .integer(offset)])
        try db.run(
            """
            INSERT INTO uploads(device_id, idempotency_key, body_sha256, receipt, created_ms) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(device_id, idempotency_key) DO UPDATE SET body_sha256 = excluded.body_sha256,
                receipt = excluded.receipt, created_ms = excluded.created_ms
            """,
            [
                .text(a.device), .text(a.idempotencyKey), .text(a.bodySHA256),
                .text(String(decoding: try SyncWire.encoder().encode(a.receipt), as: UTF8.self)), .integer(a.receivedMs),
            ])
    }

    public func signings(voucher: UInt64, day: String) throws -> [Signing] {
        try db.query(
            "SELECT site_id, direction, wall_ms FROM events WHERE voucher_id = ? AND class_day = ? AND direction IS NOT NULL ORDER BY wall_ms, seq",
            [.integer(Int64(bitPattern: voucher)), .text(day)]
        ) { Signing(site: $0.text(0) ?? "", direction: $0.text(1) ?? "", wallMs: $0.int64(2)) }
    }

    public func recordConflict(_ c: SiteConflict) throws {
        try db.run(
            "INSERT OR IGNORE INTO conflicts(voucher_id, class_day, site_a, site_b, detected_ms, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [.integer(Int64(bitPattern: c.voucher)), .text(c.day), .text(c.siteA), .text(c.siteB), .integer(c.detectedMs), .text(c.detail)])
    }
}
