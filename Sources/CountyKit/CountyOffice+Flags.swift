import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

/// Flags on held attendance that only the county can set, from what no single site sees.
public enum CountyFlag {
    /// The same person (by pseudonym) was present in another class at the same time, at this
    /// site or another, for at least ``overlapMinimumMs``.
    public static let overlap = "overlap"
    /// An event of the record came from a device the county knows to stand elsewhere than the
    /// class's location.
    public static let location = "location"
    /// The shortest overlap that flags: one minute (a sign-out at 11:30 and a sign-in at 11:30
    /// elsewhere is a walk between rooms, not two places at once).
    public static let overlapMinimumMs: Int64 = 60_000
}

/// Rebuilds held attendance from events in the order the county keeps them (device, sequence):
/// per voucher, day and session the first sign-in and the last sign-out after it, with every
/// flag seen and every device that contributed.
struct HeldAttendanceBuilder {
    struct Key: Hashable {
        var voucher: UInt64
        var day: String
        var session: Int
    }

    private var index: [Key: Int] = [:]
    /// The records, in the order their first sign-in was met.
    private(set) var records: [HeldAttendance] = []
    /// The devices whose events went into each record (same order as ``records``).
    private(set) var devices: [Set<String>] = []

    /// The vouchers as scanned whose events went into each record (same order as ``records``),
    /// when the caller counted a reissued voucher's events under its person's current voucher.
    private var originals: [Set<UInt64>] = []

    /// Takes one event; events that are not counted attendance are the caller's to skip.
    /// - Parameter original: the voucher as scanned, when the event counts under another one
    ///   (``CountyOffice/currentVouchers(classID:)``); nil otherwise.
    mutating func add(_ e: HeldEvent, original: UInt64? = nil) {
        guard let voucher = e.voucher_id, let dayText = e.class_day, let day = ClassDay(iso: dayText),
            let session = e.session_index, let direction = e.direction
        else { return }
        let key = Key(voucher: voucher, day: dayText, session: session)
        var flags = Set(e.flags.split(separator: ",").map(String.init))
        let ms = e.time.milliseconds
        guard let i = index[key] else {
            guard direction == "in" else { return }
            index[key] = records.count
            records.append(
                HeldAttendance(voucherID: voucher, day: day, sessionIndex: session, inMs: ms, outMs: nil, flags: flags))
            devices.append([e.device])
            originals.append(original.map { [$0] } ?? [])
            return
        }
        if direction == "in" {
            // A later sign-in with the person's other voucher (a reissue) does not make them
            // late: their first sign-in decides.
            if ms < records[i].inMs {
                records[i].inMs = ms
            } else if let original, !originals[i].contains(original) {
                flags.remove("late")
            }
        } else if ms >= records[i].inMs {
            records[i].outMs = max(records[i].outMs ?? ms, ms)
        } else {
            return
        }
        records[i].flags.formUnion(flags)
        devices[i].insert(e.device)
        if let original { originals[i].insert(original) }
    }
}

extension HeldEvent {
    /// Counted attendance: a sign-in or sign-out the county did not hold apart.
    var countsAsAttendance: Bool {
        (kind == EventKind.scan.rawValue || kind == EventKind.manual.rawValue) && quarantine.isEmpty
    }
}

extension CountyOffice {
    /// Adds the county's own flags (``CountyFlag/overlap``, ``CountyFlag/location``) to a
    /// class's rebuilt attendance.
    func withCountyFlags(_ built: HeldAttendanceBuilder, classID: UInt32) throws -> [HeldAttendance] {
        var records = built.records
        guard !records.isEmpty else { return records }
        let info = try classInfo(classID)?.0
        for i in try overlapping(records, classID: classID, sessions: info?.sessions ?? []) {
            records[i].flags.insert(CountyFlag.overlap)
        }
        let place = info?.location.trimmingWhitespace() ?? ""
        if !place.isEmpty {
            let located = try deviceLocations()
            for i in records.indices
            where built.devices[i].contains(where: { located[$0].map { $0.trimmingWhitespace() != place } ?? false }) {
                records[i].flags.insert(CountyFlag.location)
            }
        }
        return records
    }

    /// Every device whose location the county recorded.
    func deviceLocations() throws -> [String: String] {
        var out: [String: String] = [:]
        for (id, place) in try db.query("SELECT id, location FROM devices WHERE location IS NOT NULL", [], {
            ($0.text(0) ?? "", $0.text(1) ?? "")
        }) { out[id] = place }
        return out
    }

    /// The indices of the records whose holder was present in another class at an overlapping
    /// time. One query finds every counted event of the same people's vouchers in other classes.
    func overlapping(_ records: [HeldAttendance], classID: UInt32, sessions: [SessionWindow]) throws -> Set<Int> {
        let classBind = SQLValue.integer(Int64(classID))
        // The person behind each voucher seen in this class (a voucher not in the county's
        // records links no one).
        var person: [UInt64: Int64] = [:]
        for (voucher, ref) in try db.query(
            "SELECT id, trainee_ref FROM vouchers WHERE class_id = ? OR id IN (SELECT voucher_id FROM events WHERE class_id = ?)",
            [classBind, classBind],
            { (UInt64(bitPattern: $0.int64(0)), $0.int64(1)) })
        { person[voucher] = ref }
        guard !person.isEmpty else { return [] }
        // The same people's counted attendance in every other class, in the order that class's
        // own rebuild meets it, so each side sees the same records.
        var others: [UInt32: HeldAttendanceBuilder] = [:]
        for (otherClass, event, ref) in try db.query(
            """
            SELECT e.class_id, e.device_id, e.site_id, e.seq, e.kind, e.voucher_id, e.direction, e.wall_ms, e.class_day,
                   e.session_index, e.flags, v.trainee_ref
            FROM events e JOIN vouchers v ON v.id = e.voucher_id
            WHERE v.trainee_ref IN (SELECT trainee_ref FROM vouchers
                                    WHERE id IN (SELECT voucher_id FROM events WHERE class_id = ?))
              AND e.class_id IS NOT NULL AND e.class_id <> ?
              AND e.kind IN ('scan', 'manual') AND e.quarantine IS NULL
            ORDER BY e.class_id, e.device_id, e.seq
            """, [classBind, classBind],
            { r in
                (
                    r.int64(0),
                    HeldEvent(
                        device: r.text(1) ?? "", site: r.text(2) ?? "", seq: r.int64(3), kind: r.text(4) ?? "",
                        voucher_id: r.optionalInt64(5).map { UInt64(bitPattern: $0) }, direction: r.text(6),
                        time: Timestamp(milliseconds: r.int64(7)), class_day: r.text(8),
                        session_index: r.optionalInt64(9).flatMap { Int(exactly: $0) }, flags: r.text(10) ?? "",
                        quarantine: []),
                    r.int64(11)
                )
            })
        {
            guard let other = UInt32(exactly: otherClass), let voucher = event.voucher_id else { continue }
            person[voucher] = ref
            others[other, default: HeldAttendanceBuilder()].add(event)
        }
        guard !others.isEmpty else { return [] }

        /// One stretch of presence: whose, in which class, and (for this class) which record.
        struct Presence {
            var classID: UInt32
            var span: TimeSpan
            var record: Int?
        }
        var byPerson: [Int64: [Presence]] = [:]
        for (i, r) in records.enumerated() {
            guard let ref = person[r.voucherID] else { continue }
            byPerson[ref, default: []].append(Presence(classID: classID, span: presence(r, sessions: sessions), record: i))
        }
        for (other, built) in others {
            let otherSessions = try classInfo(other)?.0.sessions ?? []
            for r in built.records {
                guard let ref = person[r.voucherID], byPerson[ref] != nil else { continue }
                byPerson[ref, default: []].append(Presence(classID: other, span: presence(r, sessions: otherSessions), record: nil))
            }
        }
        // Per person, by start: each stretch meets only those that start before it ends.
        var flagged: Set<Int> = []
        for (_, stretches) in byPerson {
            let sorted = stretches.filter { $0.span.end > $0.span.start }.sorted { $0.span.start < $1.span.start }
            for (i, a) in sorted.enumerated() {
                for b in sorted[(i + 1)...] {
                    guard b.span.start < a.span.end else { break }
                    guard a.classID != b.classID, a.record != nil || b.record != nil else { continue }
                    let shared = min(a.span.end, b.span.end).subtractingClamped(b.span.start)
                    guard shared >= CountyFlag.overlapMinimumMs else { continue }
                    if let r = a.record { flagged.insert(r) }
                    if let r = b.record { flagged.insert(r) }
                }
            }
        }
        return flagged
    }

    /// When a record's holder was present: from sign-in to sign-out, or, with no sign-out, to
    /// the end of the session's window that day (China time; the end of the day when the class
    /// has no such session).
    func presence(_ r: HeldAttendance, sessions: [SessionWindow]) -> TimeSpan {
        if let out = r.outMs { return TimeSpan(r.inMs, out) }
        let end = sessions.indices.contains(r.sessionIndex)
            ? r.day.at(sessions[r.sessionIndex].end) : r.day.adding(days: 1).start()
        return TimeSpan(r.inMs, end.milliseconds)
    }

    // MARK: - Recordings

    /// The spans of every classroom recording registered by a device of a site (`video`
    /// events), by start. Events the county held apart are skipped, and so is any note that
    /// does not read as a span with its end after its start.
    /// - Throws: ``CountyError/unknownSite(_:)``.
    public func recordings(site: String) throws -> [TimeSpan] {
        guard try db.first("SELECT 1 FROM sites WHERE id = ?", [.text(site)], { _ in true }) != nil else {
            throw CountyError.unknownSite(site)
        }
        let bodies = try db.query(
            """
            SELECT e.body FROM events e JOIN devices d ON d.id = e.device_id
            WHERE d.site_id = ? AND e.kind = ? AND e.quarantine IS NULL ORDER BY e.device_id, e.seq
            """, [.text(site), .text(EventKind.video.rawValue)]
        ) { $0.text(0) ?? "" }
        return bodies.compactMap(CountyOffice.videoSpan).sorted { ($0.start, $0.end) < ($1.start, $1.end) }
    }

    /// The span in a video event's wire body (`note` holds `start_ms` and `end_ms`), or nil.
    static func videoSpan(body: String) -> TimeSpan? {
        struct Body: Decodable { var note: String? }
        struct Note: Decodable {
            var start_ms: Int64
            var end_ms: Int64
        }
        guard let note = (try? JSONDecoder().decode(Body.self, from: Data(body.utf8)))?.note,
            let span = try? JSONDecoder().decode(Note.self, from: Data(note.utf8)), span.end_ms > span.start_ms
        else { return nil }
        return TimeSpan(span.start_ms, span.end_ms)
    }
}
