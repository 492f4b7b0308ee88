/// A span of time, from `start` (included) to `end` (excluded), in milliseconds since 1970 UTC.
public struct TimeSpan: Sendable, Equatable, Hashable, Codable {
    /// The first instant.
    public var start: Int64
    /// The instant after the last.
    public var end: Int64

    /// A span; empty when `end <= start`.
    public init(_ start: Int64, _ end: Int64) {
        self.start = start
        self.end = end
    }

    /// Its length in milliseconds (0 when empty).
    public var length: Int64 { max(0, end - start) }
}

/// Where classroom video is missing while trainees were signed in: the gaps an auditor asks about.
public enum VideoCoverage {
    /// Merges spans that overlap or touch; drops empty ones; sorted.
    public static func union(_ spans: [TimeSpan]) -> [TimeSpan] {
        var out: [TimeSpan] = []
        for s in spans.filter({ $0.end > $0.start }).sorted(by: { $0.start < $1.start }) {
            if let last = out.last, s.start <= last.end {
                out[out.count - 1].end = max(last.end, s.end)
            } else {
                out.append(s)
            }
        }
        return out
    }

    /// The parts of `presence` (when someone was signed in) that no recording covers.
    public static func gaps(presence: [TimeSpan], recordings: [TimeSpan]) -> [TimeSpan] {
        let covered = union(recordings)
        var out: [TimeSpan] = []
        for p in union(presence) {
            var cursor = p.start
            for r in covered where r.end > cursor && r.start < p.end {
                if r.start > cursor { out.append(TimeSpan(cursor, r.start)) }
                cursor = max(cursor, r.end)
                if cursor >= p.end { break }
            }
            if cursor < p.end { out.append(TimeSpan(cursor, p.end)) }
        }
        return out
    }

    /// The share of presence time that recordings cover, 0...1 (1 when nobody was present).
    public static func coveredShare(presence: [TimeSpan], recordings: [TimeSpan]) -> Double {
        let total = union(presence).reduce(0) { $0 + $1.length }
        guard total > 0 else { return 1 }
        let missing = gaps(presence: presence, recordings: recordings).reduce(0) { $0 + $1.length }
        return Double(total - missing) / Double(total)
    }
}

/// Start and end times read from a recorder's file name.
///
/// The rule: the first two runs of exactly 14 digits in the file's name are its local start and
/// end, `YYYYMMDDHHMMSS`. That is the name Hikvision recorders and many NVR exports give a clip:
/// `ch01_20260302083000_20260302093000.mp4`, `192.168.1.64_01_20260302083000_20260302093000.mp4`,
/// `CAM1-20260302083000-20260302093000.avi`.
public enum RecorderFileName {
    /// The span the name states, or nil when it states none (or an impossible one).
    public static func span(of name: String, utcOffset: Int = UTCOffset.china) -> TimeSpan? {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        var runs: [[UInt8]] = []
        var current: [UInt8] = []
        for b in base.utf8 {
            if (48...57).contains(b) {
                current.append(b)
            } else {
                if current.count == 14 { runs.append(current) }
                current = []
            }
            if runs.count == 2 { break }
        }
        if runs.count < 2, current.count == 14 { runs.append(current) }
        guard runs.count >= 2, let start = timestamp(runs[0], utcOffset), let end = timestamp(runs[1], utcOffset),
            end.milliseconds > start.milliseconds
        else { return nil }
        return TimeSpan(start.milliseconds, end.milliseconds)
    }

    static func timestamp(_ d: [UInt8], _ utcOffset: Int) -> Timestamp? {
        func n(_ r: Range<Int>) -> Int { d[r].reduce(0) { $0 * 10 + Int($1 - 48) } }
        guard let day = ClassDay(year: n(0..<4), month: n(4..<6), day: n(6..<8)), n(8..<10) < 24, n(10..<12) < 60,
            n(12..<14) < 60
        else { return nil }
        let seconds = Int64(n(8..<10) * 3600 + n(10..<12) * 60 + n(12..<14))
        return Timestamp(milliseconds: day.start(utcOffset: utcOffset).milliseconds + seconds * 1000)
    }
}
