import FieldKitCore
import FoundationEssentials

extension Station {
    /// The log as CSV for Excel/WPS: UTF-8 with a byte-order mark, local times, names from the
    /// roster beside the voucher (the log itself holds no names). Text cells are neutralised
    /// (``csvField(_:)``): a name or note like `=cmd|…` is shown, never computed.
    ///
    /// `reason` is in the user's words (a refusal's reason translated, a manual entry's reason
    /// as the instructor typed it); `reason_code` keeps a refusal's stable code for scripts.
    public func exportCSV(localizer t: Localizer = Localizer(.zhHans)) throws -> [UInt8] {
        var out: [UInt8] = [0xEF, 0xBB, 0xBF]
        let header = [
            "seq", "local_time", "utc_time", "kind", "direction", "voucher_id", "name", "id_masked", "class_id",
            "class_day", "session", "reason", "reason_code", "flags", "note", "hash",
        ]
        out += Array((header.joined(separator: ",") + "\r\n").utf8)
        var names: [UInt64: RosterEntry] = [:]
        for e in try events() {
            if let v = e.voucherID, names[v] == nil, let r = try rosterEntry(v) { names[v] = r }
            let r = e.voucherID.flatMap { names[$0] }
            var session = ""
            if let c = e.classID, let i = e.sessionIndex, let info = try classInfo(c), i < info.sessions.count {
                session = info.sessions[i].description
            }
            let row = [
                csvNumber(e.seq), csvField(e.wallTime.localDescription(utcOffset: e.utcOffset)), csvField(e.wallTime.description),
                csvField(e.kind.rawValue), csvField(e.direction?.rawValue ?? ""), e.voucherID.map(csvNumber) ?? "",
                csvField(r?.name ?? ""), csvField(r?.idMasked ?? ""), e.classID.map(csvNumber) ?? "",
                csvField(e.classDay?.description ?? ""), csvField(session),
                csvField(e.kind == .refused ? e.reason.map { DaySheet.Refusal.words(forReason: $0, t) } ?? "" : e.reason ?? ""),
                csvField(e.kind == .refused ? e.reason ?? "" : ""), csvField(e.flags),
                csvField(e.note ?? ""), csvField(hexString(e.hash)),
            ]
            out += Array((csvRecord(row) + "\r\n").utf8)
        }
        return out
    }

    /// The log as JSON Lines: every stored field, hashes in hex, no names.
    public func exportJSONL() throws -> [UInt8] {
        struct Line: Encodable {
            var seq: Int64
            var uuid: String
            var device_id: String
            var kind: String
            var direction: String?
            var voucher_id: UInt64?
            var class_id: UInt32?
            var class_day: String?
            var session_index: Int?
            var reason: String?
            var note: String?
            var code: String?
            var flags: String
            var time: Timestamp
            var wall_ms: Int64
            var utc_offset: Int
            var boot_id: String
            var mono_ns: Int64
            var prev_hash: String
            var hash: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out: [UInt8] = []
        for e in try events() {
            let line = Line(
                seq: e.seq, uuid: e.uuid, device_id: e.deviceID, kind: e.kind.rawValue, direction: e.direction?.rawValue,
                voucher_id: e.voucherID, class_id: e.classID, class_day: e.classDay?.description,
                session_index: e.sessionIndex, reason: e.reason, note: e.note, code: e.code, flags: e.flags,
                time: e.wallTime, wall_ms: e.wallTime.milliseconds, utc_offset: e.utcOffset, boot_id: e.bootID,
                mono_ns: e.monotonicNanos, prev_hash: hexString(e.prevHash), hash: hexString(e.hash))
            out += Array(try encoder.encode(line))
            out.append(0x0A)
        }
        return out
    }
}
