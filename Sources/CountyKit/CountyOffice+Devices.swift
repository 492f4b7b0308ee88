import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Logging

/// A one-time code that lets a site PC enroll its device key.
public struct EnrollmentCode: Sendable, Equatable {
    /// Twelve digits in groups of four, as the officer reads it out: `4821-0937-5512`.
    public var code: String
    /// The site it enrolls a device for.
    public var site: String
    /// After this it is refused.
    public var expiresAt: Timestamp
    /// Where the device it enrolls stands (copied to the device when it enrolls); nil = unknown.
    public var location: String? = nil
}

/// A device the county knows.
public struct DeviceRecord: Sendable, Equatable {
    /// `SITE-<key id>`.
    public var id: String
    /// Its site.
    public var site: String
    /// Ed25519 public key, base64.
    public var publicKey: String
    /// `active` or `revoked`.
    public var status: String
    /// When it enrolled.
    public var enrolledAt: Timestamp
    /// When it was cut off.
    public var revokedAt: Timestamp?
    /// The last sequence number held, and that event's hash.
    public var headSeq: Int64
    /// The hash of event ``headSeq`` (zeros before the first).
    public var headHash: [UInt8]
    /// The last successful upload.
    public var lastSync: Timestamp?
    /// County clock minus device clock at the last sync, in milliseconds.
    public var clockOffsetMs: Int64?
    /// Where it stands, as the county recorded it; nil = unknown (never flags `location`).
    public var location: String? = nil
}

extension CountyOffice {
    /// How long an enrollment code stays usable.
    public static let enrollmentHours = 72

    /// Makes a one-time enrollment code for a site; only its SHA-256 is kept.
    /// - Parameter location: where the PC will stand (kept with the code, copied to the device
    ///   when it enrolls); nil or blank = unknown.
    /// - Throws: ``CountyError/unknownSite(_:)``.
    public func addDevice(
        site: String, validHours: Int = CountyOffice.enrollmentHours, location: String? = nil
    ) throws -> EnrollmentCode {
        guard try db.first("SELECT 1 FROM sites WHERE id = ?", [.text(site)], { _ in true }) != nil else {
            throw CountyError.unknownSite(site)
        }
        var generator = SystemRandomNumberGenerator()
        let digits = (0..<12).map { _ in String(UInt8.random(in: 0...9, using: &generator)) }.joined()
        let code = [0, 4, 8].map { String(Array(digits)[$0..<$0 + 4]) }.joined(separator: "-")
        let created = now()
        let expires = created.adding(minutes: validHours * 60)
        let place = CountyOffice.placeName(location)
        try db.run(
            "INSERT INTO enrollment_codes(code_hash, site_id, created_ms, expires_ms, location) VALUES (?, ?, ?, ?, ?)",
            [
                .text(CountyOffice.codeHash(code)), .text(site), .integer(created.milliseconds), .integer(expires.milliseconds),
                .string(place),
            ])
        logger.info("enrollment code made", metadata: ["site": "\(site)"])
        return EnrollmentCode(code: code, site: site, expiresAt: expires, location: place)
    }

    /// Records where an enrolled device stands; nil or blank makes it unknown again.
    /// - Returns: the device as it now stands.
    /// - Throws: ``CountyError/unknownDevice(_:)``.
    @discardableResult
    public func locateDevice(_ id: String, location: String?) throws -> DeviceRecord {
        let place = CountyOffice.placeName(location)
        return try db.transaction {
            guard try device(id) != nil else { throw CountyError.unknownDevice(id) }
            try db.run("UPDATE devices SET location = ? WHERE id = ?", [.string(place), .text(id)])
            logger.info("device located", metadata: ["device": "\(id)"])
            guard let located = try device(id) else { throw CountyError.unknownDevice(id) }
            return located
        }
    }

    /// A place as stored: trimmed; nil when blank (unknown).
    static func placeName(_ text: String?) -> String? {
        guard let trimmed = text?.trimmingWhitespace(), !trimmed.isEmpty else { return nil }
        return trimmed
    }

    /// The stored form of a code: SHA-256 of its digits only (dashes and spaces as typed do not matter).
    public static func codeHash(_ code: String) -> String {
        hexString(SHA256.hash(data: Array(code.utf8.filter { (48...57).contains($0) })))
    }

    /// Cuts a device off: its uploads are refused from now on; what it sent before stays.
    /// - Throws: ``CountyError/unknownDevice(_:)``, ``CountyError/deviceAlreadyRevoked(_:on:)``, ``CountyError/reasonRequired``.
    public func revokeDevice(_ id: String, reason: String) throws {
        let reason = reason.trimmingWhitespace()
        guard !reason.isEmpty else { throw CountyError.reasonRequired }
        try db.transaction {
            guard let device = try device(id) else { throw CountyError.unknownDevice(id) }
            if let at = device.revokedAt { throw CountyError.deviceAlreadyRevoked(id, on: at.classDay().description) }
            try db.run(
                "UPDATE devices SET status = 'revoked', revoked_ms = ?, revoke_reason = ? WHERE id = ?",
                [.integer(now().milliseconds), .text(reason), .text(id)])
        }
        logger.info("device revoked", metadata: ["device": "\(id)"])
    }

    /// One device, or nil.
    public func device(_ id: String) throws -> DeviceRecord? {
        try db.first("\(CountyOffice.deviceSelect) WHERE id = ?", [.text(id)], CountyOffice.deviceRow)
    }

    /// Every device, by site then id.
    public func listDevices() throws -> [DeviceRecord] {
        try db.query("\(CountyOffice.deviceSelect) ORDER BY site_id, id", [], CountyOffice.deviceRow)
    }

    static let deviceSelect = """
        SELECT id, site_id, public_key, status, enrolled_ms, revoked_ms, head_seq, head_hash, last_sync_ms, clock_offset_ms,
               location
        FROM devices
        """

    static func deviceRow(_ r: Statement) -> DeviceRecord {
        DeviceRecord(
            id: r.text(0) ?? "", site: r.text(1) ?? "", publicKey: r.text(2) ?? "", status: r.text(3) ?? "",
            enrolledAt: Timestamp(milliseconds: r.int64(4)), revokedAt: r.optionalInt64(5).map(Timestamp.init(milliseconds:)),
            headSeq: r.int64(6), headHash: r.blob(7), lastSync: r.optionalInt64(8).map(Timestamp.init(milliseconds:)),
            clockOffsetMs: r.optionalInt64(9), location: r.text(10))
    }

    /// Signs a receipt with the county root key (the key every site pinned).
    public func signReceipt(device: String, ackedSeq: Int64, headHash: [UInt8], deviceMs: Int64) throws -> Receipt {
        try Receipt(
            device: device, ackedSeq: ackedSeq, headHash: headHash, serverMs: now().milliseconds, deviceMs: deviceMs,
            key: rootKey)
    }

    /// The trust bundle to serve a site: the stored one while the county's data for the site is
    /// unchanged and it has more than half its validity left; otherwise a new one (next sequence).
    public func currentBundle(site: String, validDays: Int = 30) throws -> (sequence: Int64, file: [UInt8]) {
        let content = try bundleContentHash(site: site)
        let t = now()
        if let stored = try db.first(
            "SELECT sequence, content_hash, issued_ms, expires_ms, file FROM site_bundles WHERE site_id = ?", [.text(site)],
            { ($0.int64(0), $0.text(1) ?? "", $0.int64(2), $0.int64(3), $0.blob(4)) }),
            stored.1 == content, t.milliseconds < stored.2 + (stored.3 - stored.2) / 2
        {
            return (stored.0, stored.4)
        }
        let signed = try exportBundle(site: site, validDays: validDays)
        let sequence = try db.first("SELECT sequence FROM site_bundles WHERE site_id = ?", [.text(site)]) { $0.int64(0) } ?? 0
        return (sequence, signed.fileBytes)
    }

    /// A digest of what a site's bundle says apart from its sequence and dates.
    func bundleContentHash(site: String) throws -> String {
        var h = SHA256()
        for key in try listKeys() { h.update(data: Array("\(key.kid)|\(key.publicKey)|\(key.status.rawValue)|\(String(describing: key.validTo))\n".utf8)) }
        let rows = try db.query(
            """
            SELECT c.json, v.id, v.name, v.id_masked, coalesce(v.category, ''), coalesce(v.revoked_ms, 0)
            FROM classes c LEFT JOIN vouchers v ON v.class_id = c.id WHERE c.site_id = ? ORDER BY c.id, v.id
            """, [.text(site)]
        ) { r in "\(r.text(0) ?? "")|\(r.int64(1))|\(r.text(2) ?? "")|\(r.text(3) ?? "")|\(r.text(4) ?? "")|\(r.int64(5))\n" }
        for row in rows { h.update(data: Array(row.utf8)) }
        if let name = try db.first("SELECT name FROM sites WHERE id = ?", [.text(site)], { $0.text(0) }) { h.update(data: Array((name ?? "").utf8)) }
        return hexString(h.finalize())
    }

    /// Keeps a bundle as the site's newest (called by ``exportBundle(site:validDays:)``).
    func storeBundle(_ bundle: TrustBundle, file: [UInt8], contentHash: String) throws {
        try db.run(
            """
            INSERT INTO site_bundles(site_id, sequence, content_hash, issued_ms, expires_ms, file) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(site_id) DO UPDATE SET sequence = excluded.sequence, content_hash = excluded.content_hash,
                issued_ms = excluded.issued_ms, expires_ms = excluded.expires_ms, file = excluded.file
            """,
            [
                .text(bundle.siteID), .integer(bundle.sequence), .text(contentHash),
                .integer(bundle.issuedAt.milliseconds), .integer(bundle.expiresAt.milliseconds), .blob(file),
            ])
    }
}

// MARK: - Enrollment by file

extension CountyOffice {
    /// The code as a file for a USB stick, signed with the county root key so the site can tell
    /// it comes from the county it pinned.
    public func enrollmentCodeFile(_ code: EnrollmentCode) throws -> EnrollmentCodeFile {
        try EnrollmentCodeFile(
            code: code.code, site: code.site, county: countyID, expiresMs: code.expiresAt.milliseconds, rootKey: rootKey)
    }

    /// The answer to an enrollment as a file for a USB stick, signed with the county root key.
    public func enrollmentAnswerFile(_ answer: EnrollResponse) throws -> EnrollmentAnswerFile {
        try EnrollmentAnswerFile(answer: answer, rootKey: rootKey)
    }

    /// Why the code in a request cannot be used, in words for the county's own clerk (the
    /// server answers every such case alike, so a guesser learns nothing; the clerk holding the
    /// request file may know). Read only: the rules are the enrollment's.
    public func codeRefusal(_ request: EnrollRequest, file: String) throws -> CountyError {
        guard let (site, expires, used) = try db.first(
            "SELECT site_id, expires_ms, used_ms FROM enrollment_codes WHERE code_hash = ?", [.text(CountyOffice.codeHash(request.code))],
            { ($0.text(0) ?? "", $0.int64(1), $0.optionalInt64(2)) })
        else { return .enrollmentRefused(file, .unknownCode) }
        if site != request.site { return .enrollmentRefused(file, .otherSite(site)) }
        if used != nil { return .enrollmentRefused(file, .usedCode) }
        if now().milliseconds > expires { return .enrollmentRefused(file, .expiredCode(Timestamp(milliseconds: expires).localDescription())) }
        return .enrollmentRefused(file, .unknownCode)
    }
}
