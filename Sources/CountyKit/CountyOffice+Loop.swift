import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Logging

/// Where a voucher is in the loop 申请—发券—培训—兑现—核销.
///
/// The state is worked out from facts the county holds, never stored twice: the voucher row
/// (revoked, valid days), the attendance events synced from the sites, the class's dates and
/// the claim row (claimed, paid, written off).
public enum VoucherState: String, Sendable, Encodable, CaseIterable {
    /// Issued; no attendance seen yet.
    case issued
    /// Attendance seen; the class has not ended.
    case inTraining = "in_training"
    /// Attendance seen; the class has ended.
    case completed
    /// A subsidy claim was recorded for it.
    case claimed
    /// The claim was paid.
    case paid
    /// Paid and closed (核销): never claimed again.
    case writtenOff = "written_off"
    /// Withdrawn by the county.
    case revoked
    /// Its last valid day passed with no attendance.
    case expired
}

/// One voucher's place in the loop.
public struct VoucherStatus: Sendable, Encodable {
    /// The voucher.
    public var voucher_id: UInt64
    /// Its class.
    public var class_id: UInt32
    /// The trainee's name.
    public var name: String
    /// The masked ID number.
    public var id_masked: String
    /// Where it is.
    public var state: VoucherState
    /// Attendance events the county holds for it and for the vouchers it replaced (a reissue).
    public var events: Int
    /// The claimed amount in fen, when claimed.
    public var amount_fen: Int64?
    /// The payment's reference, when paid.
    public var payment_ref: String?
    /// When it last changed state (claimed, paid, written off or revoked), UTC ms.
    public var changed_ms: Int64?
}

/// One sign-in and (maybe) sign-out of a voucher in one session, as the county rebuilt it from
/// the synced events.
public struct HeldAttendance: Sendable, Equatable {
    /// The voucher.
    public var voucherID: UInt64
    /// The class day.
    public var day: ClassDay
    /// The session's index in the class's windows.
    public var sessionIndex: Int
    /// Sign-in, UTC ms.
    public var inMs: Int64
    /// Sign-out, UTC ms; nil when none was recorded.
    public var outMs: Int64?
    /// Every flag on the events of this session (`late`, `manual`, `clock`, `test`, `open`, …) and
    /// the county's (`overlap`, `location`).
    public var flags: Set<String>
}

extension CountyOffice {
    /// Every voucher of a class with its state.
    public func voucherStatus(classID: UInt32) throws -> [VoucherStatus] {
        guard try classInfo(classID) != nil else { throw CountyError.unknownClass(classID) }
        return try statuses(where: "v.class_id = ?", [.integer(Int64(classID))])
    }

    /// One voucher's state.
    /// - Throws: ``CountyError/unknownVoucher(_:)``.
    public func voucherStatus(voucherID: UInt64) throws -> VoucherStatus {
        guard let status = try statuses(where: "v.id = ?", [.integer(Int64(bitPattern: voucherID))]).first else {
            throw CountyError.unknownVoucher(voucherID)
        }
        return status
    }

    func statuses(where condition: String, _ binds: [SQLValue]) throws -> [VoucherStatus] {
        let today = now().classDay()
        return try db.query(
            """
            SELECT v.id, v.class_id, v.name, v.id_masked, v.valid_to, v.revoked_ms, c.end_day,
                   (SELECT count(*) FROM events e
                    WHERE e.voucher_id IN (WITH RECURSIVE chain(id) AS (
                                               SELECT v.id UNION ALL
                                               SELECT w.replaces FROM vouchers w JOIN chain ON w.id = chain.id
                                               WHERE w.replaces IS NOT NULL)
                                           SELECT id FROM chain)
                      AND e.kind IN ('scan', 'manual') AND e.quarantine IS NULL),
                   k.amount_fen, k.claimed_ms, k.paid_ms, k.payment_ref, k.written_off_ms
            FROM vouchers v JOIN classes c ON c.id = v.class_id LEFT JOIN claims k ON k.voucher_id = v.id
            WHERE \(condition) ORDER BY v.id
            """, binds
        ) { r in
            let events = Int(r.int64(7))
            let revoked = r.optionalInt64(5)
            let claimed = r.optionalInt64(9), paid = r.optionalInt64(10), writtenOff = r.optionalInt64(12)
            let state: VoucherState
            var changed: Int64?
            if let writtenOff {
                (state, changed) = (.writtenOff, writtenOff)
            } else if let paid {
                (state, changed) = (.paid, paid)
            } else if let claimed {
                (state, changed) = (.claimed, claimed)
            } else if let revoked {
                (state, changed) = (.revoked, revoked)
            } else if events > 0 {
                state = today.number > Int(r.int64(6)) ? .completed : .inTraining
            } else {
                state = today.number > Int(r.int64(4)) ? .expired : .issued
            }
            return VoucherStatus(
                voucher_id: UInt64(bitPattern: r.int64(0)), class_id: UInt32(truncatingIfNeeded: r.int64(1)),
                name: r.text(2) ?? "", id_masked: r.text(3) ?? "", state: state, events: events,
                amount_fen: r.optionalInt64(8), payment_ref: r.text(11), changed_ms: changed)
        }
    }

    /// The class's attendance rebuilt from every device's synced events: per voucher, day and
    /// session the first sign-in and the last sign-out after it, with every flag seen, and the
    /// county's own flags: ``CountyFlag/overlap`` (the same person present in another class at
    /// the same time) and ``CountyFlag/location`` (a device standing elsewhere than the class).
    public func heldAttendance(classID: UInt32) throws -> [HeldAttendance] {
        var built = HeldAttendanceBuilder()
        // A reissued voucher's attendance is its person's: every event counts under the voucher
        // that now stands for them, so one session seen under the old and the new voucher is
        // one record, and days under both add up.
        let current = try currentVouchers(classID: classID)
        // Events the county held apart (EventAudit) are never counted, whatever a reviewer accepts.
        for var e in try attendance(classID: classID) where e.countsAsAttendance {
            let scanned = e.voucher_id
            e.voucher_id = scanned.map { current[$0] ?? $0 }
            built.add(e, original: current.isEmpty ? nil : scanned)
        }
        return try withCountyFlags(built, classID: classID)
    }

    /// Records the payment of claimed vouchers: one voucher, or every claimed voucher of a class.
    /// A voucher already paid under the same reference is left as it is (a retry changes
    /// nothing); under another reference it is refused.
    /// - Returns: the vouchers newly marked paid.
    /// - Throws: ``CountyError/notClaimed(_:state:)``, ``CountyError/alreadyPaid(_:reference:)``.
    @discardableResult
    public func recordPayment(classID: UInt32? = nil, voucherID: UInt64? = nil, reference: String) throws -> [UInt64] {
        let reference = reference.trimmingWhitespace()
        guard !reference.isEmpty else { throw CountyError.referenceRequired }
        return try db.transaction {
            var paid: [UInt64] = []
            for status in try selected(classID: classID, voucherID: voucherID) {
                switch status.state {
                case .claimed:
                    try db.run(
                        "UPDATE claims SET paid_ms = ?, payment_ref = ? WHERE voucher_id = ?",
                        [.integer(now().milliseconds), .text(reference), .integer(Int64(bitPattern: status.voucher_id))])
                    paid.append(status.voucher_id)
                case .paid, .writtenOff:
                    if status.payment_ref != reference {
                        throw CountyError.alreadyPaid(status.voucher_id, reference: status.payment_ref ?? "")
                    }
                default:
                    if voucherID != nil { throw CountyError.notClaimed(status.voucher_id, state: status.state.rawValue) }
                }
            }
            logger.info("payment recorded", metadata: ["vouchers": "\(paid.count)", "reference": "\(reference)"])
            return paid
        }
    }

    /// Writes off (核销) paid vouchers: one, or every paid voucher of a class. Final: the claim
    /// can no longer change and the voucher is never claimed again. Already written off: no change.
    /// - Returns: the vouchers newly written off.
    /// - Throws: ``CountyError/notPaid(_:state:)``.
    @discardableResult
    public func writeOff(classID: UInt32? = nil, voucherID: UInt64? = nil) throws -> [UInt64] {
        try db.transaction {
            var done: [UInt64] = []
            for status in try selected(classID: classID, voucherID: voucherID) {
                switch status.state {
                case .paid:
                    try db.run(
                        "UPDATE claims SET written_off_ms = ? WHERE voucher_id = ?",
                        [.integer(now().milliseconds), .integer(Int64(bitPattern: status.voucher_id))])
                    done.append(status.voucher_id)
                case .writtenOff:
                    continue
                default:
                    if voucherID != nil { throw CountyError.notPaid(status.voucher_id, state: status.state.rawValue) }
                }
            }
            logger.info("vouchers written off", metadata: ["vouchers": "\(done.count)"])
            return done
        }
    }

    func selected(classID: UInt32?, voucherID: UInt64?) throws -> [VoucherStatus] {
        if let voucherID { return [try voucherStatus(voucherID: voucherID)] }
        guard let classID else { throw CountyError.classOrVoucherRequired }
        return try voucherStatus(classID: classID)
    }
}

/// A subsidy claim the county recorded for a voucher.
public struct ClaimRecord: Sendable, Equatable {
    /// The voucher.
    public var voucherID: UInt64
    /// Its class.
    public var classID: UInt32
    /// The trainee's pseudonym (the same person across classes).
    public var traineeRef: Int64
    /// The policy it was computed under.
    public var policyID: String
    /// The programme.
    public var program: String
    /// Occupation code and level: a person is paid once per trade, level and year.
    public var trade: String
    /// Skill level.
    public var level: Int
    /// The year of the class's last day.
    public var year: Int
    /// What it paid for: `training`, `certificate` or `special_certificate`.
    public var paysFor: String = "training"
    /// The amount, fen.
    public var amountFen: Int64
    /// The claim line by line, as JSON, for the auditor.
    public var detail: String
    /// When it was claimed, paid and written off (UTC ms).
    public var claimedMs: Int64 = 0
    /// When paid.
    public var paidMs: Int64? = nil
    /// The payment's reference.
    public var paymentRef: String? = nil
    /// When written off.
    public var writtenOffMs: Int64? = nil

    /// A new claim.
    public init(
        voucherID: UInt64, classID: UInt32, traineeRef: Int64, policyID: String, program: String, trade: String, level: Int,
        year: Int, amountFen: Int64, detail: String, paysFor: String = "training"
    ) {
        self.paysFor = paysFor
        self.voucherID = voucherID
        self.classID = classID
        self.traineeRef = traineeRef
        self.policyID = policyID
        self.program = program
        self.trade = trade
        self.level = level
        self.year = year
        self.amountFen = amountFen
        self.detail = detail
    }
}

/// What the county knows of a voucher's holder for a claim.
public struct VoucherHolder: Sendable, Equatable {
    /// The voucher.
    public var voucherID: UInt64
    /// The pseudonym linking the person across classes.
    public var traineeRef: Int64
    /// The trainee's name.
    public var name: String
    /// The masked ID number.
    public var idMasked: String
    /// The category the roster gave (失业人员, 脱贫劳动力, …), if any.
    public var category: String?
    /// Revoked by the county.
    public var revoked: Bool
}

extension CountyOffice {
    /// The vouchers of a class with what a claim needs to know of their holders: one per
    /// person, the newest of a chain of reissues (a replaced voucher's attendance counts under
    /// it, see ``heldAttendance(classID:)``), so each person is claimed and written off once.
    public func holders(classID: UInt32) throws -> [VoucherHolder] {
        try db.query(
            """
            SELECT id, trainee_ref, name, id_masked, category, revoked_ms FROM vouchers v
            WHERE class_id = ? AND NOT EXISTS (SELECT 1 FROM vouchers n WHERE n.replaces = v.id) ORDER BY id
            """,
            [.integer(Int64(classID))]
        ) {
            VoucherHolder(
                voucherID: UInt64(bitPattern: $0.int64(0)), traineeRef: $0.int64(1), name: $0.text(2) ?? "",
                idMasked: $0.text(3) ?? "", category: $0.text(4).flatMap { $0.isEmpty ? nil : $0 },
                revoked: $0.optionalInt64(5) != nil)
        }
    }

    /// Every claim recorded for these people (by pseudonym), any class, any year.
    public func claims(traineeRefs: [Int64]) throws -> [ClaimRecord] {
        guard !traineeRefs.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: traineeRefs.count).joined(separator: ",")
        return try db.query(
            """
            SELECT voucher_id, class_id, trainee_ref, policy_id, program, trade, level, year, amount_fen, detail,
                   claimed_ms, paid_ms, payment_ref, written_off_ms, pays_for
            FROM claims WHERE trainee_ref IN (\(marks)) ORDER BY claimed_ms, voucher_id
            """, traineeRefs.map { .integer($0) }
        ) { r in
            var c = ClaimRecord(
                voucherID: UInt64(bitPattern: r.int64(0)), classID: UInt32(truncatingIfNeeded: r.int64(1)),
                traineeRef: r.int64(2), policyID: r.text(3) ?? "", program: r.text(4) ?? "", trade: r.text(5) ?? "",
                level: Int(r.int64(6)), year: Int(r.int64(7)), amountFen: r.int64(8), detail: r.text(9) ?? "")
            c.claimedMs = r.int64(10)
            c.paidMs = r.optionalInt64(11)
            c.paymentRef = r.text(12)
            c.writtenOffMs = r.optionalInt64(13)
            c.paysFor = r.text(14) ?? "training"
            return c
        }
    }

    /// Records claims, all in one transaction. A voucher that already has a claim keeps it (a
    /// retry records nothing twice). A class that has not ended has no claims yet: its sheet is
    /// a preview.
    /// - Returns: the vouchers newly claimed.
    /// - Throws: ``CountyError/classRunning(_:ends:)``, ``CountyError/unknownClass(_:)``.
    @discardableResult
    public func recordClaims(_ claims: [ClaimRecord]) throws -> [UInt64] {
        try db.transaction {
            var recorded: [UInt64] = []
            let at = now().milliseconds
            for classID in Set(claims.map(\.classID)) {
                guard let (info, _) = try classInfo(classID) else { throw CountyError.unknownClass(classID) }
                let ends = info.ends()
                if now() < ends { throw CountyError.classRunning(classID, ends: ends) }
            }
            for c in claims {
                try db.run(
                    """
                    INSERT INTO claims (voucher_id, class_id, trainee_ref, policy_id, program, trade, level, year,
                                        amount_fen, detail, claimed_ms, pays_for)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (voucher_id) DO NOTHING
                    """,
                    [
                        .integer(Int64(bitPattern: c.voucherID)), .integer(Int64(c.classID)), .integer(c.traineeRef),
                        .text(c.policyID), .text(c.program), .text(c.trade), .integer(Int64(c.level)),
                        .integer(Int64(c.year)), .integer(c.amountFen), .text(c.detail), .integer(at), .text(c.paysFor),
                    ])
                if db.changes > 0 { recorded.append(c.voucherID) }
            }
            logger.info("claims recorded", metadata: ["vouchers": "\(recorded.count)"])
            return recorded
        }
    }
}
