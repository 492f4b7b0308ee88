import FieldKitCore

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
                "UPDATE sessions SET closes_ms = ? WHERE class_id = ? AND class_day = ? AND session_index = ?",
                [.integer(now.milliseconds - 1)] + sessionValues(session))
            try closeDueSessions(now: now)
            return open
        }
    }
}
