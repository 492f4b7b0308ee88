import FoundationEssentials

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

// Two builds of one program (see Scripts/fuzz):
//
// - Ordinary (`swift build`): `fieldkit-fuzz NAME FILE|DIR…` replays inputs through one harness,
//   so a committed corpus is a regression test without any sanitizer.
// - Fuzzing (`swift build --scratch-path .build-fuzz --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address
//   -Xswiftc -DFUZZING`): libFuzzer's own `main` runs; `FIELDKIT_FUZZ=NAME` picks the harness.
//   SwiftPM leaves the entry point alone when the fuzzer sanitizer is on, so there is no `@main` then.

#if FUZZING

/// libFuzzer calls this once before the first input: the harness must be named.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    guard let name = getenv("FIELDKIT_FUZZ").map({ String(cString: $0) }), Harness(rawValue: name) != nil else {
        fputs("fieldkit-fuzz: set FIELDKIT_FUZZ to one of \(Harness.allCases.map(\.rawValue).joined(separator: ", "))\n", stderr)
        exit(64)
    }
    return 0
}

/// libFuzzer calls this for every input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    Harness.chosen.run(bytes)
    return 0
}

extension Harness {
    /// The harness `FIELDKIT_FUZZ` names (checked in ``fuzzInitialize(_:_:)``).
    static let chosen: Harness = getenv("FIELDKIT_FUZZ").flatMap { Harness(rawValue: String(cString: $0)) } ?? .vt1
}

#else

/// `fieldkit-fuzz NAME FILE|DIR…`: runs every file (every file of a folder, not hidden ones)
/// through one harness. A crash names the input it was running; exit 0 when none crashed.
@main
struct FieldKitFuzz {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, let harness = Harness(rawValue: name), args.count > 1 else {
            let names = Harness.allCases.map(\.rawValue).joined(separator: "|")
            fputs("usage: fieldkit-fuzz \(names) FILE|DIR…  (replays inputs; see Scripts/fuzz for fuzzing)\n", stderr)
            exit(64)
        }
        var files: [String] = []
        for path in args.dropFirst() {
            guard let listed = inputs(at: path) else {
                fputs("fieldkit-fuzz: cannot read \(path): \(String(cString: strerror(errno)))\n", stderr)
                exit(66)
            }
            files += listed
        }
        CrashReport.install()
        for file in files {
            guard let bytes = readFile(file) else {
                fputs("fieldkit-fuzz: cannot read \(file): \(String(cString: strerror(errno)))\n", stderr)
                exit(66)
            }
            CrashReport.running(harness: name, input: file)
            harness.run(bytes)
        }
        print("fieldkit-fuzz: \(name): \(files.count) inputs, no crash")
    }

    /// The file itself, or the regular files in a folder, sorted; nil when it cannot be read.
    static func inputs(at path: String) -> [String]? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return [path] }
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard !name.hasPrefix(".") else { continue }
            var fst = stat()
            if stat(path + "/" + name, &fst) == 0, (fst.st_mode & S_IFMT) == S_IFREG { out.append(path + "/" + name) }
        }
        return out.sorted()
    }
}

/// Names the input when a replay dies of a trap or a signal (a Swift runtime failure prints
/// nothing about which file it was reading).
enum CrashReport {
    nonisolated(unsafe) static var line: [CChar] = [0]

    static func running(harness: String, input: String) {
        line = Array("\nfieldkit-fuzz: \(harness) crashed on \(input)\n  reproduce: fieldkit-fuzz \(harness) \(input)\n".utf8CString)
    }

    static func install() {
        for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            _ = Glibc.signal(signal) { number in
                CrashReport.line.withUnsafeBufferPointer { b in _ = write(2, b.baseAddress, max(0, b.count - 1)) }
                _ = Glibc.signal(number, SIG_DFL)
                _ = raise(number)
            }
        }
    }
}

#endif

/// A whole file, or nil.
func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        out += buffer[0..<n]
        if n < buffer.count { return ferror(f) == 0 ? out : nil }
    }
}

/// Stops the process as a crash when a property every input must keep is broken (libFuzzer
/// then keeps the input as a crash file).
func expect(_ holds: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
    guard !holds() else { return }
    fputs("fieldkit-fuzz: invariant broken: \(what())\n", stderr)
    abort()
}
