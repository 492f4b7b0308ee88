import FieldKitCore
import FieldKitSQLite

extension Station {
    /// Today's sessions of every class running today, in time order, with the one open now
    /// (or next) marked: what the kiosk shows.
    public func todaysSessions() throws -> (sessions: [(ClassInfo, SessionKey)], current: Int?) {
        let now = clock.now()
        let today = now.classDay(utcOffset: utcOffset)
        let evaluator = ScanEvaluator(trust: self, utcOffset: utcOffset)
        var out: [(ClassInfo, SessionKey, Timestamp)] = []
        for info in try allClasses() where today >= info.startDate && today <= info.endDate {
            for (i, w) in info.sessions.enumerated() {
                out.append((info, SessionKey(classID: info.id, day: today, index: i), today.at(w.start, utcOffset: utcOffset)))
            }
        }
        out.sort { $0.2 < $1.2 }
        let current = out.firstIndex { evaluator.window($0.0.sessions[$0.1.index], on: today, rules: $0.0.rules).contains(now) }
            ?? out.firstIndex { $0.2 > now }
        return (out.map { ($0.0, $0.1) }, current)
    }

    /// Ends a session now, before its sign-out window closes: every sign-in still open is
    /// recorded `open_at_end` (never counted as attended) and the device signs a checkpoint.
    ///
    /// The end sticks: the moment is kept in `sessions.ended_ms`, the session is never reopened,
    /// and every later scan or manual entry for it is refused `session_ended` (and recorded as
    /// refused), so the day sheet and the log tell the same story.
    /// - Returns: how many sign-ins were left open.
    @discardableResult
    public func endSession(_ session: SessionKey) throws -> Int {
        try db.transaction {
            let open = try db.first(
                """
                SELECT count(*) FROM attendance WHERE class_id = ? AND class_day = ? AND session_index = ?
                AND out_seq IS NULL AND open_seq IS NULL
                """, sessionValues(session)) { Int($0.int64(0)) } ?? 0
            let now = clock.now()
            try ensureSession(session)
            try db.run(
                """
                UPDATE sessions SET closes_ms = min(closes_ms, ?), ended_ms = coalesce(ended_ms, ?)
                WHERE class_id = ? AND class_day = ? AND session_index = ?
                """,
                [.integer(now.milliseconds - 1), .integer(now.milliseconds)] + sessionValues(session))
            try closeDueSessions(now: now)
            return open
        }
    }
}

extension Station {
    /// When the instructor ended a session, or nil while it was not ended.
    public func sessionEnd(_ session: SessionKey) throws -> Timestamp? {
        try db.first(
            "SELECT ended_ms FROM sessions WHERE class_id = ? AND class_day = ? AND session_index = ?", sessionValues(session)
        ) { $0.optionalInt64(0).map { Timestamp(milliseconds: $0) } } ?? nil
    }

    /// The session a manual entry at a time goes to (the first whose window holds it), when the
    /// instructor has ended it.
    func endedSession(info: ClassInfo, day: ClassDay, at when: Timestamp) throws -> SessionKey? {
        let evaluator = ScanEvaluator(trust: self, utcOffset: utcOffset)
        guard let i = info.sessions.firstIndex(where: { evaluator.window($0, on: day, rules: info.rules).contains(when) })
        else { return nil }
        let key = SessionKey(classID: info.id, day: day, index: i)
        return try sessionEnd(key) != nil ? key : nil
    }

    /// Records a refusal `session_ended` for a scan or manual entry that landed in an ended
    /// session; the outcome names the session's window and when it was ended.
    func refuseEnded(
        _ decision: ScanDecision, _ session: SessionKey, voucher: UInt64, body: VoucherBody?, code: String?, now: Timestamp,
        kind: EventKind, manualReason: String?, warnings: [StationWarning]
    ) throws -> ScanOutcome {
        var outcome = try record(decision, voucher: voucher, body: body, code: code, now: now, kind: kind,
                                 manualReason: manualReason, warnings: warnings)
        outcome.sessionKey = session
        outcome.session = try sessionText(session)
        outcome.facts = [
            "window": outcome.session ?? "", "ended": try sessionEnd(session)?.localClock(utcOffset: utcOffset) ?? "",
        ]
        outcome.message = outcome.line(Localizer(.en))
        return outcome
    }

    /// The roster entry a revoked voucher had before the county withdrew it (the trust bundle's
    /// roster leaves it out), or nil when this site never held it.
    public func revokedRosterEntry(_ voucherID: UInt64) throws -> RosterEntry? {
        try db.first(
            "SELECT class_id, name, id_masked FROM revoked_roster WHERE voucher_id = ?", [.integer(Int64(bitPattern: voucherID))]
        ) {
            RosterEntry(
                voucherID: voucherID, classID: UInt32(truncatingIfNeeded: $0.int64(0)), name: $0.text(1) ?? "",
                idMasked: $0.text(2) ?? "", category: nil)
        }
    }

    // MARK: - Manual entry, before it is made

    /// Who a voucher is and where they stand now, for the kiosk to show before it asks the
    /// direction of a manual entry.
    /// - Throws: ``StationError/notOnRoster(_:)`` for a voucher this site never held,
    ///   ``StationError/noTrustBundle`` before the first import.
    public func manualPreview(voucherID: UInt64) throws -> ManualPreview {
        guard try heldTrust() != nil else { throw StationError.noTrustBundle }
        let revocation = try revocation(voucherID)
        guard let entry = try rosterEntry(voucherID) ?? revokedRosterEntry(voucherID) else {
            throw StationError.notOnRoster(voucherID)
        }
        var preview = ManualPreview(
            voucherID: voucherID, name: entry.name, idMasked: entry.idMasked, classID: entry.classID, className: nil,
            revokedOn: revocation.map { $0.revokedAt.classDay(utcOffset: utcOffset).description }, revokedWhy: revocation?.reason,
            state: .noSession(sessions: ""))
        guard let info = try classInfo(entry.classID) else { return preview }
        preview.className = info.name
        preview.state = .noSession(sessions: info.sessions.map(\.description).joined(separator: ", "))
        let now = clock.now()
        let evaluator = ScanEvaluator(trust: self, utcOffset: utcOffset)
        let day = evaluator.sessionDay(of: info, at: now)
        guard day >= info.startDate, day <= info.endDate else { return preview }
        var states: [ManualPreview.State] = []
        for (i, w) in info.sessions.enumerated() where evaluator.window(w, on: day, rules: info.rules).contains(now) {
            let key = SessionKey(classID: info.id, day: day, index: i)
            if let end = try sessionEnd(key) {
                states.append(.sessionEnded(window: w.description, ended: end.localClock(utcOffset: utcOffset)))
                continue
            }
            switch try attendance(key, voucher: voucherID) {
            case nil: states.append(.notSignedIn(window: w.description))
            case let r?:
                if let out = r.signedOutAt {
                    states.append(.signedOut(window: w.description, at: out.localClock(utcOffset: utcOffset)))
                } else {
                    // Signed in and not out: what a sign-out would close, so it is shown first.
                    states.insert(.signedIn(window: w.description, at: r.signedInAt.localClock(utcOffset: utcOffset)), at: 0)
                }
            }
        }
        if let first = states.first { preview.state = first }
        return preview
    }

    // MARK: - The kiosk's recent list

    /// Today's last scans, manual entries and refusals, newest first, as outcomes (so a kiosk
    /// that restarts shows what it showed before). Duplicates are not recorded, so not listed.
    public func recentScans(limit: Int = 20) throws -> [ScanOutcome] {
        let now = clock.now()
        let midnight = now.classDay(utcOffset: utcOffset).at(LocalTime(minuteOfDay: 0), utcOffset: utcOffset)
        let rows = try db.query(
            """
            SELECT seq, kind, direction, voucher_id, class_id, class_day, session_index, reason, flags, wall_ms FROM events
            WHERE kind IN ('scan', 'manual', 'refused') AND wall_ms >= ? ORDER BY seq DESC LIMIT ?
            """, [.integer(midnight.milliseconds), .integer(Int64(max(0, limit)))]
        ) { s in
            (seq: s.int64(0), kind: s.text(1) ?? "", direction: s.text(2).flatMap(Direction.init),
             voucher: s.optionalInt64(3).map { UInt64(bitPattern: $0) }, classID: s.optionalInt64(4).map { UInt32(truncatingIfNeeded: $0) },
             day: s.text(5).flatMap { ClassDay(iso: $0) }, index: s.optionalInt64(6).map { Int($0) }, reason: s.text(7),
             flags: s.text(8) ?? "", at: Timestamp(milliseconds: s.int64(9)))
        }
        return try rows.map { r in
            let entry = try r.voucher.flatMap { try rosterEntry($0) ?? revokedRosterEntry($0) }
            var o = ScanOutcome(
                result: r.kind == "refused" ? .rejected : .accepted, direction: r.direction, voucherID: r.voucher,
                reason: r.kind == "refused" ? ScanReason(rawValue: r.reason ?? "") ?? .malformed : nil, message: "", seq: r.seq,
                time: r.at, earlierTime: nil, name: entry?.name, idMasked: entry?.idMasked, classID: r.classID ?? entry?.classID,
                className: nil, session: nil, flags: r.flags.isEmpty ? [] : r.flags.split(separator: ",").map(String.init),
                warnings: [])
            if let c = o.classID, let info = try classInfo(c) {
                o.className = info.name
                if let day = r.day, let i = r.index, i < info.sessions.count {
                    o.sessionKey = SessionKey(classID: c, day: day, index: i)
                    o.session = info.sessions[i].description
                }
            }
            if o.result == .accepted {
                o.facts["time"] = r.at.localClock(utcOffset: utcOffset)
                if r.kind == "manual", let why = r.reason { o.facts["why"] = why }
            }
            o.message = o.line(Localizer(.en))
            return o
        }
    }
}

/// What the kiosk shows after a manual entry's voucher number, before it asks in or out.
public struct ManualPreview: Sendable, Equatable {
    /// Where the trainee stands in the session open now.
    public enum State: Sendable, Equatable {
        /// No session of the class is open now; its sessions, `08:30-11:30, 14:00-17:00`.
        case noSession(sessions: String)
        /// The session is open and the trainee has not signed in.
        case notSignedIn(window: String)
        /// Signed in at a time, not yet out.
        case signedIn(window: String, at: String)
        /// Signed out at a time.
        case signedOut(window: String, at: String)
        /// The instructor ended the session at a time: a manual entry is refused.
        case sessionEnded(window: String, ended: String)
    }

    /// The voucher.
    public var voucherID: UInt64
    /// The trainee's name.
    public var name: String
    /// The masked ID number.
    public var idMasked: String
    /// The class.
    public var classID: UInt32
    /// The class's name, when the bundle holds the class.
    public var className: String?
    /// The day the county revoked the voucher, if it did.
    public var revokedOn: String?
    /// The revocation's reason.
    public var revokedWhy: String?
    /// Where the trainee stands now.
    public var state: State
}

