import FieldKitCore

extension Station {
    /// The sign-in sheet of one class day, from the log's derived state and the events' flags.
    /// - Throws: ``StationError/unknownClass(_:)`` for a class not in the trust bundle.
    public func daySheet(classID: UInt32, day: ClassDay) throws -> DaySheet {
        try closeDueSessions()
        guard let info = try classInfo(classID) else { throw StationError.unknownClass(classID) }
        let roster = try db.query(
            "SELECT voucher_id, name, id_masked FROM roster WHERE class_id = ? ORDER BY voucher_id", [.integer(Int64(classID))]
        ) { (UInt64(bitPattern: $0.int64(0)), $0.text(1) ?? "", $0.text(2) ?? "") }
        var sessions: [DaySheet.Session] = []
        for (index, window) in info.sessions.enumerated() {
            let recorded = try db.query(
                """
                SELECT a.voucher_id, a.in_ms, a.out_ms, a.open_seq, i.flags, o.flags
                FROM attendance a JOIN events i ON i.seq = a.in_seq LEFT JOIN events o ON o.seq = a.out_seq
                WHERE a.class_id = ? AND a.class_day = ? AND a.session_index = ?
                """, [.integer(Int64(classID)), .text(day.description), .integer(Int64(index))]
            ) { s -> (UInt64, DaySheet.Row) in
                var flags = Set(((s.text(4) ?? "") + "," + (s.text(5) ?? "")).split(separator: ",").compactMap {
                    EventFlag(rawValue: String($0))
                })
                if !s.isNull(3) && s.isNull(2) { flags.insert(.open) }
                let v = UInt64(bitPattern: s.int64(0))
                return (v, DaySheet.Row(
                    voucherID: v, name: "", idMasked: "", signedIn: Timestamp(milliseconds: s.int64(1)),
                    signedOut: s.optionalInt64(2).map { Timestamp(milliseconds: $0) },
                    flags: EventFlag.allCases.filter { flags.contains($0) }))
            }
            let byVoucher = Dictionary(recorded, uniquingKeysWith: { a, _ in a })
            var rows = roster.map { v, name, masked in
                var row = byVoucher[v] ?? DaySheet.Row(voucherID: v, name: "", idMasked: "", signedIn: nil, signedOut: nil, flags: [])
                row.name = name
                row.idMasked = masked
                return row
            }
            let listed = Set(roster.map(\.0))
            rows += recorded.map(\.1).filter { !listed.contains($0.voucherID) }.sorted { $0.voucherID < $1.voucherID }
            sessions.append(DaySheet.Session(index: index, window: window, rows: rows))
        }
        let trust = try heldTrust()
        return DaySheet(
            siteID: siteID, siteName: trust?.siteName ?? siteID, deviceID: deviceID, classInfo: info, day: day,
            sessions: sessions, generatedAt: clock.now(), lastSeq: try head().seq, utcOffset: utcOffset)
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
