import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitSQLite
import FieldKitStore

#if canImport(Glibc)
import Glibc
#endif

extension FieldKit {
    /// `fieldkit video`: classroom recordings, findable and provable (the files stay where they are).
    struct Video: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.video.abstract"),
            subcommands: [Add.self, ScanFolder.self, Audit.self, Coverage.self])

        /// `fieldkit video add FILE… --camera CAM [--start T --end T]`.
        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.video.add.abstract"))
            @OptionGroup var options: HomeOptions
            @Argument(help: .localized("help.fieldkit.video.add.files")) var files: [String]
            @Option(help: .localized("help.fieldkit.video.add.camera")) var camera: String
            @Option(help: .localized("help.fieldkit.video.add.start")) var start: String?
            @Option(help: .localized("help.fieldkit.video.add.end")) var end: String?
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let t = language.localizer()
                    var span: TimeSpan?
                    if start != nil || end != nil {
                        guard let s = start.flatMap({ localTime($0, station.utcOffset) }) else {
                            throw usageError(flag: "--start", expected: "local_time", value: start ?? "")
                        }
                        guard let e = end.flatMap({ localTime($0, station.utcOffset) }), e > s else {
                            throw usageError(flag: "--end", expected: "local_time_after", value: end ?? "")
                        }
                        span = TimeSpan(s, e)
                    }
                    var alarms = 0
                    for file in files {
                        let result = try station.registerVideo(path: absolute(file), camera: camera, span: span)
                        alarms += report(result, t, station.utcOffset)
                    }
                    return alarms > 0 ? .verifyFailed : .ok
                }
            }
        }

        /// `fieldkit video scan DIR --camera CAM`.
        struct ScanFolder: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "scan", abstract: helpText("help.fieldkit.video.scan_folder.abstract"))
            @OptionGroup var options: HomeOptions
            @Argument(help: .localized("help.fieldkit.video.scan_folder.folder")) var folder: String
            @Option(help: .localized("help.fieldkit.video.scan_folder.camera")) var camera: String
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let t = language.localizer()
                    var added = 0, unchanged = 0, skipped: [String] = [], alarms = 0
                    for file in try videoFiles(under: absolute(folder)) {
                        do {
                            switch try station.registerVideo(path: file, camera: camera) {
                            case .added: added += 1
                            case .unchanged: unchanged += 1
                            case let r: alarms += report(r, t, station.utcOffset)
                            }
                        } catch StationError.videoNoTimes(let path) {
                            skipped.append(path)
                        }
                    }
                    for path in skipped { say("⚠ " + t("cli.video.skipped", ["file": path])) }
                    say(t("cli.video.scanned", [
                        "added": "\(added)", "unchanged": "\(unchanged)", "skipped": "\(skipped.count)", "alarms": "\(alarms)",
                    ]))
                    return alarms > 0 ? .verifyFailed : .ok
                }
            }
        }

        /// `fieldkit video audit`.
        struct Audit: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.video.audit.abstract"))
            @OptionGroup var options: HomeOptions
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let t = language.localizer()
                    let problems = try station.auditVideos()
                    for p in problems {
                        say("✘ " + t("cli.video.problem.\(p.problem)", [
                            "file": p.video.path, "camera": p.video.camera, "detail": p.detail,
                            "time": Timestamp(milliseconds: p.video.span.start).localDescription(utcOffset: station.utcOffset),
                        ]))
                    }
                    if problems.isEmpty { say(t("cli.video.audit.ok", ["count": "\(try station.videos().count)"])) }
                    return problems.isEmpty ? .ok : .verifyFailed
                }
            }
        }

        /// `fieldkit video coverage --class N [--date D]`.
        struct Coverage: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.video.coverage.abstract"))
            @OptionGroup var options: HomeOptions
            @Option(name: .customLong("class"), help: .localized("help.fieldkit.video.coverage.class_id")) var classID: UInt32
            @Option(help: .localized("help.fieldkit.video.coverage.date")) var date: String?
            @Flag(help: .localized("help.fieldkit.video.coverage.json")) var json = false
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let t = language.localizer()
                    var day: ClassDay?
                    if let date {
                        guard let d = ClassDay(iso: date) else { throw usageError(flag: "--date", expected: "date", value: date) }
                        day = d
                    }
                    let sessions = try station.coverage(classID: classID, day: day)
                    if json {
                        say(try jsonLine(sessions))
                        return .ok
                    }
                    if sessions.isEmpty { say(t("cli.video.coverage.none", ["class": "\(classID)"])) }
                    let clock = { (ms: Int64) in Timestamp(milliseconds: ms).localClock(utcOffset: station.utcOffset) }
                    for s in sessions {
                        let share = "\(Int((s.coveredShare * 100).rounded(.down)))%"
                        if s.gaps.isEmpty {
                            say(t("cli.video.coverage.full", ["day": s.day.description, "session": s.session, "share": share]))
                        } else {
                            say(t("cli.video.coverage.gaps", [
                                "day": s.day.description, "session": s.session, "share": share,
                                "gaps": s.gaps.map { "\(clock($0.start))–\(clock($0.end))" }.joined(separator: ", "),
                            ]))
                        }
                    }
                    return .ok
                }
            }
        }
    }
}

/// Prints what registering did; returns 1 for an alarm.
func report(_ result: VideoRegistration, _ t: Localizer, _ offset: Int) -> Int {
    func values(_ v: VideoReference) -> [String: String] {
        [
            "file": v.path, "camera": v.camera, "size": "\(v.size)",
            "start": Timestamp(milliseconds: v.span.start).localDescription(utcOffset: offset),
            "end": Timestamp(milliseconds: v.span.end).localClock(utcOffset: offset),
        ]
    }
    switch result {
    case .added(let v): say(t("cli.video.added", values(v)))
    case .unchanged(let v): say(t("cli.video.unchanged", values(v)))
    case .changed(let v, _):
        say("✘ " + t("cli.video.changed", values(v)))
        return 1
    }
    return 0
}

/// A local time `YYYY-MM-DDTHH:MM` (or with a space) as milliseconds since 1970.
func localTime(_ text: String, _ offset: Int) -> Int64? {
    let parts = text.split(whereSeparator: { $0 == "T" || $0 == " " })
    guard parts.count == 2, let day = ClassDay(iso: String(parts[0])), let time = LocalTime(String(parts[1])) else { return nil }
    return day.at(time, utcOffset: offset).milliseconds
}

/// An absolute path (relative ones are taken from the current folder).
func absolute(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    guard let cwd = getcwd(nil, 0) else { return path }
    defer { free(cwd) }
    return String(cString: cwd) + "/" + path
}

/// Video files under a folder, sorted: .mp4 .mkv .avi .mov .ts .dav .h264 .264 (any case).
func videoFiles(under folder: String) throws -> [String] {
    let extensions: Set<String> = ["mp4", "mkv", "avi", "mov", "ts", "dav", "h264", "264"]
    var out: [String] = []
    var pending = [folder]
    while let dir = pending.popLast() {
        guard let handle = opendir(dir) else {
            if dir == folder { throw FileError.cannotRead(folder, reason: String(cString: strerror(errno))) }
            continue
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            let path = dir + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                pending.append(path)
            } else if (st.st_mode & S_IFMT) == S_IFREG, let ext = name.split(separator: ".").last?.lowercased(),
                name.contains("."), extensions.contains(ext)
            {
                out.append(path)
            }
        }
    }
    return out.sorted()
}
