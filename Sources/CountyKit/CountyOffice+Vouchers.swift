import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Logging

/// A voucher as the county issued it.
public struct IssuedVoucher: Sendable, Encodable, Equatable {
    /// Unique in the county.
    public var voucherID: UInt64
    /// The class.
    public var classID: UInt32
    /// The trainee's name.
    public var name: String
    /// The masked ID number.
    public var idMasked: String
    /// Target group.
    public var category: String?
    /// First valid day.
    public var validFrom: ClassDay
    /// Last valid day.
    public var validTo: ClassDay
    /// The 247-digit code for the QR.
    public var code: String
    /// When revoked, if it was.
    public var revokedAt: Timestamp?
    /// Why it was revoked.
    public var revokeReason: String?
    /// The revoked voucher this one replaced (`voucher reissue`), if any.
    public var replaces: UInt64? = nil
    /// The voucher that replaced this one, if any.
    public var replacedBy: UInt64? = nil

    enum CodingKeys: String, CodingKey {
        case voucherID = "voucher_id"
        case classID = "class_id"
        case name
        case idMasked = "id_masked"
        case category
        case validFrom = "valid_from"
        case validTo = "valid_to"
        case code
        case revokedAt = "revoked_at"
        case revokeReason = "revoke_reason"
        case replaces
        case replacedBy = "replaced_by"
    }
}

extension CountyOffice {
    /// Issues one voucher per roster row for a class, all or none.
    /// - Parameters:
    ///   - validFrom: first valid day; the class's start when nil.
    ///   - validTo: last valid day; the class's end when nil.
    ///   - test: marks the vouchers as test vouchers (drills; never counted).
    /// - Throws: ``RosterError`` for bad rows, ``CountyError`` for an unknown class or trainees
    ///   who already hold a voucher for it. Nothing is issued then.
    public func issueVouchers(
        classID: UInt32, roster rosterBytes: [UInt8], validFrom: ClassDay? = nil, validTo: ClassDay? = nil,
        test: Bool = false
    ) throws -> [IssuedVoucher] {
        guard let (info, _) = try classInfo(classID) else { throw CountyError.unknownClass(classID) }
        let roster = try Roster(bytes: rosterBytes)
        let from = validFrom ?? info.startDate
        let to = validTo ?? info.endDate
        guard from <= to else { throw CountyError.badValidity("valid-from \(from) is after valid-to \(to)") }
        guard to.number <= Int(UInt16.max), from.number >= 0 else {
            throw CountyError.badValidity("dates must fall between 2020-01-01 and 2199-06-06")
        }
        let (kid, key) = try activeSigningKey()
        let province = try provinceKey()
        let issuedAt = now()
        return try db.transaction {
            var taken: [CountyError.IssuedRow] = []
            for row in roster.rows {
                let ref = row.idNumber.traineeRef(secret: pseudonymSecret)
                // The person's newest voucher: a revoked one is replaced with `voucher reissue`.
                if let (v, revoked) = try db.first(
                    "SELECT id, revoked_ms IS NOT NULL FROM vouchers WHERE class_id = ? AND trainee_ref = ? ORDER BY id DESC",
                    [.integer(Int64(classID)), .integer(Int64(bitPattern: ref))], { ($0.int64(0), $0.int64(1) != 0) })
                {
                    taken.append(.init(line: row.line, name: row.name, voucher: UInt64(bitPattern: v), revoked: revoked))
                }
            }
            guard taken.isEmpty else { throw CountyError.alreadyIssued(taken) }
            var next = UInt64(try db.first("SELECT max(id) FROM vouchers", [], { $0.optionalInt64(0) }).flatMap { $0 } ?? 1_000_000) + 1
            var issued: [IssuedVoucher] = []
            for row in roster.rows {
                let body = VoucherBody(
                    kid: kid, voucherID: next, traineeRef: row.idNumber.traineeRef(secret: pseudonymSecret),
                    classID: classID, trade: info.trade, level: info.level, validFrom: from, validTo: to,
                    flags: test ? VoucherBody.testFlag : 0)
                let code = try VoucherCode(signing: body, with: key)
                try db.run(
                    """
                    INSERT INTO vouchers(id, class_id, trainee_ref, name, id_masked, category, kid, valid_from, valid_to,
                                         flags, code, issued_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(Int64(next)), .integer(Int64(classID)), .integer(Int64(bitPattern: body.traineeRef)),
                        .text(row.name), .text(row.idNumber.masked), .string(row.category), .integer(Int64(kid.value)),
                        .integer(Int64(from.number)), .integer(Int64(to.number)), .integer(Int64(body.flags)),
                        .text(code.text), .integer(issuedAt.milliseconds),
                    ])
                if let province { try recordProvinceRef(voucher: Int64(next), ref: province.ref(row.idNumber)) }
                issued.append(
                    IssuedVoucher(
                        voucherID: next, classID: classID, name: row.name, idMasked: row.idNumber.masked,
                        category: row.category, validFrom: from, validTo: to, code: code.text))
                next += 1
            }
            logger.info("vouchers issued", metadata: ["class": "\(classID)", "count": "\(issued.count)"])
            return issued
        }
    }

    /// Withdraws a voucher; sites refuse it once they import the next bundle.
    public func revokeVoucher(_ id: UInt64, reason: String) throws {
        let reason = reason.trimmingWhitespace()
        guard !reason.isEmpty else { throw CountyError.reasonRequired }
        try db.transaction {
            guard let revoked = try db.first(
                "SELECT revoked_ms FROM vouchers WHERE id = ?", [.integer(Int64(bitPattern: id))], { $0.optionalInt64(0) })
            else { throw CountyError.unknownVoucher(id) }
            if let ms = revoked {
                throw CountyError.alreadyRevoked(id, on: Timestamp(milliseconds: ms).classDay().description)
            }
            try db.run(
                "UPDATE vouchers SET revoked_ms = ?, revoke_reason = ? WHERE id = ?",
                [.integer(now().milliseconds), .text(reason), .integer(Int64(bitPattern: id))])
        }
        logger.info("voucher revoked", metadata: ["voucher": "\(id)"])
    }

    /// Gives a trainee a new voucher in place of an old one (lost, damaged, or revoked by
    /// mistake): a new voucher id for the same person, class, category and validity, signed
    /// with the active key. The old voucher is revoked with the reason (if it is not already)
    /// and the new one records which it replaces. Attendance under both counts for one person
    /// (``heldAttendance(classID:)``, ``holders(classID:)``).
    /// - Returns: the new voucher.
    /// - Throws: ``CountyError/reasonRequired``, ``CountyError/unknownVoucher(_:)``,
    ///   ``CountyError/alreadyReplaced(_:by:)``, ``CountyError/classEnded(_:ended:)``.
    public func reissueVoucher(_ id: UInt64, reason: String) throws -> IssuedVoucher {
        let reason = reason.trimmingWhitespace()
        guard !reason.isEmpty else { throw CountyError.reasonRequired }
        let (kid, key) = try activeSigningKey()
        let issued = try db.transaction { () throws -> IssuedVoucher in
            guard let old = try issuedVoucher(id) else { throw CountyError.unknownVoucher(id) }
            if let newer = old.replacedBy { throw CountyError.alreadyReplaced(id, by: newer) }
            guard let (info, _) = try classInfo(old.classID) else { throw CountyError.unknownClass(old.classID) }
            let ends = info.ends()
            guard now() < ends else { throw CountyError.classEnded(old.classID, ended: ends.localDescription()) }
            guard let (ref, flags) = try db.first(
                "SELECT trainee_ref, flags FROM vouchers WHERE id = ?", [.integer(Int64(bitPattern: id))],
                { (UInt64(bitPattern: $0.int64(0)), UInt8(truncatingIfNeeded: $0.int64(1))) })
            else { throw CountyError.unknownVoucher(id) }
            let at = now()
            if old.revokedAt == nil {
                try db.run(
                    "UPDATE vouchers SET revoked_ms = ?, revoke_reason = ? WHERE id = ?",
                    [.integer(at.milliseconds), .text(reason), .integer(Int64(bitPattern: id))])
            }
            let next = UInt64(try db.first("SELECT max(id) FROM vouchers", [], { $0.optionalInt64(0) }).flatMap { $0 } ?? 1_000_000) + 1
            let body = VoucherBody(
                kid: kid, voucherID: next, traineeRef: ref, classID: old.classID, trade: info.trade, level: info.level,
                validFrom: old.validFrom, validTo: old.validTo, flags: flags)
            let code = try VoucherCode(signing: body, with: key)
            try db.run(
                """
                INSERT INTO vouchers(id, class_id, trainee_ref, name, id_masked, category, kid, valid_from, valid_to,
                                     flags, code, issued_ms, replaces)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(Int64(next)), .integer(Int64(old.classID)), .integer(Int64(bitPattern: ref)), .text(old.name),
                    .text(old.idMasked), .string(old.category), .integer(Int64(kid.value)), .integer(Int64(old.validFrom.number)),
                    .integer(Int64(old.validTo.number)), .integer(Int64(flags)), .text(code.text), .integer(at.milliseconds),
                    .integer(Int64(bitPattern: id)),
                ])
            try copyProvinceRef(from: Int64(bitPattern: id), to: Int64(next))
            guard let new = try issuedVoucher(next) else { throw CountyError.unknownVoucher(next) }
            return new
        }
        logger.info("voucher reissued", metadata: ["voucher": "\(id)", "new": "\(issued.voucherID)"])
        return issued
    }

    /// For each voucher of a class that was replaced, the voucher that now stands for the same
    /// person (the end of its chain of reissues). Vouchers never replaced are not in the map.
    public func currentVouchers(classID: UInt32) throws -> [UInt64: UInt64] {
        var next: [UInt64: UInt64] = [:]
        for (new, old) in try db.query(
            "SELECT id, replaces FROM vouchers WHERE class_id = ? AND replaces IS NOT NULL", [.integer(Int64(classID))],
            { (UInt64(bitPattern: $0.int64(0)), UInt64(bitPattern: $0.int64(1))) })
        { next[old] = new }
        var current: [UInt64: UInt64] = [:]
        for old in next.keys {
            var v = old
            // `replaces < id` (a CHECK) makes every chain end.
            while let newer = next[v] { v = newer }
            current[old] = v
        }
        return current
    }

    /// The vouchers of a class (or all), by id.
    public func vouchers(classID: UInt32? = nil) throws -> [IssuedVoucher] {
        try vouchers(where: "? IS NULL OR class_id = ?", [.int(classID), .int(classID)])
    }

    /// A voucher as issued, or nil.
    public func issuedVoucher(_ id: UInt64) throws -> IssuedVoucher? {
        try vouchers(where: "id = ?", [.integer(Int64(bitPattern: id))]).first
    }

    func vouchers(where condition: String, _ binds: [SQLValue]) throws -> [IssuedVoucher] {
        try db.query(
            """
            SELECT id, class_id, name, id_masked, category, valid_from, valid_to, code, revoked_ms, revoke_reason, replaces,
                   (SELECT n.id FROM vouchers n WHERE n.replaces = vouchers.id)
            FROM vouchers WHERE \(condition) ORDER BY id
            """, binds
        ) {
            IssuedVoucher(
                voucherID: UInt64(bitPattern: $0.int64(0)), classID: UInt32(truncatingIfNeeded: $0.int64(1)),
                name: $0.text(2) ?? "", idMasked: $0.text(3) ?? "", category: $0.text(4),
                validFrom: ClassDay(number: Int($0.int64(5))), validTo: ClassDay(number: Int($0.int64(6))),
                code: $0.text(7) ?? "", revokedAt: $0.optionalInt64(8).map { Timestamp(milliseconds: $0) },
                revokeReason: $0.text(9), replaces: $0.optionalInt64(10).map { UInt64(bitPattern: $0) },
                replacedBy: $0.optionalInt64(11).map { UInt64(bitPattern: $0) })
        }
    }
}
