import FieldKitCore
import FieldKitSQLite
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Where the station reads time. The shipped binary only ever uses ``SystemClock``; tests
/// substitute their own to play a class day in milliseconds.
public protocol StationClock: Sendable {
    /// Wall-clock time, UTC.
    func now() -> Timestamp
    /// Monotonic nanoseconds since boot.
    func monotonicNanos() -> Int64
    /// The kernel's boot id.
    var bootID: String { get }
}

/// The machine's clocks.
public struct SystemClock: StationClock {
    /// The boot id, read once.
    public let bootID: String

    /// Reads the boot id from the kernel.
    public init() {
        let raw = (try? Files.read("/proc/sys/kernel/random/boot_id")).map { String(decoding: $0, as: UTF8.self) }
        bootID = raw?.trimmingWhitespace() ?? "unknown"
    }

    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
