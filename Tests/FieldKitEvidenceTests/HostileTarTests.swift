import FieldKitCore
@testable import FieldKitEvidence
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tar archives written byte by byte, the way an attacker would.
enum TarBytes {
    /// A ustar header; `sizeField` replaces the 12 bytes of the size field when given.
    static func header(_ name: String, size: Int64 = 0, type: Character = "0", sizeField: [UInt8]? = nil, link: String = "") -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], _ at: Int) { for (i, x) in bytes.enumerated() { b[at + i] = x } }
        func octal(_ v: Int64, _ width: Int) -> [UInt8] {
            let digits = String(v, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(Array(name.utf8.prefix(100)), 0)
        put(octal(0o644, 8), 100)
        put(octal(0, 8), 108)
        put(octal(0, 8), 116)
        put(sizeField ?? octal(size, 12), 124)
        put(octal(1_772_400_000, 12), 136)
        put(Array("        ".utf8), 148)
        b[156] = type.asciiValue ?? 0x30
        put(Array(link.utf8.prefix(100)), 157)
        put(Array("ustar".utf8) + [0] + Array("00".utf8), 257)
        let sum = b.reduce(0) { $0 + Int($1) }
        put(Array(String(sum, radix: 8).leftPadded(6).utf8) + [0, 0x20], 148)
        return b
    }

    /// Zero bytes up to the next 512-byte boundary.
    static func pad(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: (512 - count % 512) % 512) }

    /// A regular file entry.
    static func file(_ name: String, _ content: [UInt8]) -> [UInt8] {
        header(name, size: Int64(content.count)) + content + pad(content.count)
    }

    /// A pax extended header carrying `records` exactly as given.
    static func pax(_ records: [UInt8]) -> [UInt8] {
        header("PaxHeaders/x", size: Int64(records.count), type: "x") + records + pad(records.count)
    }

    /// One well-formed pax record.
    static func record(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).utf8.count + body.utf8.count != length { length += 1 }
        return Array((String(length) + body).utf8)
    }

    /// The end-of-archive marker.
    static let end = [UInt8](repeating: 0, count: 1024)

    /// A base-256 size field: the high bit set, then the value big-endian in 11 bytes.
    static func base256(_ v: UInt64, negative: Bool = false) -> [UInt8] {
        var out: [UInt8] = [negative ? 0xFF : 0x80]
        for i in stride(from: 10, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// The temporary folders left in `base` (`fieldkit-verify-<pid>-…`).
func leftoverTemporaryFolders(in base: String) -> [String] {
    guard let entries = try? listFolder(base) else { return [] }
    return entries.map(\.relative).filter { $0.hasPrefix("fieldkit-verify-\(getpid())-") }
}

/// Verifies with the temporary folder in a scratch folder of its own; checks it is gone after.
func verifyLeavingNothing(_ path: String, expecting pins: KeyPins = KeyPins()) throws -> [BagCheck] {
    let base = scratch()
    defer {
        #expect(leftoverTemporaryFolders(in: base).isEmpty, "the temporary folder of \(path) is removed")
        _ = try? removeTree(base)
    }
    return try BagVerifier.verify(path, expecting: pins, temporaryIn: base)
}

@Suite("Hostile tar archives", .serialized)
struct HostileTarTests {
    /// Writes an archive and verifies it; the error it gives (nil when it reads).
    func verify(_ bytes: [UInt8], _ name: String = "hostile.tar") throws -> (any Error)? {
        let dir = scratch()
        let path = dir + "/" + name
        try Files.writeAtomically(bytes, to: path)
        defer { _ = try? removeTree(dir) }
        do {
            _ = try verifyLeavingNothing(path)
            return nil
        } catch {
            return error
        }
    }

    func tarError(_ bytes: [UInt8]) throws -> TarError? { try verify(bytes) as? TarError }

    /// The name of a ``TarError`` case.
    func kind(_ error: TarError?) -> String? {
        switch error {
        case .truncated: "truncated"
        case .notTar: "notTar"
        case .badSize: "badSize"
        case .badPax: "badPax"
        case .unsafeName: "unsafeName"
        case .conflict: "conflict"
        case nil: nil
        }
    }

    @Test("pax sizes of Int64.max, past it, negative or past 1 TiB: a clean error naming the size, no trap")
    func paxSizes() throws {
        for (value, shown) in [
            ("9223372036854775807", "9223372036854775807"), ("99999999999999999999", ">9223372036854775807"),
            ("-1", "<0"), ("1099511627777", "1099511627777"),
        ] {
            let tar = TarBytes.pax(TarBytes.record("size", value)) + TarBytes.header("bag/data/x", size: 0) + TarBytes.end
            let error = try #require(try tarError(tar), "\(value)")
            guard case .badSize(_, let offset, let size) = error else {
                Issue.record("\(value): \(error)")
                continue
            }
            #expect(size == shown && offset == 0)
            #expect("\(error)".contains("refused"))
        }
        // Malformed numbers are not a size either
        let junk = TarBytes.pax(TarBytes.record("size", "12abc")) + TarBytes.header("bag/data/x") + TarBytes.end
        #expect(kind(try tarError(junk)) == "badPax")
    }

    @Test("base-256 sizes: near Int64.max, negative, and 1 TiB + 1 are refused; octal overflow too")
    func base256Sizes() throws {
        for field in [
            TarBytes.base256(UInt64(Int64.max)), TarBytes.base256(UInt64(Int64.max) - 511), TarBytes.base256(1, negative: true),
            TarBytes.base256((1 << 40) + 1), [0xBF] + [UInt8](repeating: 0xFF, count: 11),
            Array("-0000000001".utf8) + [0],
        ] {
            let tar = TarBytes.header("bag/data/x", sizeField: field) + TarBytes.end
            #expect(kind(try tarError(tar)) == "badSize", "\(field)")
        }
    }

    @Test("a pax header declaring 8 GiB is refused before anything is read or allocated")
    func hugePaxHeader() throws {
        let tar = TarBytes.header("PaxHeaders/x", size: 8 << 30, type: "x") + [UInt8](repeating: 0x41, count: 1024)
        let before = residentBytes()
        let error = try #require(try tarError(tar))
        #expect(kind(error) == "badPax" && "\(error)".contains("at byte 0"), "\(error)")
        #expect(residentBytes() - before < 64 << 20, "no 8 GiB buffer")
        // Global headers and GNU long names are bounded too
        let global = TarBytes.header("g", size: 2 << 20, type: "g") + TarBytes.end
        #expect(kind(try tarError(global)) == "badPax")
        let longName = TarBytes.header("././@LongLink", size: 1 << 20, type: "L") + TarBytes.end
        #expect(kind(try tarError(longName)) == "badPax")
    }

    @Test("malformed pax records: a length past the header, zero, no newline, no '='")
    func paxRecords() throws {
        for records in ["99999999 path=x\n", "0 path=x\n", "12 path=abc", "9 pathx\n", "x path=y\n", "5 a=\n\n"] {
            let tar = TarBytes.pax(Array(records.utf8)) + TarBytes.header("bag/data/x") + TarBytes.end
            #expect(kind(try tarError(tar)) == "badPax", "\(records)")
        }
    }

    @Test("an archive far shorter than it claims: truncated, and nothing kept")
    func shortArchives() throws {
        // 100 bytes: not even a header
        #expect(kind(try tarError([UInt8](repeating: 0x30, count: 100))) == "truncated")
        // A header claiming exactly 1 TiB (the most accepted), then 100 bytes
        let tib = TarBytes.header("bag/data/big", size: 1 << 40) + [UInt8](repeating: 0x42, count: 100)
        #expect(kind(try tarError(tib)) == "truncated")
        // The same claim through pax
        let pax = TarBytes.pax(TarBytes.record("size", String(1 << 40))) + TarBytes.header("bag/data/big") + [UInt8](repeating: 1, count: 100)
        #expect(kind(try tarError(pax)) == "truncated")
        // The end marker missing: truncated; one zero block of it: accepted as the end
        let good = TarBytes.file("bag/bagit.txt", Array("BagIt-Version: 1.0\n".utf8))
        #expect(kind(try tarError(good)) == "truncated")
        #expect(try verify(good + [UInt8](repeating: 0, count: 512)) == nil, "read to the end; the bag in it is then checked")
    }

    @Test("names outside the folder, empty, '.', with NUL or control characters: refused by name")
    func unsafeNames() throws {
        let outside = scratch()
        for name in ["../escape.txt", "bag/../../escape.txt", "/tmp/escape.txt", ".", "bag/data/..", "a\u{1B}[31m"] {
            let tar = TarBytes.file(name, Array("x".utf8)) + TarBytes.end
            let error = try #require(try tarError(tar), "\(name)")
            guard case .unsafeName(_, let shown) = error else {
                Issue.record("\(name): \(error)")
                continue
            }
            #expect(!shown.contains("\u{1B}"), "control characters are escaped in the message")
        }
        // A pax path with a NUL, and one past 4 KiB
        for path in ["bag/da\u{0}ta", String(repeating: "a/", count: 2100) + "x"] {
            let tar = TarBytes.pax(TarBytes.record("path", path)) + TarBytes.header("bag/x") + TarBytes.end
            #expect(kind(try tarError(tar)) == "unsafeName")
        }
        #expect(!Files.exists(outside + "/../escape.txt") && !Files.exists("/tmp/escape.txt"))
        // The folder `./` itself (as `tar -C bag -cf x.tar .` writes first) is no entry, not an error
        let dotted = TarBytes.header("./", type: "5") + TarBytes.file("./bag/bagit.txt", Array("BagIt-Version: 1.0\n".utf8)) + TarBytes.end
        #expect(try verify(dotted) == nil)
    }

    @Test("the same name twice, or a file where a folder must be: a conflict, never an overwrite")
    func conflicts() throws {
        let twice = TarBytes.file("bag/bagit.txt", Array("a".utf8)) + TarBytes.file("bag/bagit.txt", Array("b".utf8)) + TarBytes.end
        #expect(kind(try tarError(twice)) == "conflict")
        let fileThenFolder = TarBytes.file("bag/data", Array("a".utf8)) + TarBytes.file("bag/data/x", Array("b".utf8)) + TarBytes.end
        #expect(kind(try tarError(fileThenFolder)) == "conflict")
    }

    @Test("a symlink entry is not extracted and is named; a file 'through' it lands inside the folder")
    func symlinkEntries() throws {
        let dir = scratch()
        let (station, _) = try EvidenceBagTests().station()
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/class-12.tar")
        var bytes = try Files.read(dir + "/class-12.tar")
        bytes.removeLast(1024)  // the end marker
        bytes += TarBytes.header("class-12/data/x", type: "2", link: "/etc") + TarBytes.file("class-12/data/x/passwd", Array("not the real one".utf8)) + TarBytes.end
        try Files.writeAtomically(bytes, to: dir + "/linked.tar")
        let checks = try verifyLeavingNothing(dir + "/linked.tar")
        let keys = checks[0].problems.map(\.key)
        #expect(keys.contains("verify.archive_link") && keys.contains("verify.unlisted"), "\(keys)")
    }

    @Test("a good archive cut or changed at random never traps: it reads, fails checks, or is one TarError")
    func mutations() throws {
        let dir = scratch()
        let (station, _) = try EvidenceBagTests().station()
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/good.tar")
        let good = try Files.read(dir + "/good.tar")
        var rng = SplitMix64(seed: 11)
        var outcomes: [String: Int] = [:]
        for round in 0..<300 {
            var bytes = good
            switch round % 3 {
            case 0:  // a few bytes anywhere, often in a header
                for _ in 0..<Int(rng.next() % 4 + 1) {
                    let at = Int(rng.next() % UInt64(bytes.count))
                    bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 1:  // cut short
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            default:  // a size field rewritten, checksum fixed
                let headers = stride(from: 0, to: bytes.count - 512, by: 512).filter { TarReader.checksumMatches(Array(bytes[$0..<($0 + 512)])) }
                guard let at = headers.randomElement(using: &rng) else { continue }
                var h = Array(bytes[at..<(at + 512)])
                for i in 124..<136 { h[i] = UInt8(truncatingIfNeeded: rng.next()) }
                for i in 148..<156 { h[i] = 0x20 }
                let sum = h.reduce(0) { $0 + Int($1) }
                let digits = Array(String(sum, radix: 8).leftPadded(6).utf8) + [0, 0x20]
                for (i, d) in digits.enumerated() { h[148 + i] = d }
                bytes.replaceSubrange(at..<(at + 512), with: h)
            }
            let error = try verify(bytes, "m\(round).tar")
            let kind = error.map { String(describing: type(of: $0)) } ?? "read"
            outcomes[kind, default: 0] += 1
            #expect(error == nil || error is TarError || error is FileError, "\(String(describing: error))")
        }
        #expect(outcomes["TarError", default: 0] > 0 && outcomes["read", default: 0] > 0, "\(outcomes)")
    }
}

/// This process's resident memory in bytes (from /proc/self/statm).
func residentBytes() -> Int {
    guard let text = try? Files.read("/proc/self/statm") else { return 0 }
    let fields = String(decoding: text, as: UTF8.self).split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}
