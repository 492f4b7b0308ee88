import FieldKitCore
import FieldKitSQLite

extension Station {
    /// The sign-in sheet of one class day, from the log's derived state and the events' flags,
    /// with the manual entries' reasons, the county's revocations and the day's refused scans.
    /// - Parameters:
    ///   - instructor: the instructor's printed name, when the caller knows it (the bundle does not carry one).
    /// - Throws: ``StationError/unknownClass(_:)`` for a class not in the trust bundle.
    public func daySheet(classID: UInt32, day: ClassDay, instructor: String? = nil) throws -> DaySheet {
        try closeDueSessions()
        guard let info = try classInfo(classID) else { throw StationError.unknownClass(classID) }
        let roster = try db.query(
            "SELECT voucher_id, name, id_masked FROM roster WHERE class_id = ? ORDER BY voucher_id", [.integer(Int64(classID))]
        ) { (UInt64(bitPattern: $0.int64(0)), $0.text(1) ?? "", $0.text(2) ?? "") }
        let revoked = Dictionary(
            try db.query("SELECT voucher_id, revoked_ms FROM revocations", []) {
                (UInt64(bitPattern: $0.int64(0)), Timestamp(milliseconds: $0.int64(1)))
            }, uniquingKeysWith: { a, _ in a })
        // Revoked vouchers leave the bundle's roster; those this class has seen (a sign-in, a
        // refused scan) are still listed, as revoked, so the sheet accounts for them.
        let revokedSeen = try db.query(
            """
            SELECT DISTINCT e.voucher_id FROM events e JOIN revocations r ON r.voucher_id = e.voucher_id
            WHERE e.class_id = ? AND e.voucher_id NOT IN (SELECT voucher_id FROM roster) ORDER BY e.voucher_id
            """, [.integer(Int64(classID))]
        ) { UInt64(bitPattern: $0.int64(0)) }
        var sessions: [DaySheet.Session] = []
        for (index, window) in info.sessions.enumerated() {
            let recorded = try db.query(
                """
                SELECT a.voucher_id, a.in_ms, a.out_ms, a.open_seq, i.flags, o.flags, i.kind, i.reason, o.kind, o.reason
                FROM attendance a JOIN events i ON i.seq = a.in_seq LEFT JOIN events o ON o.seq = a.out_seq
                WHERE a.class_id = ? AND a.class_day = ? AND a.session_index = ?
                """, [.integer(Int64(classID)), .text(day.description), .integer(Int64(index))]
            ) { s -> (UInt64, DaySheet.Row) in
                var flags = Set(((s.text(4) ?? "") + "," + (s.text(5) ?? "")).split(separator: ",").compactMap {
                    EventFlag(rawValue: String($0))
                })
                if !s.isNull(3) && s.isNull(2) { flags.insert(.open) }
                // A manual entry's event keeps the instructor's reason in `reason`.
                let reasons = [(s.text(6), s.text(7)), (s.text(8), s.text(9))].compactMap { kind, reason in
                    kind == EventKind.manual.rawValue ? (reason ?? "") : nil
                }
                let v = UInt64(bitPattern: s.int64(0))
                return (v, DaySheet.Row(
                    voucherID: v, name: "", idMasked: "", signedIn: Timestamp(milliseconds: s.int64(1)),
                    signedOut: s.optionalInt64(2).map { Timestamp(milliseconds: $0) },
                    flags: EventFlag.allCases.filter { flags.contains($0) }, manualReasons: reasons, revokedAt: revoked[v]))
            }
            let byVoucher = Dictionary(recorded, uniquingKeysWith: { a, _ in a })
            var rows = roster.map { v, name, masked in
                var row = byVoucher[v] ?? DaySheet.Row(
                    voucherID: v, name: "", idMasked: "", signedIn: nil, signedOut: nil, flags: [], revokedAt: revoked[v])
                row.name = name
                row.idMasked = masked
                return row
            }
            let listed = Set(roster.map(\.0))
            rows += recorded.map(\.1).filter { !listed.contains($0.voucherID) }.sorted { $0.voucherID < $1.voucherID }
            rows += revokedSeen.filter { byVoucher[$0] == nil }.map {
                DaySheet.Row(voucherID: $0, name: "", idMasked: "", signedIn: nil, signedOut: nil, flags: [], revokedAt: revoked[$0])
            }
            sessions.append(DaySheet.Session(index: index, window: window, rows: rows))
        }
        let names = Dictionary(roster.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        // Refusals of the local day: this class's, and those no class could be read from (a
        // malformed code, an unknown key) — the instructor saw them at this classroom.
        let from = day.start(utcOffset: utcOffset), to = day.adding(days: 1).start(utcOffset: utcOffset)
        let refusals = try db.query(
            """
            SELECT wall_ms, voucher_id, reason, flags FROM events
            WHERE kind = 'refused' AND wall_ms >= ? AND wall_ms < ? AND (class_id = ? OR class_id IS NULL)
            ORDER BY seq
            """, [.integer(from.milliseconds), .integer(to.milliseconds), .integer(Int64(classID))]
        ) { s -> DaySheet.Refusal in
            let v = s.optionalInt64(1).map { UInt64(bitPattern: $0) }
            return DaySheet.Refusal(
                time: Timestamp(milliseconds: s.int64(0)), voucherID: v, name: v.flatMap { names[$0] } ?? "",
                reason: s.text(2) ?? "", manual: (s.text(3) ?? "").split(separator: ",").contains("manual"))
        }
        let trust = try heldTrust()
        let printed = instructor?.trimmingWhitespace()
        return DaySheet(
            siteID: siteID, siteName: trust?.siteName ?? siteID, deviceID: deviceID, classInfo: info, day: day,
            sessions: sessions, refusals: refusals, instructor: printed?.isEmpty == false ? printed : nil,
            generatedAt: clock.now(), lastSeq: try head().seq, utcOffset: utcOffset)
    }
}

/// One sign-in (and perhaps sign-out) of a voucher in one session, as the station recorded it.
public struct AttendancePair: Sendable, Equatable {
    /// The voucher.
    public var voucherID: UInt64
    /// The class day.
    public var day: ClassDay
    /// The session's index.
    public var sessionIndex: Int
    /// Sign-in, UTC ms.
    public var inMs: Int64
    /// Sign-out, UTC ms.
    public var outMs: Int64?
    /// The flags on its events (`late`, `manual`, …; `open` when the session closed with it open).
    public var flags: [String]
}

extension Station {
    /// The days a class has attendance on, in order (read only: no session is closed).
    public func attendanceDays(classID: UInt32) throws -> [ClassDay] {
        try db.query(
            "SELECT DISTINCT class_day FROM attendance WHERE class_id = ? ORDER BY class_day", [.integer(Int64(classID))],
            { $0.text(0) ?? "" }
        ).compactMap(ClassDay.init(iso:))
    }

    /// Every sign-in of a class with its sign-out and flags, for days, hours and the estimate.
    public func attendancePairs(classID: UInt32) throws -> [AttendancePair] {
        try closeDueSessions()
        return try db.query(
            """
            SELECT a.voucher_id, a.class_day, a.session_index, a.in_ms, a.out_ms, a.open_seq, i.flags, o.flags
            FROM attendance a JOIN events i ON i.seq = a.in_seq LEFT JOIN events o ON o.seq = a.out_seq
            WHERE a.class_id = ? ORDER BY a.voucher_id, a.class_day, a.session_index
            """, [.integer(Int64(classID))]
        ) { s in
            var flags = Set(((s.text(6) ?? "") + "," + (s.text(7) ?? "")).split(separator: ",").map(String.init))
            if !s.isNull(5) && s.isNull(4) { flags.insert("open") }
            return AttendancePair(
                voucherID: UInt64(bitPattern: s.int64(0)), day: ClassDay(iso: s.text(1) ?? "") ?? ClassDay(number: 0),
                sessionIndex: Int(s.int64(2)), inMs: s.int64(3), outMs: s.optionalInt64(4), flags: flags.sorted())
        }
    }
}
