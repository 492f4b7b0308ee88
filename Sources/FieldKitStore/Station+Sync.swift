import Crypto
import FieldKitCore
import FieldKitSQLite
import FoundationEssentials

/// Where the station stands with the county.
public struct SyncState: Sendable, Encodable {
    /// The county's address, from enrollment.
    public var countyURL: String?
    /// When the device enrolled.
    public var enrolledAt: Timestamp?
    /// Everything up to here is held by the county (a verified receipt said so).
    public var ackedSeq: Int64
    /// The newest event.
    public var headSeq: Int64
    /// Events the county does not hold yet (counted: a restored log's numbers may jump).
    public var unsynced: Int64
    /// The oldest of them.
    public var oldestUnsyncedAt: Timestamp?
    /// The last sync that ended with everything acknowledged.
    public var lastSuccessAt: Timestamp?
    /// The last failure, in words.
    public var lastError: String?
    /// When it happened.
    public var lastErrorAt: Timestamp?
    /// Set when the county answered that this log contradicts what it holds: syncing stops
    /// until someone looks.
    public var stopped: String?

    enum CodingKeys: String, CodingKey {
        case countyURL = "county_url"
        case enrolledAt = "enrolled_at"
        case ackedSeq = "acked_seq"
        case headSeq = "head_seq"
        case unsynced
        case oldestUnsyncedAt = "oldest_unsynced_at"
        case lastSuccessAt = "last_success_at"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
        case stopped
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(countyURL, forKey: .countyURL)
        try c.encodeIfPresent(enrolledAt, forKey: .enrolledAt)
        try c.encode(ackedSeq, forKey: .ackedSeq)
        try c.encode(headSeq, forKey: .headSeq)
        try c.encode(unsynced, forKey: .unsynced)
        try c.encodeIfPresent(oldestUnsyncedAt, forKey: .oldestUnsyncedAt)
        try c.encodeIfPresent(lastSuccessAt, forKey: .lastSuccessAt)
        try c.encodeIfPresent(lastError, forKey: .lastError)
        try c.encodeIfPresent(lastErrorAt, forKey: .lastErrorAt)
        try c.encodeIfPresent(stopped, forKey: .stopped)
    }
}

/// Why a receipt was not taken.
public enum ReceiptCheck: Sendable, Equatable {
    /// Taken: the acknowledged sequence is now this.
    case accepted(Int64)
    /// Not signed by the pinned county root key (a captive portal, a proxy, a forgery).
    case badSignature
    /// For another device.
    case otherDevice(String)
    /// Acknowledges events this device never wrote.
    case ahead(Int64)
    /// The head hash differs from this log's event at that sequence: the logs have forked.
    case fork(Int64)
}

extension Station {
    /// The sync state and the log's head.
    public func syncState() throws -> SyncState {
        let head = try head().seq
        let row = try db.first(
            "SELECT county_url, enrolled_ms, acked_seq, last_success_ms, last_error, last_error_ms, stopped FROM sync_state WHERE id = 1"
        ) { r in
            (r.text(0), r.optionalInt64(1), r.int64(2), r.optionalInt64(3), r.text(4), r.optionalInt64(5), r.text(6))
        }
        let acked = row?.2 ?? 0
        let oldest = try db.first("SELECT wall_ms FROM events WHERE seq > ? ORDER BY seq LIMIT 1", [.integer(acked)]) { $0.int64(0) }
        let unsynced = try db.first("SELECT count(*) FROM events WHERE seq > ?", [.integer(acked)]) { $0.int64(0) } ?? 0
        return SyncState(
            countyURL: row?.0, enrolledAt: row?.1.map(Timestamp.init(milliseconds:)), ackedSeq: acked, headSeq: head, unsynced: unsynced,
            oldestUnsyncedAt: oldest.map(Timestamp.init(milliseconds:)),
            lastSuccessAt: row?.3.map(Timestamp.init(milliseconds:)), lastError: row?.4,
            lastErrorAt: row?.5.map(Timestamp.init(milliseconds:)), stopped: row?.6)
    }

    /// Remembers the county's address after enrollment.
    public func setEnrolled(countyURL: String) throws {
        try db.run(
            "UPDATE sync_state SET county_url = ?, enrolled_ms = ? WHERE id = 1",
            [.text(countyURL), .integer(clock.now().milliseconds)])
    }

    /// The enrollment request for a code: this device's public key, signed by its private key.
    public func enrollRequest(code: String) throws -> EnrollRequest {
        let publicKey = Base64.encode(deviceKey.publicKey.rawRepresentation)
        let signature = try deviceKey.signature(
            for: SyncWire.enrollMessage(code: code, site: siteID, device: deviceID, publicKey: publicKey))
        return EnrollRequest(code: code, site: siteID, device: deviceID, public_key: publicKey, signature: Base64.encode(signature))
    }

    /// The enrollment request for a code carried on a USB stick: the same request as
    /// ``enrollRequest(code:)``, once the code file is shown to come from this station's
    /// county, for this site, and still in time.
    /// - Throws: ``EnrollmentFileError``.
    public func enrollRequest(codeFile file: EnrollmentCodeFile, path: String) throws -> EnrollRequest {
        guard file.verify(with: rootKey) else { throw EnrollmentFileError.notCounty(path: path) }
        guard file.site == siteID else { throw EnrollmentFileError.otherSite(path: path, site: file.site) }
        let expires = Timestamp(milliseconds: file.expires_ms)
        guard clock.now() <= expires else { throw EnrollmentFileError.expired(path: path, at: expires) }
        return try enrollRequest(code: file.code)
    }

    /// Takes the county's answer to an enrollment carried on a USB stick: signed by this
    /// station's county for this device, it marks the station enrolled, as an HTTP enrollment
    /// does (with no county address: this site syncs by file). Taking it again changes nothing.
    /// - Throws: ``EnrollmentFileError``.
    public func takeEnrollmentAnswer(_ file: EnrollmentAnswerFile, path: String) throws {
        guard file.verify(with: rootKey) else { throw EnrollmentFileError.notCounty(path: path) }
        guard file.answer.site == siteID else { throw EnrollmentFileError.otherSite(path: path, site: file.answer.site) }
        guard file.answer.device == deviceID else { throw EnrollmentFileError.otherDevice(path: path, device: file.answer.device) }
        try db.run(
            "UPDATE sync_state SET enrolled_ms = coalesce(enrolled_ms, ?) WHERE id = 1", [.integer(clock.now().milliseconds)])
    }

    /// Signs a request to the county: the headers to send with it.
    public func signRequest(method: String, path: String, idempotencyKey: String, body: [UInt8]) throws -> [(name: String, value: String)] {
        let time = clock.now().milliseconds
        let message = SyncWire.requestMessage(
            method: method, path: path, device: deviceID, time: time, idempotencyKey: idempotencyKey, body: body)
        var headers: [(name: String, value: String)] = [
            (SyncWire.Header.device, deviceID), (SyncWire.Header.time, String(time)),
            (SyncWire.Header.signature, Base64.encode(try deviceKey.signature(for: message))),
        ]
        if !idempotencyKey.isEmpty { headers.append((SyncWire.Header.idempotencyKey, idempotencyKey)) }
        return headers
    }

    /// The next run of events after `seq`, at most `limit` of them and about `maxBytes` of JSON
    /// (always at least one event), as the bytes to send. A batch is a run of consecutive
    /// numbers: it ends before a `restored` event that jumps past events the county holds.
    public func nextBatch(after seq: Int64, limit: Int, maxBytes: Int) throws -> (batch: EventBatch, body: [UInt8])? {
        var events = try events(after: seq, limit: limit).map(WireEvent.init)
        guard !events.isEmpty else { return nil }
        if let jump = events.indices.dropLast().first(where: { events[$0 + 1].seq != events[$0].seq + 1 }) {
            events = Array(events[...jump])
        }
        var count = events.count
        while true {
            let batch = EventBatch(device: deviceID, events: Array(events.prefix(count)))
            let body = batch.jsonBytes()
            if body.count <= maxBytes || count == 1 { return (batch, body) }
            count = max(1, count * maxBytes / body.count * 9 / 10)
        }
    }

    /// A USB transfer file of the events the county has not acknowledged (at most `limit`).
    /// - Returns: the file's bytes and how many events it carries; nil when all are acknowledged.
    /// - Throws: ``BackupError/restorePending(baseSeq:)`` after a restore, until the county's
    ///   high-water is taken: the county may hold more than this log, and says so first.
    public func transferFile(limit: Int = 5000) throws -> (file: [UInt8], batch: EventBatch)? {
        if let pending = try restorePending() { throw BackupError.restorePending(baseSeq: pending.baseSeq) }
        let state = try syncState()
        guard let (batch, body) = try nextBatch(after: state.ackedSeq, limit: limit, maxBytes: .max) else { return nil }
        let headers = try signRequest(
            method: "POST", path: SyncWire.eventsPath(device: deviceID), idempotencyKey: batch.idempotencyKey, body: body)
        func header(_ name: String) -> String { headers.first { $0.name == name }?.value ?? "" }
        let file = TransferFile(
            format: TransferFile.formatName, device: deviceID, time: Int64(header(SyncWire.Header.time)) ?? 0,
            idempotency_key: batch.idempotencyKey, signature: header(SyncWire.Header.signature), body: Base64.encode(body))
        return (Array(try SyncWire.encoder().encode(file)) + [0x0A], batch)
    }

    /// Takes a receipt only when the county root key signed it for this device and it agrees
    /// with this log; moves the acknowledged sequence forward (never back).
    public func takeReceipt(_ receipt: Receipt) throws -> ReceiptCheck {
        guard receipt.verify(with: rootKey) else { return .badSignature }
        guard receipt.device == deviceID else { return .otherDevice(receipt.device) }
        let head = try head()
        guard receipt.acked_seq <= head.seq else { return .ahead(receipt.acked_seq) }
        let expected: [UInt8] =
            receipt.acked_seq == 0
            ? SiteEvent.genesisHash
            : try db.first("SELECT hash FROM events WHERE seq = ?", [.integer(receipt.acked_seq)]) { $0.blob(0) } ?? []
        guard hexBytes(receipt.head_hash) == expected else { return .fork(receipt.acked_seq) }
        let text = String(decoding: try SyncWire.encoder().encode(receipt), as: UTF8.self)
        try db.run(
            "UPDATE sync_state SET acked_seq = max(acked_seq, ?), receipt = ? WHERE id = 1",
            [.integer(receipt.acked_seq), .text(text)])
        return .accepted(max(receipt.acked_seq, try syncState().ackedSeq))
    }

    /// Notes the end of a sync attempt: success clears the error; a failure keeps its words;
    /// `stop` halts syncing until someone clears it (a fork).
    public func noteSync(error: String?, stop: Bool = false) throws {
        let now = clock.now().milliseconds
        if let error {
            try db.run(
                "UPDATE sync_state SET last_error = ?, last_error_ms = ?, stopped = CASE WHEN ? THEN ? ELSE stopped END WHERE id = 1",
                [.text(error), .integer(now), .integer(stop ? 1 : 0), .text(error)])
        } else {
            try db.run("UPDATE sync_state SET last_success_ms = ?, last_error = NULL, last_error_ms = NULL WHERE id = 1", [.integer(now)])
        }
    }
}
