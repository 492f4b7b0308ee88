// fieldkit-bench: the benchmark driver behind Scripts/bench. Each subcommand prints one JSON
// object on standard output; progress goes to standard error.
//
//   fieldkit-bench scan-path --dir DIR [--events N] [--scans N] [--vouchers N] [--wal-autocheckpoint PAGES]
//       Sets up a county and a station in DIR (which must be on a real disk, so fsync is
//       real), bulk-fills the log to N events, times N scans through Station.scan, then
//       verifies the log. --wal-autocheckpoint is for experiments (0 turns it off).
//   fieldkit-bench verify-rate [--seconds S] [--message-bytes N]
//       Ed25519 verifications per second (swift-crypto), as the station verifies vouchers.
//   fieldkit-bench sync --dir DIR [--events N] [--devices N] [--per-device N]
//       A station with N events syncs them to the county server on loopback (in this
//       process); then N devices upload at once; prints seconds and events per second.
//   fieldkit-bench roster --count N [--first N]
//       A roster CSV of generated trainees with valid ID numbers.
import FoundationEssentials

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

let usage = """
    usage: fieldkit-bench scan-path --dir DIR [--events N] [--scans N] [--vouchers N] [--wal-autocheckpoint PAGES]
           fieldkit-bench verify-rate [--seconds S] [--message-bytes N]
           fieldkit-bench sync --dir DIR [--events N] [--devices N] [--per-device N]
           fieldkit-bench roster --count N [--first N]
    """

/// `--name value` pairs after the subcommand.
func options(_ args: ArraySlice<String>) throws -> [String: String] {
    var out: [String: String] = [:]
    var it = args.makeIterator()
    while let a = it.next() {
        guard a.hasPrefix("--"), let v = it.next() else { throw BenchError("unexpected argument '\(a)'\n\(usage)") }
        out[String(a.dropFirst(2))] = v
    }
    return out
}

func number<T: LosslessStringConvertible>(_ opts: [String: String], _ name: String, _ fallback: T) throws -> T {
    guard let text = opts[name] else { return fallback }
    guard let v = T(text.replacing("_", with: "")) else { throw BenchError("--\(name) '\(text)' is not a number") }
    return v
}

do {
    let args = CommandLine.arguments.dropFirst()
    guard let command = args.first else { throw BenchError(usage) }
    let opts = try options(args.dropFirst())
    switch command {
    case "scan-path":
        guard let dir = opts["dir"] else { throw BenchError("scan-path needs --dir DIR (on a real disk)") }
        try printJSON(
            try runScanPath(
                dir: dir, events: try number(opts, "events", Int64(0)), scans: try number(opts, "scans", 10_000),
                vouchers: try number(opts, "vouchers", 2_000),
                walAutocheckpoint: try opts["wal-autocheckpoint"].map { _ in try number(opts, "wal-autocheckpoint", 1000) }))
    case "verify-rate":
        try printJSON(
            try runVerifyRate(
                seconds: try number(opts, "seconds", 3.0), messageBytes: try number(opts, "message-bytes", 106)))
    case "sync":
        guard let dir = opts["dir"] else { throw BenchError("sync needs --dir DIR (on a real disk)") }
        try printJSON(
            try runSyncBench(
                dir: dir, events: try number(opts, "events", Int64(100_000)), devices: try number(opts, "devices", 10),
                perDevice: try number(opts, "per-device", 10_000)))
    case "roster":
        print(rosterCSV(count: try number(opts, "count", 40), first: try number(opts, "first", 0)), terminator: "")
    default:
        throw BenchError("unknown command '\(command)'\n\(usage)")
    }
} catch {
    fputs("fieldkit-bench: error: \(error)\n", stderr)
    exit(2)
}
