import Crypto
import FieldKitCore
import FoundationEssentials
import Logging

/// The county's rules for what devices send: enrollment and uploads, on any ``CountyLedger``.
/// A backend keeps the records; these functions decide (see the seam described on
/// ``CountyLedger``). The county's root key signs receipts, its clock stamps them.
extension CountyOffice {
    // MARK: - Enrollment

    /// Enrolls a device with a one-time code (the request's signature is checked by the caller).
    /// The same device asking again with its code (its first answer was lost) gets the same answer.
    /// - Throws: ``SyncRefusal`` `enrollmentCode`, `deviceIDTaken`, `keyTaken`; nothing is stored then.
    public func enroll(_ request: EnrollRequest, in ledger: some CountyLedger, logger: Logger) throws -> EnrollResponse {
        let now = self.now().milliseconds
        return try ledger.atomically {
            let hash = CountyOffice.codeHash(request.code)
            // Every reason a code cannot be used gets the same answer, so the answers tell a
            // guesser nothing (not even which site a code is for); the log says which.
            func refuse(_ why: String) -> SyncRefusal {
                logger.info("enrollment refused", metadata: ["why": "\(why)", "site": "\(request.site)"])
                return .enrollmentCode
            }
            guard let code = try ledger.enrollmentCode(hash: hash) else { throw refuse("unknown code") }
            guard code.site == request.site else { throw refuse("code for another site") }
            if let existing = try ledger.device(request.device) {
                guard existing.publicKey == request.public_key, code.usedBy == request.device, existing.status == "active" else {
                    throw SyncRefusal.deviceIDTaken(request.device)
                }
                return enrollResponse(request)
            }
            guard code.usedMs == nil else { throw refuse("code used") }
            guard now <= code.expiresMs else { throw refuse("code expired") }
            guard try ledger.deviceID(withKey: request.public_key) == nil else { throw SyncRefusal.keyTaken(request.device) }
            // Where the officer said this PC would stand goes with it (`device add --location`).
            try ledger.enroll(LedgerEnrollment(
                device: request.device, site: code.site, publicKey: request.public_key, location: code.location, codeHash: hash,
                nowMs: now))
            logger.info("device enrolled", metadata: ["device": "\(request.device)", "site": "\(code.site)"])
            return enrollResponse(request)
        }
    }

    func enrollResponse(_ request: EnrollRequest) -> EnrollResponse {
        EnrollResponse(
            device: request.device, site: request.site, county: countyID,
            county_public_key: Base64.encode(rootPublicKey.rawRepresentation))
    }

    // MARK: - Upload

    /// Stores a verified device's batch exactly once and answers with a signed receipt: the
    /// receipt stored for the same idempotency key and the same body bytes; otherwise a new one
    /// after storing what was new (events already held must be the very events held).
    /// - Parameters:
    ///   - bodySHA256: SHA-256 of the request body, lower-case hex.
    ///   - deviceMs: the device's clock as the request stated it.
    ///   - verified: voucher codes already verified in this process.
    /// - Throws: ``SyncRefusal`` `unknownDevice`, `gap`, `tamperedEvent`, `brokenChain`,
    ///   `differsFromHeld`, with nothing stored; what the ledger throws.
    public func ingest(
        _ batch: EventBatch, idempotencyKey: String, bodySHA256: String, deviceMs: Int64, in ledger: some CountyLedger,
        verified: VerifiedCodes, logger: Logger
    ) throws -> Receipt {
        try ledger.atomically {
            guard let device = try ledger.device(batch.device) else { throw SyncRefusal.unknownDevice(batch.device) }
            // A retry of a request already answered: the same receipt.
            if let stored = try ledger.upload(device: device.id, idempotencyKey: idempotencyKey), stored.bodySHA256 == bodySHA256,
                let receipt = stored.receipt
            {
                return receipt
            }
            let held = device.headSeq
            guard batch.from <= held + 1 else { throw SyncRefusal.gap(device: device.id, held: held) }
            // What the county holds of the overlap, to compare byte for byte (by hash).
            var stored: [Int64: [UInt8]] = [:]
            if batch.from <= held {
                stored = try ledger.eventHashes(device: device.id, seqs: max(1, batch.from - 1)...min(held, batch.to))
            } else if batch.from > 1 {
                stored[batch.from - 1] = device.headHash
            }
            var previous = batch.from == 1 ? SiteEvent.genesisHash : stored[batch.from - 1] ?? device.headHash
            var audit = EventAudit(facts: ledger, verified: verified)
            let received = now().milliseconds
            var new: [LedgerEvent] = []
            var restoration: LedgerRestoration?
            var head = held
            var headHash = device.headHash
            var touched: Set<String> = []
            for e in batch.events {
                guard e.hashMatches, let hash = hexBytes(e.hash) else { throw SyncRefusal.tamperedEvent(device: device.id, seq: e.seq) }
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
                        : try ledger.eventHashes(device: device.id, seqs: declared.baseSeq...declared.baseSeq)[declared.baseSeq]
                    if base == declared.baseHash {
                        previous = declared.baseHash
                        statement = declared
                    }
                }
                guard hexBytes(e.prev_hash) == previous else { throw SyncRefusal.brokenChain(device: device.id, seq: e.seq) }
                if e.seq <= held {
                    guard stored[e.seq] == hash else { throw SyncRefusal.differsFromHeld(device: device.id, seq: e.seq) }
                } else {
                    let reasons = try audit.reasons(for: e, site: device.site, receivedMs: received)
                    new.append(LedgerEvent(event: e, hash: hash, body: eventJSON(e), quarantine: reasons))
                    if let statement {
                        restoration = LedgerRestoration(
                            seq: e.seq, baseSeq: statement.baseSeq, countySeq: statement.countySeq, wallMs: e.wall_ms)
                        logger.info(
                            "device restored from a backup", metadata: ["device": "\(device.id)", "base": "\(statement.baseSeq)", "held": "\(held)"])
                    }
                    head = e.seq
                    headHash = hash
                    if e.direction != nil, let v = e.voucher_id, let day = e.class_day { touched.insert("\(v)|\(day)") }
                }
                previous = hash
            }
            let receipt = try signReceipt(device: device.id, ackedSeq: head, headHash: headHash, deviceMs: deviceMs)
            let quarantined = new.count(where: { !$0.quarantine.isEmpty })
            if quarantined > 0 {
                logger.info("events held apart", metadata: ["device": "\(device.id)", "events": "\(quarantined)"])
            }
            try ledger.append(LedgerAppend(
                device: device.id, site: device.site, events: new, restoration: restoration, headSeq: head, headHash: headHash,
                receivedMs: received, deviceMs: deviceMs, receipt: receipt, idempotencyKey: idempotencyKey, bodySHA256: bodySHA256))
            for key in touched.sorted() {
                let parts = key.split(separator: "|")
                try findConflicts(voucher: UInt64(parts[0]) ?? 0, day: String(parts[1]), now: received, in: ledger, logger: logger)
            }
            return receipt
        }
    }

    /// The event's JSON as the county keeps it.
    func eventJSON(_ e: WireEvent) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        e.appendJSON(to: &out)
        return out
    }

    /// Flags a voucher signed in at two sites at overlapping times on one day.
    func findConflicts(voucher: UInt64, day: String, now: Int64, in ledger: some CountyLedger, logger: Logger) throws {
        let rows = try ledger.signings(voucher: voucher, day: day)
        guard Set(rows.map(\.site)).count > 1 else { return }
        // Intervals per site: from each sign-in to the next sign-out (or the end of the day).
        var intervals: [(site: String, from: Int64, to: Int64)] = []
        var open: [String: Int64] = [:]
        for r in rows {
            if r.direction == "in" {
                if open[r.site] == nil { open[r.site] = r.wallMs }
            } else if let from = open.removeValue(forKey: r.site) {
                intervals.append((r.site, from, r.wallMs))
            }
        }
        for (site, from) in open { intervals.append((site, from, Int64.max)) }
        for (i, a) in intervals.enumerated() {
            for b in intervals[(i + 1)...] where a.site != b.site && a.from < b.to && b.from < a.to {
                let (first, second) = a.site < b.site ? (a, b) : (b, a)
                try ledger.recordConflict(SiteConflict(
                    voucher: voucher, day: day, siteA: first.site, siteB: second.site, detectedMs: now,
                    detail: "signed in at \(first.site) from \(first.from) and at \(second.site) from \(second.from)"))
                logger.info("voucher signed in at two sites", metadata: ["voucher": "\(voucher)", "day": "\(day)"])
            }
        }
    }
}
