// Small helpers for the benchmark driver: a real stopwatch, a fake station clock, a seeded
// random generator, percentiles, test ID numbers, quiet logging and JSON output.
import FieldKitCore
import FieldKitStore
import FoundationEssentials
import Logging

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

// MARK: - Time

/// The real stopwatch: CLOCK_MONOTONIC in nanoseconds. (The station's clock is ``BenchClock``.)
func stopwatchNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Seconds since a stopwatch reading.
func seconds(since start: UInt64) -> Double { Double(stopwatchNanos() - start) / 1e9 }

/// The station's clock during a benchmark: wall time set by the driver, monotonic time ticking
/// 1 µs per read. Only the driver's one thread touches it.
final class BenchClock: StationClock, @unchecked Sendable {
    var time: Timestamp
    var mono: Int64 = 1_000_000_000
    let bootID = "bench-boot"

    init(_ time: Timestamp) { self.time = time }
    func now() -> Timestamp { time }
    func monotonicNanos() -> Int64 {
        mono += 1000
        return mono
    }
}

// MARK: - Randomness

extension SplitMix64 {
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
}

// MARK: - Statistics

/// Latency percentiles of a set of samples, in microseconds.
struct LatencyStats: Encodable {
    var count: Int
    var p50_us: Double
    var p90_us: Double
    var p99_us: Double
    var p999_us: Double
    var mean_us: Double
    var min_us: Double
    var max_us: Double
    /// Samples slower than the 5 ms target.
    var over_5ms: Int

    /// Summarises samples given in nanoseconds (nearest-rank percentiles).
    init(nanos samples: [UInt64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func us(_ ns: UInt64) -> Double { round1(Double(ns) / 1000) }
        func rank(_ q: Double) -> UInt64 {
            guard !sorted.isEmpty else { return 0 }
            let i = Int((q * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(max(i, 0), sorted.count - 1)]
        }
        p50_us = us(rank(0.50))
        p90_us = us(rank(0.90))
        p99_us = us(rank(0.99))
        p999_us = us(rank(0.999))
        mean_us = sorted.isEmpty ? 0 : round1(Double(sorted.reduce(0, +)) / Double(sorted.count) / 1000)
        min_us = us(sorted.first ?? 0)
        max_us = us(sorted.last ?? 0)
        over_5ms = sorted.count - sorted.partitioningIndex(above: 5_000_000)
    }
}

extension [UInt64] {
    /// In a sorted array, the index of the first element above `limit`.
    func partitioningIndex(above limit: UInt64) -> Int {
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid] > limit { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// Rounds to one decimal.
func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
/// Rounds to three decimals.
func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

// MARK: - Test data

/// A valid 18-character ID number for trainee `n`: county area, a birth date that moves every
/// thousand trainees, a sequence and the MOD 11-2 check character.
func idNumber(_ n: Int) -> String {
    let birth = ClassDay(year: 1960, month: 1, day: 1)!.adding(days: n / 1000).description.filter { $0 != "-" }
    let first = "141023" + birth + String(String(1000 + n % 1000).suffix(3))
    return first + String(IDNumber.checkCharacter(for: first))
}

/// A roster CSV (with a header) of `count` generated trainees.
func rosterCSV(count: Int, first: Int = 0) -> String {
    (["姓名,身份证号"] + (first..<(first + count)).map { "Trainee \($0),\(idNumber($0))" }).joined(separator: "\n") + "\n"
}

/// A copy of a code with its last five digits changed: still well formed, but the signature
/// no longer verifies (what a forged or damaged print looks like to the station).
func forged(_ code: String) -> String {
    let last = Int(code.suffix(5)) ?? 0
    let digits = String((last + 1) % 60_000)
    return String(code.prefix(code.count - 5)) + String(repeating: "0", count: 5 - digits.count) + digits
}

// MARK: - Output

/// A logger that only lets warnings through, like the shipped CLI's default.
func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}

/// A progress line on standard error.
func progress(_ text: String) {
    fputs("fieldkit-bench: \(text)\n", stderr)
    fflush(stderr)
}

/// Prints a value as one JSON object on standard output.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Bytes in a file, 0 when it is missing.
func fileBytes(_ path: String) -> Int64 {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : 0
}

/// A usage or setup problem: printed on standard error, exit 2.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
