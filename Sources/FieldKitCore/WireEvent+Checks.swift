/// The shape every event written by a genuine station has. An event outside it cannot come
/// from an unaltered fieldkit, so the county refuses the whole batch (`invalid-event`, 422)
/// instead of storing it. The county's second look, at what an event claims (the voucher, the
/// class, the session), is in CountyKit's `EventAudit`.
extension WireEvent {
    /// Highest sequence number accepted: far beyond any log, and `seq + 1` can never overflow.
    public static let maxSeq: Int64 = 1 << 53
    /// Latest wall time accepted: the last millisecond of the year 9999. From 0, because a PC
    /// whose clock battery died honestly records 1970.
    public static let maxWallMs: Int64 = 253_402_300_799_999
    /// UTC offsets that exist (UTC−14 … UTC+14), in seconds.
    public static let utcOffsets = -50_400...50_400
    /// Sessions a class may have in a day.
    public static let maxSessionIndex = 63
    /// Longest `reason`, `note`, `code` and `boot_id`, in UTF-8 bytes.
    public static let textLimits: [(field: String, bytes: Int)] = [
        ("reason", 4096), ("note", 16_384), ("code", 512), ("boot_id", 64),
    ]

    /// Why this event cannot be a genuine station's, naming the field and value; nil when its
    /// shape is sound.
    public var shapeProblem: String? {
        guard (1...WireEvent.maxSeq).contains(seq) else { return "seq \(seq) is outside 1…\(WireEvent.maxSeq)" }
        guard isUUID(uuid) else { return "event \(seq): uuid '\(uuid.prefix(40))' is not a UUID" }
        guard let kind = EventKind(rawValue: kind) else { return "event \(seq): kind '\(self.kind.prefix(40))' is not an event kind" }
        if let direction, Direction(rawValue: direction) == nil {
            return "event \(seq): direction '\(direction.prefix(40))' is neither in nor out"
        }
        let attendance = kind == .scan || kind == .manual
        if attendance {
            guard direction != nil, voucher_id != nil, class_id != nil, class_day != nil, session_index != nil else {
                return "event \(seq): a \(kind.rawValue) event needs direction, voucher_id, class_id, class_day and session_index"
            }
        } else if direction != nil {
            return "event \(seq): a \(kind.rawValue) event has no direction"
        }
        if let class_day, ClassDay(iso: class_day)?.description != class_day {
            return "event \(seq): class_day '\(class_day.prefix(40))' is not a date"
        }
        if let session_index, !(0...WireEvent.maxSessionIndex).contains(session_index) {
            return "event \(seq): session_index \(session_index) is outside 0…\(WireEvent.maxSessionIndex)"
        }
        if let problem = flagsProblem { return "event \(seq): \(problem)" }
        guard (0...WireEvent.maxWallMs).contains(wall_ms) else { return "event \(seq): wall_ms \(wall_ms) is not a time" }
        guard WireEvent.utcOffsets.contains(utc_offset) else { return "event \(seq): utc_offset \(utc_offset) is not a UTC offset" }
        guard mono_ns >= 0 else { return "event \(seq): mono_ns \(mono_ns) is negative" }
        for (field, limit) in WireEvent.textLimits {
            let value: String? =
                switch field {
                case "reason": reason
                case "note": note
                case "code": code
                default: boot_id
                }
            if let value, value.utf8.count > limit { return "event \(seq): \(field) is \(value.utf8.count) bytes, at most \(limit)" }
        }
        return nil
    }

    /// Flags must be distinct known flags, sorted and comma-separated, as the station writes them.
    var flagsProblem: String? {
        guard !flags.isEmpty else { return nil }
        let parts = flags.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for p in parts where EventFlag(rawValue: p) == nil { return "flags: '\(p.prefix(40))' is not a known flag" }
        guard parts == Array(Set(parts)).sorted() else { return "flags '\(flags.prefix(80))' are not distinct and sorted" }
        return nil
    }

    func isUUID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard (48...57).contains(c) || (97...102).contains(c) else { return false }
            }
        }
        return true
    }
}
