import Crypto
import FieldKitCore
import FieldKitSQLite
import FoundationEssentials
import Logging

/// What an import changed.
public struct TrustImport: Sendable, Equatable {
    /// The bundle's sequence.
    public var sequence: Int64
    /// False when the same bundle was already held (importing twice changes nothing).
    public var changed: Bool
    /// Classes in the bundle.
    public var classes: Int
    /// Trainees on the roster.
    public var trainees: Int
    /// Revoked vouchers.
    public var revocations: Int
    /// When the bundle expires.
    public var expiresAt: Timestamp
}

extension Station {
    /// Imports a trust bundle file: checks the root signature, the site, the county and the
    /// sequence, then replaces the held trust in one transaction.
    /// - Throws: ``TrustBundleError`` when the bundle is refused; nothing is changed then.
    public func importTrust(fileBytes: [UInt8]) throws -> TrustImport {
        let signed = try SignedTrustBundle(fileBytes: fileBytes)
        let bundle = try signed.open(rootKey: rootKey)
        guard bundle.siteID == siteID else { throw TrustBundleError.wrongSite(bundle.siteID, expected: siteID) }
        let summary = TrustImport(
            sequence: bundle.sequence, changed: true, classes: bundle.classes.count, trainees: bundle.roster.count,
            revocations: bundle.revocations.count, expiresAt: bundle.expiresAt)
        return try db.transaction {
            if let held = try db.first("SELECT sequence, county_id, file FROM trust WHERE id = 1", [], {
                ($0.int64(0), $0.text(1) ?? "", $0.blob(2))
            }) {
                guard bundle.countyID == held.1 else { throw TrustBundleError.wrongCounty(bundle.countyID, expected: held.1) }
                if bundle.sequence == held.0 {
                    guard SignedTrustBundle.samePayload(held.2, fileBytes) else {
                        throw TrustBundleError.sequenceReused(bundle.sequence)
                    }
                    var same = summary
                    same.changed = false
                    return same
                }
                guard bundle.sequence > held.0 else { throw TrustBundleError.rollback(bundle.sequence, held: held.0) }
            }
            let now = clock.now()
            try db.run(
                """
                INSERT OR REPLACE INTO trust(id, sequence, county_id, site_name, issued_ms, expires_ms, imported_ms, file)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(bundle.sequence), .text(bundle.countyID), .text(bundle.siteName),
                    .integer(bundle.issuedAt.milliseconds), .integer(bundle.expiresAt.milliseconds),
                    .integer(now.milliseconds), .blob(fileBytes),
                ])
            // The new roster leaves revoked vouchers out: keep their names for the refusal's panel.
            for r in bundle.revocations {
                try db.run(
                    """
                    INSERT OR REPLACE INTO revoked_roster(voucher_id, class_id, name, id_masked)
                    SELECT voucher_id, class_id, name, id_masked FROM roster WHERE voucher_id = ?
                    """, [.integer(Int64(bitPattern: r.voucherID))])
            }
            try db.execute("DELETE FROM signing_keys; DELETE FROM classes; DELETE FROM roster; DELETE FROM revocations")
            for k in bundle.signingKeys {
                try db.run(
                    "INSERT INTO signing_keys(kid, public_key, valid_from, valid_to, status) VALUES (?, ?, ?, ?, ?)",
                    [
                        .integer(Int64(k.kid.value)), .text(k.publicKey), .integer(Int64(k.validFrom.number)),
                        .int(k.validTo?.number), .text(k.status.rawValue),
                    ])
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for c in bundle.classes {
                let json = String(decoding: try encoder.encode(c), as: UTF8.self)
                try db.run(
                    "INSERT INTO classes(id, name, start_day, end_day, json) VALUES (?, ?, ?, ?, ?)",
                    [
                        .integer(Int64(c.id)), .text(c.name), .integer(Int64(c.startDate.number)),
                        .integer(Int64(c.endDate.number)), .text(json),
                    ])
            }
            for r in bundle.roster {
                try db.run(
                    "INSERT OR REPLACE INTO roster(voucher_id, class_id, name, id_masked, category, replaces) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .integer(Int64(bitPattern: r.voucherID)), .integer(Int64(r.classID)), .text(r.name),
                        .text(r.idMasked), .string(r.category),
                        .string(r.replaces.map { $0.map(String.init).joined(separator: ",") }),
                    ])
            }
            // A reissued voucher's trainee is named by the voucher that replaced it, even on a PC
            // that never held the old roster.
            for r in bundle.roster {
                for old in r.replaces ?? [] {
                    try db.run(
                        "INSERT OR IGNORE INTO revoked_roster(voucher_id, class_id, name, id_masked) VALUES (?, ?, ?, ?)",
                        [.integer(Int64(bitPattern: old)), .integer(Int64(r.classID)), .text(r.name), .text(r.idMasked)])
                }
            }
            for r in bundle.revocations {
                try db.run(
                    "INSERT OR REPLACE INTO revocations(voucher_id, revoked_ms, reason) VALUES (?, ?, ?)",
                    [.integer(Int64(bitPattern: r.voucherID)), .integer(r.revokedAt.milliseconds), .text(r.reason)])
            }
            try db.run(
                "INSERT OR REPLACE INTO settings(key, value) VALUES ('county_id', ?)", [.text(bundle.countyID)])
            try raiseHighWater(bundle.issuedAt)
            _ = try append(EventDraft(kind: .trustImported, note: "trust bundle sequence \(bundle.sequence)"))
            classCache = [:]
            logger.info("trust bundle imported", metadata: ["sequence": "\(bundle.sequence)"])
            return summary
        }
    }

    /// The held bundle's sequence, expiry and county, or nil before the first import.
    public func heldTrust() throws -> (sequence: Int64, countyID: String, siteName: String, issuedAt: Timestamp, expiresAt: Timestamp)? {
        try db.first("SELECT sequence, county_id, site_name, issued_ms, expires_ms FROM trust WHERE id = 1") {
            ($0.int64(0), $0.text(1) ?? "", $0.text(2) ?? "", Timestamp(milliseconds: $0.int64(3)),
             Timestamp(milliseconds: $0.int64(4)))
        }
    }

    /// A class of this site.
    public func classInfo(_ id: UInt32) throws -> ClassInfo? {
        if let c = classCache[id] { return c }
        guard let json = try db.first("SELECT json FROM classes WHERE id = ?", [.integer(Int64(id))], { $0.text(0) }) ?? nil,
            let info = try? JSONDecoder().decode(ClassInfo.self, from: Data(json.utf8))
        else { return nil }
        classCache[id] = info
        return info
    }

    /// A class's roster, by voucher.
    public func roster(classID: UInt32) throws -> [RosterEntry] {
        try db.query(
            "SELECT voucher_id, name, id_masked, category, replaces FROM roster WHERE class_id = ? ORDER BY voucher_id",
            [.integer(Int64(classID))]
        ) {
            RosterEntry(
                voucherID: UInt64(bitPattern: $0.int64(0)), classID: classID, name: $0.text(1) ?? "", idMasked: $0.text(2) ?? "",
                category: $0.text(3), replaces: Station.voucherList($0.text(4)))
        }
    }

    /// A voucher and the earlier vouchers of the same person it replaced (a reissue), newest first.
    func personVouchers(_ voucherID: UInt64) throws -> [UInt64] {
        let earlier = try db.first(
            "SELECT replaces FROM roster WHERE voucher_id = ?", [.integer(Int64(bitPattern: voucherID))]) { Station.voucherList($0.text(0)) }
        return [voucherID] + ((earlier ?? nil) ?? [])
    }

    /// `1000003,1000001` as voucher numbers; nil for none.
    static func voucherList(_ text: String?) -> [UInt64]? {
        let list = (text ?? "").split(separator: ",").compactMap { UInt64($0) }
        return list.isEmpty ? nil : list
    }

    /// The roster entry of a voucher.
    public func rosterEntry(_ voucherID: UInt64) throws -> RosterEntry? {
        try db.first(
            "SELECT class_id, name, id_masked, category, replaces FROM roster WHERE voucher_id = ?",
            [.integer(Int64(bitPattern: voucherID))]
        ) {
            RosterEntry(
                voucherID: voucherID, classID: UInt32(truncatingIfNeeded: $0.int64(0)), name: $0.text(1) ?? "",
                idMasked: $0.text(2) ?? "", category: $0.text(3), replaces: Station.voucherList($0.text(4)))
        }
    }

    /// All classes of this site, by id.
    public func allClasses() throws -> [ClassInfo] {
        try db.query("SELECT id FROM classes ORDER BY id") { UInt32(truncatingIfNeeded: $0.int64(0)) }
            .compactMap { try classInfo($0) }
    }
}

// MARK: - TrustLookup

extension Station: TrustLookup {
    public func signingKey(_ kid: KeyID) throws -> SigningKeyEntry? {
        try db.first(
            "SELECT public_key, valid_from, valid_to, status FROM signing_keys WHERE kid = ?",
            [.integer(Int64(kid.value))]
        ) {
            SigningKeyEntry(
                kid: kid, publicKey: $0.text(0) ?? "", validFrom: ClassDay(number: Int($0.int64(1))),
                validTo: $0.optionalInt64(2).map { ClassDay(number: Int($0)) },
                status: KeyStatus(rawValue: $0.text(3) ?? "") ?? .revoked)
        }
    }

    public func revocation(_ voucherID: UInt64) throws -> Revocation? {
        try db.first(
            "SELECT revoked_ms, reason FROM revocations WHERE voucher_id = ?", [.integer(Int64(bitPattern: voucherID))]
        ) { Revocation(voucherID: voucherID, revokedAt: Timestamp(milliseconds: $0.int64(0)), reason: $0.text(1) ?? "") }
    }
}

extension SignedTrustBundle {
    /// Whether two bundle files carry the same signed payload.
    static func samePayload(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard let x = try? SignedTrustBundle(fileBytes: a), let y = try? SignedTrustBundle(fileBytes: b) else {
            return false
        }
        return x.payload == y.payload
    }
}
