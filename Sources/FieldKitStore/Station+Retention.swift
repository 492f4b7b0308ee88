import FieldKitCore
import FieldKitSQLite
import FoundationEssentials
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What must be kept until when: the answer to `fieldkit retention`.
public struct RetentionReport: Sendable, Encodable {
    /// A class's records: kept until the date, never purged by fieldkit.
    public struct Records: Sendable, Encodable {
        /// The class.
        public var class_id: UInt32
        /// Its last day.
        public var class_end: String
        /// Keep until (inclusive).
        public var keep_until: String
        /// Holds on the class, by their notes.
        public var holds: [String]
    }

    /// A recording.
    public struct Video: Sendable, Encodable {
        /// The file.
        public var path: String
        /// The camera.
        public var camera: String
        /// Bytes.
        public var size: Int64
        /// SHA-256.
        public var sha256: String
        /// The classes whose days it overlaps.
        public var classes: [UInt32]
        /// Keep until (inclusive).
        public var keep_until: String
        /// Holds on it (directly or through a class), by their notes.
        public var holds: [String]
        /// `keep`, `hold`, `purgeable` or `disposed`.
        public var state: String
    }

    /// Today, by the date purging goes by (see ``Station/purgeDay()``).
    public var today: String
    /// The county-signed date purging is bounded by (the held trust bundle's issue day).
    public var signed_day: String?
    /// The PC's clock is behind a time it has already seen: purging is blocked.
    public var clock_behind: Bool
    /// Every class the site has known.
    public var records: [Records]
    /// Every registered recording.
    public var videos: [Video]
}

/// A legal hold.
public struct LegalHold: Sendable, Equatable, Encodable {
    /// The event that placed it.
    public var seq: Int64
    /// `video` or `class`.
    public var target: String
    /// The recording's path or the class id.
    public var ref: String
    /// Why.
    public var note: String
}

/// What a purge did.
public struct PurgeResult: Sendable, Encodable {
    /// Recordings deleted now, each after its disposal event was committed.
    public var deleted: [RetentionReport.Video]
    /// Recordings due but not deleted: their content is not what was registered (an alarm).
    public var changed: [RetentionReport.Video]
    /// Recordings due whose file is not there (a share not mounted?): left for the next run.
    public var missing: [RetentionReport.Video]
    /// Bytes freed.
    public var bytes: Int64
}

extension Station {
    /// Every class period the site has known.
    public func classPeriods() throws -> [ClassPeriod] {
        try db.query("SELECT class_id, start_day, end_day FROM class_periods ORDER BY class_id") {
            ClassPeriod(
                classID: UInt32(truncatingIfNeeded: $0.int64(0)), start: ClassDay(number: Int($0.int64(1))),
                end: ClassDay(number: Int($0.int64(2))))
        }
    }

    /// Holds in force.
    public func holds() throws -> [LegalHold] {
        try db.query("SELECT seq, target, ref, note FROM holds WHERE released_seq IS NULL ORDER BY seq") {
            LegalHold(seq: $0.int64(0), target: $0.text(1) ?? "", ref: $0.text(2) ?? "", note: $0.text(3) ?? "")
        }
    }

    /// The day purging goes by: the PC's clock, but never later than the day the county signed
    /// the held trust bundle. A PC whose clock was set forward cannot purge early: a file may go
    /// only once a county-signed bundle issued after its keep-until date has been imported.
    public func purgeDay() throws -> (today: ClassDay, signed: ClassDay?) {
        let clockDay = clock.now().classDay(utcOffset: utcOffset)
        guard let trust = try heldTrust() else { return (clockDay, nil) }
        let signed = trust.issuedAt.classDay(utcOffset: utcOffset)
        return (min(clockDay, signed), signed)
    }

    /// What must be kept until when, what is on hold, and what may now be purged.
    public func retention() throws -> RetentionReport {
        let periods = try classPeriods()
        let holds = try holds()
        let (today, signed) = try purgeDay()
        let behind = try clockBehind(clock.now())
        let classHolds = Dictionary(grouping: holds.filter { $0.target == "class" }, by: \.ref)
        let disposed = Set(try db.query("SELECT path FROM disposals") { $0.text(0) ?? "" })
        let records = periods.map {
            RetentionReport.Records(
                class_id: $0.classID, class_end: $0.end.description,
                keep_until: Retention.recordsKeepUntil(classEnd: $0.end).description,
                holds: (classHolds[String($0.classID)] ?? []).map(\.note))
        }
        var videos: [RetentionReport.Video] = []
        for v in try self.videos() {
            let classes = Retention.overlapping(v.span, periods: periods, utcOffset: utcOffset)
            let until = Retention.videoKeepUntil(v.span, periods: periods, utcOffset: utcOffset)
            let onHold = holds.filter { $0.target == "video" && $0.ref == v.path }.map(\.note)
                + classes.flatMap { classHolds[String($0.classID)] ?? [] }.map(\.note)
            let state =
                disposed.contains(v.path) ? "disposed"
                : !onHold.isEmpty ? "hold" : Retention.mayPurge(keepUntil: until, today: today) ? "purgeable" : "keep"
            videos.append(RetentionReport.Video(
                path: v.path, camera: v.camera, size: v.size, sha256: v.sha256, classes: classes.map(\.classID),
                keep_until: until.description, holds: onHold, state: state))
        }
        return RetentionReport(
            today: today.description, signed_day: signed?.description, clock_behind: behind, records: records, videos: videos)
    }

    /// Places a legal hold on a registered recording (by path) or on a class's recordings.
    /// - Throws: ``RetentionError``.
    @discardableResult
    public func placeHold(video path: String? = nil, classID: UInt32? = nil, note: String) throws -> LegalHold {
        let note = note.trimmingWhitespace()
        guard !note.isEmpty else { throw RetentionError.noteRequired }
        let (target, ref) = try holdTarget(video: path, classID: classID)
        return try db.transaction {
            if let existing = try holds().first(where: { $0.target == target && $0.ref == ref }) { return existing }
            let event = try append(EventDraft(
                kind: .hold, classID: classID, reason: target, note: try retentionNote(["target": ref, "note": note])))
            try db.run(
                "INSERT INTO holds(seq, target, ref, note) VALUES (?, ?, ?, ?)",
                [.integer(event.seq), .text(target), .text(ref), .text(note)])
            logger.info("legal hold placed", metadata: ["target": "\(target)", "ref": "\(ref)"])
            return LegalHold(seq: event.seq, target: target, ref: ref, note: note)
        }
    }

    /// Lifts a legal hold.
    /// - Throws: ``RetentionError/noHold(_:)``.
    public func releaseHold(video path: String? = nil, classID: UInt32? = nil, note: String) throws {
        let note = note.trimmingWhitespace()
        guard !note.isEmpty else { throw RetentionError.noteRequired }
        let (target, ref) = try holdTarget(video: path, classID: classID)
        try db.transaction {
            let open = try holds().filter { $0.target == target && $0.ref == ref }
            guard !open.isEmpty else { throw RetentionError.noHold(ref) }
            let event = try append(EventDraft(
                kind: .release, classID: classID, reason: target, note: try retentionNote(["target": ref, "note": note])))
            for h in open {
                try db.run("UPDATE holds SET released_seq = ? WHERE seq = ?", [.integer(event.seq), .integer(h.seq)])
            }
            logger.info("legal hold released", metadata: ["target": "\(target)", "ref": "\(ref)"])
        }
    }

    func holdTarget(video path: String?, classID: UInt32?) throws -> (String, String) {
        switch (path, classID) {
        case (let path?, nil):
            guard try video(path: path) != nil else { throw RetentionError.unknownVideo(path) }
            return ("video", path)
        case (nil, let id?):
            guard try classPeriods().contains(where: { $0.classID == id }) else { throw StationError.unknownClass(id) }
            return ("class", String(id))
        default:
            throw RetentionError.oneTarget
        }
    }

    func retentionNote(_ fields: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(fields), as: UTF8.self)
    }

    /// Deletes the recordings whose retention has passed and that are not on hold. For each
    /// file: its content is checked against the registered SHA-256 (other content is an alarm
    /// and stays), then a disposal event (file, SHA-256, size, reason, approver) and a signed
    /// checkpoint are committed, and only then is the file unlinked. A purge cut off between the
    /// two finishes the unlink on the next run without a second event. Records are never purged.
    /// - Throws: ``RetentionError/clockBehind(_:)`` when the PC's clock has gone back.
    public func purge(approver: String, reason: String) throws -> PurgeResult {
        let approver = approver.trimmingWhitespace()
        guard !approver.isEmpty else { throw RetentionError.approverRequired }
        let now = clock.now()
        if try clockBehind(now) { throw RetentionError.clockBehind(Timestamp(milliseconds: try highWater()).localDescription(utcOffset: utcOffset)) }
        var result = PurgeResult(deleted: [], changed: [], missing: [], bytes: 0)
        // First finish what a cut-off run left: disposed in the log, still on disk.
        for (path, sha) in try db.query("SELECT path, sha256 FROM disposals", [], { ($0.text(0) ?? "", $0.text(1) ?? "") })
        where Files.exists(path) {
            guard let (_, digest) = try? Files.sha256(path), hexString(digest) == sha else { continue }
            try Files.remove(path)
        }
        for v in try retention().videos where v.state == "purgeable" {
            guard Files.exists(v.path) else {
                // Perhaps on a share that is not mounted now: nothing is recorded, it is named.
                result.missing.append(v)
                continue
            }
            let digest: [UInt8]
            do { (_, digest) = try Files.sha256(v.path) } catch {
                result.changed.append(v)
                continue
            }
            guard hexString(digest) == v.sha256 else {
                result.changed.append(v)
                continue
            }
            try dispose(v, approver: approver, reason: reason)
            try Files.remove(v.path)
            result.deleted.append(v)
            result.bytes += v.size
        }
        if !result.changed.isEmpty {
            try db.transaction {
                for v in result.changed {
                    _ = try append(EventDraft(
                        kind: .videoChanged, reason: "content_changed_at_purge",
                        note: try retentionNote(["file": v.path, "sha256": v.sha256])))
                }
            }
        }
        logger.info("purge", metadata: ["deleted": "\(result.deleted.count)", "changed": "\(result.changed.count)"])
        return result
    }

    /// The disposal event and a checkpoint signing it, committed together.
    func dispose(_ v: RetentionReport.Video, approver: String, reason: String) throws {
        try db.transaction {
            let note = try retentionNote([
                "file": v.path, "sha256": v.sha256, "size": String(v.size), "keep_until": v.keep_until, "reason": reason,
                "approver": approver,
            ])
            let event = try append(EventDraft(kind: .disposal, reason: approver, note: note, code: "sha256:" + v.sha256))
            try db.run(
                "INSERT INTO disposals(seq, path, sha256, size) VALUES (?, ?, ?, ?)",
                [.integer(event.seq), .text(v.path), .text(v.sha256), .integer(v.size)])
            _ = try checkpointInTransaction(reason: "disposal")
        }
    }
}

/// Why a retention command could not be done.
public enum RetentionError: Error, Equatable, LocalizedFailure {
    /// A hold or release needs a note (the case, the letter, the auditor).
    case noteRequired
    /// Purging needs the approver's name.
    case approverRequired
    /// Name either a recording or a class.
    case oneTarget
    /// Not a registered recording.
    case unknownVideo(String)
    /// No hold on it to release.
    case noHold(String)
    /// The clock is behind a time already seen.
    case clockBehind(String)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .noteRequired: ("error.retention.note", [:])
        case .approverRequired: ("error.retention.approver", [:])
        case .oneTarget: ("error.retention.one_target", [:])
        case .unknownVideo(let p): ("error.retention.unknown_video", ["file": p])
        case .noHold(let r): ("error.retention.no_hold", ["target": r])
        case .clockBehind(let t): ("error.retention.clock_behind", ["time": t])
        }
    }
}
