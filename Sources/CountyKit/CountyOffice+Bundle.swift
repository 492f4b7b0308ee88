import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Logging

extension CountyOffice {
    /// Makes and signs the next trust bundle for a site: every signing key, the revocations of
    /// the site's vouchers, its classes and roster. Each export takes the next sequence number.
    /// - Parameter validDays: how long until the bundle expires (sites warn after that).
    public func exportBundle(site: String, validDays: Int = 30) throws -> SignedTrustBundle {
        try db.transaction {
            guard let (name, sequence) = try db.first(
                "SELECT name, bundle_sequence FROM sites WHERE id = ?", [.text(site)], { ($0.text(0) ?? "", $0.int64(1)) })
            else { throw CountyError.unknownSite(site) }
            let classes = try db.query("SELECT json FROM classes WHERE site_id = ? ORDER BY id", [.text(site)]) {
                try JSONDecoder().decode(ClassInfo.self, from: Data(($0.text(0) ?? "").utf8))
            }
            let vouchers = try classes.flatMap { try self.vouchers(classID: $0.id) }
            var replaced: [UInt64: UInt64] = [:]
            for v in vouchers { replaced[v.voucherID] = v.replaces }
            let issuedAt = now()
            let bundle = TrustBundle(
                countyID: countyID, siteID: site, siteName: name, sequence: sequence + 1, issuedAt: issuedAt,
                expiresAt: issuedAt.adding(minutes: validDays * 24 * 60), signingKeys: try listKeys(),
                revocations: vouchers.compactMap { v in
                    v.revokedAt.map { Revocation(voucherID: v.voucherID, revokedAt: $0, reason: v.revokeReason ?? "") }
                },
                classes: classes,
                roster: vouchers.filter { $0.revokedAt == nil }.map { v in
                    // A reissued voucher names every voucher it replaced, so the site counts their
                    // attendance as this trainee's (one person, never twice).
                    var chain: [UInt64] = []
                    var next = v.replaces
                    while let id = next, chain.count < 1000 {
                        chain.append(id)
                        next = replaced[id]
                    }
                    return RosterEntry(
                        voucherID: v.voucherID, classID: v.classID, name: v.name, idMasked: v.idMasked, category: v.category,
                        replaces: chain.isEmpty ? nil : chain)
                })
            try bundle.validate()
            let signed = try SignedTrustBundle(signing: bundle, with: rootKey)
            try db.run("UPDATE sites SET bundle_sequence = ? WHERE id = ?", [.integer(sequence + 1), .text(site)])
            try storeBundle(bundle, file: signed.fileBytes, contentHash: try bundleContentHash(site: site))
            logger.info("trust bundle exported", metadata: ["site": "\(site)", "sequence": "\(sequence + 1)"])
            return signed
        }
    }
}
