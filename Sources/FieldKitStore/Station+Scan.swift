import Crypto
import FieldKitCore
import FieldKitSQLite
import FoundationEssentials
import Logging

extension Station {
    /// Judges and records one scanned code. Returns only after the outcome is committed.
    ///
    /// Sessions whose sign-out window has closed are closed first (open sign-ins flagged,
    /// a checkpoint signed), so a scan always sees settled state.
    /// - Throws: only storage failures (``SQLiteError``); a bad code is a ``ScanResult/rejected`` outcome.
    public func scan(_ text: String) throws -> ScanOutcome {
        let decoded = Result { try VoucherCode(text: text) }
        return try db.transaction {
            let now = clock.now()
            try closeDueSessions(now: now)
            let warnings = try currentWarnings(now: now)
            guard let trust = try heldTrust() else {
                let event = try append(EventDraft(kind: .refused, reason: ScanReason.noTrustBundle.rawValue, code: codeForLog(text, decoded)))
                return ScanOutcome(
                    result: .rejected, direction: nil, voucherID: try? decoded.get().body.voucherID,
                    reason: .noTrustBundle, message: StationError.noTrustBundle.description, seq: event.seq, time: now,
                    earlierTime: nil, name: nil, idMasked: nil, classID: nil, className: nil, session: nil, flags: [],
                    warnings: warnings)
            }
            // Another process (an import while the kiosk runs) may have replaced the trust.
            if trust.sequence != classCacheSequence {
                classCache = [:]
                classCacheSequence = trust.sequence
            }
            let code: VoucherCode
            switch decoded {
            case .failure(let error):
                let event = try append(
                    EventDraft(kind: .refused, reason: ScanReason.malformed.rawValue, note: "\(error)", code: codeForLog(text, decoded)))
                return ScanOutcome(
                    result: .rejected, direction: nil, voucherID: nil, reason: .malformed,
                    message: "\(error)", seq: event.seq, time: now, earlierTime: nil, name: nil,
                    idMasked: nil, classID: nil, className: nil, session: nil, flags: [], warnings: warnings)
            case .success(let c): code = c
            }
            let voucher = code.body.voucherID
            // A session the instructor ended looks finished to the evaluator (so a neighbouring
            // session can still take the scan); a scan that lands in it is refused `session_ended`.
            var ended: Set<SessionKey> = []
            let decision = try staleTrustRefusal(now: now) ?? ScanEvaluator(trust: self, utcOffset: utcOffset).evaluate(code, at: now) { key in
                let record = try attendance(key, voucher: voucher)
                guard record?.signedOutAt == nil, let end = try sessionEnd(key) else { return record }
                ended.insert(key)
                return SessionAttendance(signedInAt: record?.signedInAt ?? end, signedOutAt: end)
            }
            if case .duplicate(_, let key, _) = decision, ended.contains(key) {
                return try refuseEnded(
                    .reject(reason: .sessionEnded, detail: "\(key) was ended by the instructor"), key, voucher: voucher,
                    body: code.body, code: code.text, now: now, kind: .scan, manualReason: nil, warnings: warnings)
            }
            return try record(decision, voucher: voucher, body: code.body, code: code.text, now: now, kind: .scan,
                              manualReason: nil, warnings: warnings)
        }
    }

    /// Records an instructor's manual sign-in or sign-out (scanner broken, phone dead).
    ///
    /// The entry is flagged `manual` everywhere. It may carry an earlier time of today (the
    /// only way the shipped binary records a time other than now).
    /// - Parameters:
    ///   - at: the time to record, or nil for now.
    /// - Throws: ``StationError`` for an unknown voucher, a missing reason, or a sign-out without sign-in.
    public func manual(voucherID: UInt64, direction: Direction, reason: String, at: Timestamp? = nil) throws
        -> ScanOutcome
    {
        let reason = reason.trimmingWhitespace()
        guard !reason.isEmpty else { throw StationError.reasonRequired }
        guard try heldTrust() != nil else { throw StationError.noTrustBundle }
        // A revoked voucher is no longer on the bundle's roster: it is refused `revoked` (and
        // recorded), not called unknown.
        guard let entry = try rosterEntry(voucherID) ?? revokedRosterEntry(voucherID) else {
            throw StationError.notOnRoster(voucherID)
        }
        return try db.transaction {
            let now = clock.now()
            let when = at ?? now
            guard when <= now.adding(minutes: 1) else { throw StationError.manualInFuture(when.localDescription(utcOffset: utcOffset)) }
            try closeDueSessions(now: now)
            let warnings = try currentWarnings(now: now)
            guard let info = try classInfo(entry.classID) else { throw StationError.notOnRoster(voucherID) }
            let day = ScanEvaluator(trust: self, utcOffset: utcOffset).sessionDay(of: info, at: when)
            let decision: ScanDecision
            if let stale = try staleTrustRefusal(now: now) {
                decision = stale
            } else if let r = try revocation(voucherID) {
                decision = .reject(reason: .revoked, detail: "revoked on \(r.revokedAt.classDay(utcOffset: utcOffset)) (reason: \(r.reason))")
            } else if day < info.startDate || day > info.endDate {
                decision = .reject(reason: .outsideClassDates, detail: "class \(info.id) runs \(info.startDate) to \(info.endDate)")
            } else if let key = try endedSession(info: info, day: day, at: when) {
                // An ended session takes no manual entry either: the instructor ended it, and its
                // open sign-ins are already recorded `open_at_end` (a correction goes to the county).
                return try refuseEnded(
                    .reject(reason: .sessionEnded, detail: "\(key) was ended by the instructor"), key, voucher: voucherID,
                    body: nil, code: nil, now: when, kind: .manual, manualReason: reason, warnings: warnings)
            } else {
                decision = try manualDecision(info: info, day: day, voucher: voucherID, direction: direction, at: when)
            }
            let outcome = try record(decision, voucher: voucherID, body: nil, code: nil, now: when, kind: .manual,
                                     manualReason: reason, warnings: warnings)
            // An entry into a session that has already closed is settled at once.
            try closeDueSessions(now: now)
            return outcome
        }
    }

    func manualDecision(info: ClassInfo, day: ClassDay, voucher: UInt64, direction: Direction, at when: Timestamp)
        throws -> ScanDecision
    {
        let evaluator = ScanEvaluator(trust: self, utcOffset: utcOffset)
        // The session whose extended window holds the time; the instructor names the direction.
        for (i, w) in info.sessions.enumerated() where evaluator.window(w, on: day, rules: info.rules).contains(when) {
            let key = SessionKey(classID: info.id, day: day, index: i)
            let record = try attendance(key, voucher: voucher)
            switch (direction, record) {
            case (.signIn, nil):
                let late = when > day.at(w.start, utcOffset: utcOffset).adding(minutes: info.rules.lateAfter)
                return .accept(direction: .signIn, session: key, late: late)
            case (.signIn, let r?):
                return .duplicate(reason: r.signedOutAt == nil ? .alreadyIn : .alreadyOut, session: key, earlier: r.signedOutAt ?? r.signedInAt)
            case (.signOut, nil):
                throw StationError.noSignIn(voucher, session: "\(day) \(w)")  // no English words: shown in any language
            case (.signOut, let r?):
                if let out = r.signedOutAt { return .duplicate(reason: .alreadyOut, session: key, earlier: out) }
                guard when > r.signedInAt else {
                    throw StationError.outBeforeIn(voucher, signedInAt: r.signedInAt.localClock(utcOffset: utcOffset))
                }
                return .accept(direction: .signOut, session: key, late: false)
            }
        }
        let list = info.sessions.map(\.description).joined(separator: ", ")
        return .reject(reason: .outsideSession, detail: "no session at that time; sessions are \(list)")
    }

    /// Writes the decision's event and state, and words the outcome.
    func record(
        _ decision: ScanDecision, voucher: UInt64, body: VoucherBody?, code: String?, now: Timestamp, kind: EventKind,
        manualReason: String?, warnings: [StationWarning]
    ) throws -> ScanOutcome {
        let entry = try rosterEntry(voucher)
        let known = try entry ?? revokedRosterEntry(voucher)
        var outcome = ScanOutcome(
            result: .rejected, direction: nil, voucherID: voucher, reason: nil, message: "", seq: nil, time: now,
            earlierTime: nil, name: known?.name, idMasked: known?.idMasked, classID: body?.classID ?? known?.classID,
            className: nil, session: nil, flags: [], warnings: warnings)
        if let id = outcome.classID, let info = try classInfo(id) { outcome.className = info.name }
        switch decision {
        case .accept(let direction, let session, let late):
            var flags: Set<EventFlag> = []
            if late { flags.insert(.late) }
            if kind == .manual { flags.insert(.manual) }
            if body?.isTest == true { flags.insert(.test) }
            if entry == nil { flags.insert(.unlisted) }
            try ensureSession(session)
            let event = try append(
                EventDraft(kind: kind, direction: direction, voucherID: voucher, session: session, reason: manualReason,
                           code: code, flags: flags, wallTime: now))
            if direction == .signIn {
                try db.run(
                    """
                    INSERT INTO attendance(class_id, class_day, session_index, voucher_id, in_seq, in_ms)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, sessionValues(session) + [.integer(Int64(bitPattern: voucher)), .integer(event.seq), .integer(now.milliseconds)])
            } else {
                // The sign-in may be under a voucher this one replaced.
                let held = try attendanceRow(session, voucher: voucher)?.voucher ?? voucher
                try db.run(
                    """
                    UPDATE attendance SET out_seq = ?, out_ms = ?
                    WHERE class_id = ? AND class_day = ? AND session_index = ? AND voucher_id = ?
                    """, [.integer(event.seq), .integer(now.milliseconds)] + sessionValues(session) + [.integer(Int64(bitPattern: held))])
            }
            outcome.result = .accepted
            outcome.sessionKey = session
            outcome.direction = direction
            outcome.seq = event.seq
            outcome.flags = event.flags.isEmpty ? [] : event.flags.split(separator: ",").map(String.init)
            outcome.session = try sessionText(session)
            outcome.facts["time"] = now.localClock(utcOffset: utcOffset)
            if let why = manualReason { outcome.facts["why"] = why }
            if direction == .signOut, let record = try attendance(session, voucher: voucher) {
                outcome.facts["minutes"] = String((now.milliseconds - record.signedInAt.milliseconds) / 60_000)
            }
        case .duplicate(let reason, let session, let earlier):
            outcome.result = .duplicate
            outcome.sessionKey = session
            outcome.reason = reason
            outcome.earlierTime = earlier
            outcome.direction = reason == .alreadyIn ? .signIn : .signOut
            outcome.session = try sessionText(session)
            let t = earlier.localClock(utcOffset: utcOffset)
            let from = earlier.adding(minutes: try classInfo(session.classID)?.rules.minimumStay ?? 5)
            outcome.facts = ["time": t, "from": from.localClock(utcOffset: utcOffset)]
        case .reject(let reason, let detail):
            let event = try append(
                EventDraft(kind: .refused, voucherID: voucher, classID: body?.classID ?? entry?.classID, reason: reason.rawValue,
                           note: manualReason.map { "\(detail); manual: \($0)" } ?? detail, code: code,
                           flags: kind == .manual ? [.manual] : [], wallTime: now))
            outcome.reason = reason
            outcome.seq = event.seq
            outcome.facts = try refusalFacts(reason, voucher: voucher, body: body, classID: outcome.classID)
        }
        outcome.message = outcome.line(Localizer(.en))
        logger.info(
            "scan", metadata: ["result": "\(outcome.result.rawValue)", "reason": "\(outcome.reason?.rawValue ?? "")",
                               "voucher": "\(voucher)", "seq": "\(outcome.seq.map(String.init) ?? "")"])
        return outcome
    }

    /// The values a refusal's words name: dates, the revocation's reason, the sessions.
    func refusalFacts(_ reason: ScanReason, voucher: UInt64, body: VoucherBody?, classID: UInt32?) throws -> [String: String] {
        switch reason {
        case .revoked:
            guard let r = try revocation(voucher) else { return [:] }
            return ["date": r.revokedAt.classDay(utcOffset: utcOffset).description, "why": r.reason]
        case .notYetValid: return body.map { ["date": $0.validFrom.description] } ?? [:]
        case .expired: return body.map { ["date": $0.validTo.description] } ?? [:]
        case .trustStale:
            guard let t = try heldTrust() else { return [:] }
            return ["date": t.expiresAt.classDay(utcOffset: utcOffset).description, "days": String(Station.trustGraceDays)]
        case .outsideClassDates, .outsideSession:
            guard let id = classID, let info = try classInfo(id) else { return [:] }
            return ["from": info.startDate.description, "to": info.endDate.description,
                    "sessions": info.sessions.map(\.description).joined(separator: ", ")]
        default: return [:]
        }
    }

    // MARK: - State

    func sessionValues(_ s: SessionKey) -> [SQLValue] {
        [.integer(Int64(s.classID)), .text(s.day.description), .integer(Int64(s.index))]
    }

    func sessionText(_ s: SessionKey) throws -> String? {
        guard let info = try classInfo(s.classID), s.index < info.sessions.count else { return nil }
        return info.sessions[s.index].description
    }

    /// What was recorded for a voucher in a session.
    func attendance(_ s: SessionKey, voucher: UInt64) throws -> SessionAttendance? {
        try attendanceRow(s, voucher: voucher)?.record
    }

    /// What was recorded for a person in a session, under this voucher or one it replaced (a
    /// reissue: a sign-in with the lost card is closed by a sign-out with the new one), and the
    /// voucher the record is kept under.
    func attendanceRow(_ s: SessionKey, voucher: UInt64) throws -> (voucher: UInt64, record: SessionAttendance)? {
        let vouchers = try personVouchers(voucher)
        return try db.first(
            """
            SELECT voucher_id, in_ms, out_ms FROM attendance
            WHERE class_id = ? AND class_day = ? AND session_index = ?
              AND voucher_id IN (\(vouchers.map { _ in "?" }.joined(separator: ", ")))
            ORDER BY in_ms LIMIT 1
            """, sessionValues(s) + vouchers.map { .integer(Int64(bitPattern: $0)) }
        ) {
            (UInt64(bitPattern: $0.int64(0)), SessionAttendance(
                signedInAt: Timestamp(milliseconds: $0.int64(1)), signedOutAt: $0.optionalInt64(2).map { Timestamp(milliseconds: $0) }))
        }
    }

    func ensureSession(_ s: SessionKey) throws {
        guard let info = try classInfo(s.classID) else { return }
        let closes = s.day.at(info.sessions[s.index].end, utcOffset: utcOffset).adding(minutes: info.rules.signOutClosesAfter)
        // A late manual entry reopens a closed session, so that it is closed (and flagged) again;
        // a session the instructor ended is never reopened.
        try db.run(
            """
            INSERT INTO sessions(class_id, class_day, session_index, closes_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET closed = 0 WHERE ended_ms IS NULL
            """,
            sessionValues(s) + [.integer(closes.milliseconds)])
    }

    /// Closes every session whose sign-out window has passed: each sign-in still open gets an
    /// `open_at_end` event (never counted as attended), then the device signs a checkpoint.
    func closeDueSessions(now: Timestamp) throws {
        let due = try db.query(
            "SELECT class_id, class_day, session_index FROM sessions WHERE closed = 0 AND closes_ms < ? ORDER BY closes_ms",
            [.integer(now.milliseconds)]
        ) { SessionKey(classID: UInt32($0.int64(0)), day: ClassDay(iso: $0.text(1) ?? "") ?? ClassDay(number: 0), index: Int($0.int64(2))) }
        for s in due {
            let open = try db.query(
                """
                SELECT voucher_id FROM attendance
                WHERE class_id = ? AND class_day = ? AND session_index = ? AND out_seq IS NULL AND open_seq IS NULL
                ORDER BY voucher_id
                """, sessionValues(s)
            ) { UInt64(bitPattern: $0.int64(0)) }
            for v in open {
                let e = try append(EventDraft(kind: .openAtEnd, voucherID: v, session: s, note: "no sign-out by the end of the session", flags: [.open]))
                try db.run(
                    "UPDATE attendance SET open_seq = ? WHERE class_id = ? AND class_day = ? AND session_index = ? AND voucher_id = ?",
                    [.integer(e.seq)] + sessionValues(s) + [.integer(Int64(bitPattern: v))])
            }
            try db.run("UPDATE sessions SET closed = 1 WHERE class_id = ? AND class_day = ? AND session_index = ?", sessionValues(s))
            _ = try checkpointInTransaction(reason: "end of \(s)")
        }
    }

    /// Closes sessions that are due now (also done before every scan).
    public func closeDueSessions() throws {
        try db.transaction { try closeDueSessions(now: clock.now()) }
    }

    /// Warnings that every screen shows.
    func currentWarnings(now: Timestamp) throws -> [StationWarning] {
        var out: [StationWarning] = []
        if let pending = try restorePending() { out.append(.restorePending(baseSeq: pending.baseSeq)) }
        if let t = try heldTrust() {
            switch trustAge(expiresAt: t.expiresAt, now: now) {
            case .current: break
            case .grace(let day, let left): out.append(.trustExpired(day, daysLeft: left))
            case .stale(let day): out.append(.trustStale(day))
            }
            let today = now.classDay(utcOffset: utcOffset)
            let issued = t.issuedAt.classDay(utcOffset: utcOffset)
            let stale = try db.first(
                "SELECT name FROM classes WHERE start_day <= ? AND end_day >= ? AND start_day > ? ORDER BY start_day",
                [.integer(Int64(today.number)), .integer(Int64(today.number)), .integer(Int64(issued.number))]
            ) { $0.text(0) ?? "" }
            if let stale { out.append(.trustOlderThanClass(stale, issued: issued)) }
        }
        if try clockBehind(now) { out.append(.clockBehind(Timestamp(milliseconds: try highWater()))) }
        return out
    }

    /// What is stored for a scanned text: the digits of a well-formed code (no personal data in
    /// it), or only a keyed digest and the length of anything else, which could be whatever was
    /// typed (an ID number by mistake). The key is derived from the device key, so the digest
    /// cannot be reversed by hashing guesses without the device; the device can still match it.
    func codeForLog(_ text: String, _ decoded: Result<VoucherCode, any Error>) -> String {
        if case .success(let c) = decoded { return c.text }
        let key = SymmetricKey(data: SHA256.hash(data: Array("FKMAL1".utf8) + Array(deviceKey.rawRepresentation)))
        let digest = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)
        return "hmac-sha256:\(hexString(digest))/\(text.utf8.count)"
    }
}
