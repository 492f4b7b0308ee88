import FieldKitCore
import FieldKitSQLite
import FoundationEssentials

/// A classroom recording the station knows: where it is and what it was when registered.
public struct VideoReference: Sendable, Equatable, Encodable {
    /// The file's absolute path (on the recorder's disk or an NVR share).
    public var path: String
    /// The camera.
    public var camera: String
    /// When it starts and ends.
    public var span: TimeSpan
    /// Bytes.
    public var size: Int64
    /// SHA-256, lower-case hex.
    public var sha256: String
    /// The log event that registered it.
    public var seq: Int64
}

/// What registering a file did.
public enum VideoRegistration: Sendable, Equatable {
    /// Newly registered: an event is in the log.
    case added(VideoReference)
    /// Registered before with the same content: nothing new.
    case unchanged(VideoReference)
    /// Registered before with other content: an alarm event is in the log; the reference keeps
    /// the original hash (the new SHA-256 is given).
    case changed(VideoReference, newSHA256: String)
}

/// A registered recording that is not as it was.
public struct VideoProblem: Sendable, Equatable, Encodable {
    /// `missing`, `changed` or `unreadable`.
    public var problem: String
    /// The recording.
    public var video: VideoReference
    /// What was found.
    public var detail: String
}

/// One session's video coverage.
public struct SessionCoverage: Sendable, Encodable {
    /// The class day.
    public var day: ClassDay
    /// The session's window, `08:30-11:30`.
    public var session: String
    /// When at least one trainee was signed in.
    public var presence: [TimeSpan]
    /// Parts of that with no recording.
    public var gaps: [TimeSpan]
    /// Covered share of presence time, 0...1.
    public var coveredShare: Double

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(day.description, forKey: .day)
        try c.encode(session, forKey: .session)
        try c.encode(gaps, forKey: .gaps)
        try c.encode(coveredShare, forKey: .covered_share)
    }

    enum Keys: String, CodingKey { case day, session, gaps, covered_share }
}

extension Station {
    /// Registers a recording: streams it through SHA-256 and records a `video` event with its
    /// file, camera, times, size and hash. Registering the same content again changes nothing;
    /// other content under a registered path is an alarm (`video_changed`), never an update.
    /// - Parameters:
    ///   - span: start and end; nil reads them from the file name (``RecorderFileName``).
    /// - Throws: ``StationError/videoNoTimes(_:)``, ``StationError/videoUnreadable(_:_:)``.
    public func registerVideo(path: String, camera: String, span: TimeSpan? = nil) throws -> VideoRegistration {
        guard let span = span ?? RecorderFileName.span(of: path, utcOffset: utcOffset) else {
            throw StationError.videoNoTimes(path)
        }
        let (size, digest): (Int64, [UInt8])
        do { (size, digest) = try Files.sha256(path) } catch let error as FileError {
            throw StationError.videoUnreadable(path, error.reasonText)
        }
        let sha = hexString(digest)
        return try db.transaction {
            if let known = try video(path: path) {
                if known.sha256 == sha { return .unchanged(known) }
                _ = try append(EventDraft(
                    kind: .videoChanged, reason: "content_changed",
                    note: try videoNote(path: path, camera: known.camera, span: known.span, size: size, sha: sha)))
                return .changed(known, newSHA256: sha)
            }
            let event = try append(EventDraft(
                kind: .video, reason: camera, note: try videoNote(path: path, camera: camera, span: span, size: size, sha: sha),
                code: "sha256:" + sha))
            try db.run(
                "INSERT INTO videos(path, camera, start_ms, end_ms, size, sha256, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [.text(path), .text(camera), .integer(span.start), .integer(span.end), .integer(size), .text(sha), .integer(event.seq)])
            return .added(VideoReference(path: path, camera: camera, span: span, size: size, sha256: sha, seq: event.seq))
        }
    }

    func videoNote(path: String, camera: String, span: TimeSpan, size: Int64, sha: String) throws -> String {
        struct Note: Encodable {
            var file, camera, sha256: String
            var start_ms, end_ms, size: Int64
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(
            decoding: try encoder.encode(Note(file: path, camera: camera, sha256: sha, start_ms: span.start, end_ms: span.end, size: size)),
            as: UTF8.self)
    }

    /// One registered recording, or nil.
    public func video(path: String) throws -> VideoReference? {
        try db.first("SELECT path, camera, start_ms, end_ms, size, sha256, seq FROM videos WHERE path = ?", [.text(path)], Station.videoRow)
    }

    /// Every registered recording, by start time.
    public func videos() throws -> [VideoReference] {
        try db.query("SELECT path, camera, start_ms, end_ms, size, sha256, seq FROM videos ORDER BY start_ms, path", [], Station.videoRow)
    }

    static func videoRow(_ r: Statement) -> VideoReference {
        VideoReference(
            path: r.text(0) ?? "", camera: r.text(1) ?? "", span: TimeSpan(r.int64(2), r.int64(3)), size: r.int64(4),
            sha256: r.text(5) ?? "", seq: r.int64(6))
    }

    /// Every registered recording that is missing, changed or unreadable now.
    public func auditVideos() throws -> [VideoProblem] {
        var problems: [VideoProblem] = []
        for v in try videos() {
            guard Files.exists(v.path) else {
                problems.append(VideoProblem(problem: "missing", video: v, detail: v.path))
                continue
            }
            do {
                let (size, digest) = try Files.sha256(v.path)
                if hexString(digest) != v.sha256 || size != v.size {
                    problems.append(VideoProblem(problem: "changed", video: v, detail: "sha256 \(hexString(digest)), \(size) bytes"))
                }
            } catch let error as FileError {
                problems.append(VideoProblem(problem: "unreadable", video: v, detail: error.reasonText))
            }
        }
        return problems
    }

    /// For each session of a class on a day (or every day with sign-ins): when trainees were
    /// signed in and no recording covers it. A sign-in still open counts until the session's
    /// sign-out window closes (or now, when earlier).
    public func coverage(classID: UInt32, day: ClassDay? = nil) throws -> [SessionCoverage] {
        guard let info = try classInfo(classID) else { throw StationError.unknownClass(classID) }
        let now = clock.now().milliseconds
        let rows = try db.query(
            """
            SELECT class_day, session_index, in_ms, out_ms FROM attendance
            WHERE class_id = ? AND (? IS NULL OR class_day = ?) ORDER BY class_day, session_index
            """, [.integer(Int64(classID)), .string(day?.description), .string(day?.description)]
        ) { ($0.text(0) ?? "", Int($0.int64(1)), $0.int64(2), $0.optionalInt64(3)) }
        var bySession: [String: [(Int64, Int64?)]] = [:]
        var order: [String] = []
        for (d, index, inMs, outMs) in rows {
            let key = "\(d)|\(index)"
            if bySession[key] == nil { order.append(key) }
            bySession[key, default: []].append((inMs, outMs))
        }
        let recordings = try videos().map(\.span)
        return order.compactMap { key in
            let parts = key.split(separator: "|")
            guard let d = ClassDay(iso: String(parts[0])), let index = Int(parts[1]), index < info.sessions.count else { return nil }
            let window = info.sessions[index]
            let endDay = window.end.minuteOfDay <= window.start.minuteOfDay ? d.adding(days: 1) : d
            let sessionEnd = endDay.at(window.end, utcOffset: utcOffset).milliseconds
            let presence = (bySession[key] ?? []).map { TimeSpan($0.0, $0.1 ?? min(now, max(sessionEnd, $0.0))) }
            return SessionCoverage(
                day: d, session: window.description, presence: VideoCoverage.union(presence),
                gaps: VideoCoverage.gaps(presence: presence, recordings: recordings),
                coveredShare: VideoCoverage.coveredShare(presence: presence, recordings: recordings))
        }
    }
}
