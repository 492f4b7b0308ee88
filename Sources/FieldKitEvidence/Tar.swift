import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A POSIX tar archive (ustar, with pax headers for long or non-ASCII names and sizes past
/// 8 GiB), written as a stream: memory stays flat whatever the size of the recordings.
struct TarWriter {
    let path: String
    private let fd: Int32
    private let mtime: Int64

    /// Creates the archive file (it must not exist).
    init(path: String, mtime: Int64) throws {
        self.path = path
        self.mtime = mtime
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError.cannotWrite(path, reason: String(cString: strerror(errno))) }
    }

    /// Adds a folder and everything under it, sorted, as `name/…`.
    func addTree(_ folder: String, as name: String) throws {
        try header(name + "/", size: 0, type: UInt8(ascii: "5"), mode: 0o755)
        for entry in try listTree(folder) {
            if entry.isDirectory {
                try header(name + "/" + entry.relative + "/", size: 0, type: UInt8(ascii: "5"), mode: 0o755)
            } else if entry.kind == .file {
                try addFile(folder + "/" + entry.relative, as: name + "/" + entry.relative, size: entry.size)
            }
        }
    }

    func addFile(_ source: String, as name: String, size: Int64) throws {
        try header(name, size: size, type: UInt8(ascii: "0"), mode: 0o644)
        var written: Int64 = 0
        _ = try Files.readChunks(source) { chunk in
            let take = min(Int64(chunk.count), size - written)
            guard take > 0 else { return }
            try writeAll(UnsafeRawBufferPointer(rebasing: chunk[0..<Int(take)]))
            written += take
        }
        guard written == size else { throw FileError.cannotRead(source, reason: "changed size while being archived") }
        try pad(size)
    }

    /// Two zero blocks, then fsync and close.
    func finish() throws {
        try writeBytes([UInt8](repeating: 0, count: 1024))
        guard fsync(fd) == 0 else { throw FileError.cannotWrite(path, reason: String(cString: strerror(errno))) }
        close(fd)
    }

    /// Closes without finishing (the caller removes the file).
    func abandon() { close(fd) }

    private func header(_ name: String, size: Int64, type: UInt8, mode: Int) throws {
        let nameBytes = Array(name.utf8)
        let needsPax = nameBytes.count > 100 || nameBytes.contains(where: { $0 >= 0x80 }) || size >= 0o77777777777
        if needsPax {
            var records: [UInt8] = []
            records += paxRecord("path", name)
            if size >= 0o77777777777 { records += paxRecord("size", String(size)) }
            try writeBytes(block(name: Array("PaxHeaders/\(nameBytes.count > 90 ? "entry" : asciiOnly(name))".utf8),
                                 size: Int64(records.count), type: UInt8(ascii: "x"), mode: 0o644))
            try writeBytes(records)
            try pad(Int64(records.count))
        }
        let shortName = needsPax ? Array(asciiOnly(name).utf8.prefix(100)) : nameBytes
        try writeBytes(block(name: shortName, size: size >= 0o77777777777 ? 0 : size, type: type, mode: mode))
    }

    private func asciiOnly(_ s: String) -> String { String(s.unicodeScalars.map { $0.isASCII ? Character($0) : "_" }) }

    private func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).utf8.count + body.utf8.count != length { length += 1 }
        return Array((String(length) + body).utf8)
    }

    private func block(name: [UInt8], size: Int64, type: UInt8, mode: Int) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], _ at: Int, _ width: Int) {
            for (i, byte) in bytes.prefix(width).enumerated() { b[at + i] = byte }
        }
        func octal(_ v: Int64, _ at: Int, _ width: Int) {
            let digits = String(v, radix: 8)
            put(Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8), at, width - 1)
        }
        put(name, 0, 100)
        octal(Int64(mode), 100, 8)
        octal(0, 108, 8)
        octal(0, 116, 8)
        octal(size, 124, 12)
        octal(mtime, 136, 12)
        put(Array("        ".utf8), 148, 8)
        b[156] = type
        put(Array("ustar".utf8) + [0], 257, 6)
        put(Array("00".utf8), 263, 2)
        put(Array("root".utf8), 265, 32)
        put(Array("root".utf8), 297, 32)
        let sum = b.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8) + [0, 0x20], 148, 8)
        return b
    }

    private func pad(_ size: Int64) throws {
        let rest = Int(size % 512)
        if rest != 0 { try writeBytes([UInt8](repeating: 0, count: 512 - rest)) }
    }

    private func writeBytes(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try writeAll($0) } }

    private func writeAll(_ buffer: UnsafeRawBufferPointer) throws {
        guard Files.writeAll(fd, buffer) else { throw FileError.cannotWrite(path, reason: String(cString: strerror(errno))) }
    }
}

// MARK: - Reading

/// Why a tar archive could not be read. Each case names the archive; a name from inside it is
/// shown with control characters escaped and cut to a readable length.
public enum TarError: Error, Equatable, LocalizedFailure {
    /// It ends in the middle of an entry.
    case truncated(String)
    /// A header is not a tar header (bad checksum or a number field that is not a number).
    case notTar(String, offset: Int64)
    /// A header declares a size below zero or above ``TarReader/maxEntrySize``.
    case badSize(String, offset: Int64, size: String)
    /// A pax or GNU long-name header is malformed or larger than ``TarReader/maxPaxSize``.
    case badPax(String, offset: Int64)
    /// A name that would land outside the folder (`..`, absolute, through a link) or is no name
    /// at all (empty, `.`, a NUL or control character, too long).
    case unsafeName(String, name: String)
    /// A name that appears twice, or a file where a folder must be.
    case conflict(String, name: String)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .truncated(let p): ("error.tar.truncated", ["file": p])
        case .notTar(let p, let offset): ("error.tar.not_tar", ["file": p, "offset": String(offset)])
        case .badSize(let p, let offset, let size): ("error.tar.bad_size", ["file": p, "offset": String(offset), "size": size])
        case .badPax(let p, let offset): ("error.tar.bad_pax", ["file": p, "offset": String(offset)])
        case .unsafeName(let p, let name): ("error.tar.unsafe", ["file": p, "name": name])
        case .conflict(let p, let name): ("error.tar.conflict", ["file": p, "name": name])
        }
    }
}

/// Reads a tar archive (ustar, pax, GNU long names) one entry at a time, as a stream.
///
/// Every number in a header is parsed with overflow checks and bounded before it is used, and
/// nothing is allocated by what the input declares beyond fixed bounds: a header is 512 bytes,
/// a pax header at most ``maxPaxSize`` (read only after that check), a name at most
/// ``maxNameBytes``; file data goes through one 1 MiB buffer. An archive that ends early is
/// ``TarError/truncated(_:)``, whatever size its headers claimed.
final class TarReader {
    /// The largest entry accepted (1 TiB): more than any recording, far below `Int64.max`.
    static let maxEntrySize: Int64 = 1 << 40
    /// The largest pax header accepted (1 MiB).
    static let maxPaxSize: Int64 = 1 << 20
    /// The longest name accepted, in bytes (Linux `PATH_MAX`).
    static let maxNameBytes = 4096
    /// The longest name component accepted, in bytes (Linux `NAME_MAX`).
    static let maxComponentBytes = 255

    /// One entry's header, its name already checked.
    struct Entry {
        /// What the entry is; links and devices are never extracted.
        enum Kind { case file, directory, link, other }
        /// The name's components (no empty, `.` or `..` ones); empty only for the folder `.`.
        var components: [String]
        var kind: Kind
        /// Data bytes that follow the header.
        var size: Int64
        /// Where its header starts.
        var offset: Int64
        /// The name as a relative path.
        var name: String { components.joined(separator: "/") }
    }

    /// The archive's path, for messages.
    let path: String
    private let fd: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    /// Bytes read so far.
    private(set) var offset: Int64 = 0
    private var dataLeft: Int64 = 0
    private var padLeft: Int64 = 0
    private var finished = false

    /// Opens an archive for reading.
    /// - Throws: ``FileError`` when it cannot be opened.
    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.cannotRead(path, reason: String(cString: strerror(errno))) }
        buffer = .allocate(byteCount: 1 << 20, alignment: 4096)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// The next entry, or nil after the end-of-archive blocks. Data of the previous entry not
    /// read with ``readData(_:)`` is skipped.
    /// - Throws: ``TarError`` for a damaged or hostile header, ``FileError`` when reading fails.
    func next() throws -> Entry? {
        if finished { return nil }
        try skip(dataLeft + padLeft)
        dataLeft = 0
        padLeft = 0
        var paxPath: [UInt8]?
        var paxSize: Int64?
        var longName: [UInt8]?
        var zeroBlocks = 0
        while true {
            let start = offset
            guard let b = try readBlock() else {
                // One zero block and then the end is what some writers leave: accepted.
                if zeroBlocks > 0 { finished = true; return nil }
                throw TarError.truncated(path)
            }
            if b.allSatisfy({ $0 == 0 }) {
                zeroBlocks += 1
                if zeroBlocks == 2 { finished = true; return nil }
                continue
            }
            zeroBlocks = 0
            guard TarReader.checksumMatches(b) else { throw TarError.notTar(path, offset: start) }
            let type = b[156]
            let declared = try size(field: b, at: start)
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                guard declared <= TarReader.maxPaxSize else { throw TarError.badPax(path, offset: start) }
                let data = try readExactly(Int(declared))
                try skip(TarReader.padding(declared))
                let (p, s) = try parsePax(data, at: start)
                if type == UInt8(ascii: "x") {  // global headers ('g') are checked, then ignored
                    if let p { paxPath = p }
                    if let s { paxSize = s }
                }
                continue
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                guard declared <= Int64(TarReader.maxNameBytes) + 1 else { throw TarError.badPax(path, offset: start) }
                let data = try readExactly(Int(declared))
                try skip(TarReader.padding(declared))
                if type == UInt8(ascii: "L") { longName = Array(data.prefix(while: { $0 != 0 })) }
                continue
            default:
                break
            }
            let size = paxSize ?? declared
            let nameBytes = paxPath ?? longName ?? TarReader.ustarName(b)
            let kind: Entry.Kind
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = nameBytes.last == UInt8(ascii: "/") ? .directory : .file
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "1"), UInt8(ascii: "2"): kind = .link
            default: kind = .other
            }
            guard let components = TarReader.components(nameBytes), !components.isEmpty || kind == .directory else {
                throw TarError.unsafeName(path, name: printableName(nameBytes))
            }
            dataLeft = size
            padLeft = TarReader.padding(size)
            return Entry(components: components, kind: kind, size: size, offset: start)
        }
    }

    /// Hands the current entry's data to `body` in pieces of at most 1 MiB, then skips its padding.
    /// - Throws: ``TarError/truncated(_:)`` when the archive ends first, or what `body` throws.
    func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while dataLeft > 0 {
            let got = try readSome(Int(min(dataLeft, Int64(buffer.count))))
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            dataLeft -= Int64(got)
        }
        try skip(padLeft)
        padLeft = 0
    }

    // MARK: Numbers and names

    /// What a numeric header field holds.
    enum Number: Equatable {
        case value(Int64)
        case negative
        case overflow
        case malformed
    }

    /// Parses an octal field (leading spaces, digits, then NULs or spaces) or a base-256 one
    /// (first byte's high bit set; GNU tar writes sizes past 8 GiB so), with overflow checks.
    static func number(_ b: [UInt8], at: Int, width: Int) -> Number {
        let end = at + width
        guard at >= 0, width > 0, end <= b.count else { return .malformed }
        if b[at] & 0x80 != 0 {
            if b[at] & 0x40 != 0 { return .negative }  // two's complement: the sign bit is set
            var v = Int64(b[at] & 0x3F)
            for i in (at + 1)..<end {
                guard v <= Int64.max >> 8 else { return .overflow }
                v = v << 8 | Int64(b[i])
            }
            return .value(v)
        }
        var i = at
        while i < end && b[i] == 0x20 { i += 1 }
        if i < end && b[i] == UInt8(ascii: "-") { return .negative }
        var v: Int64 = 0
        while i < end, (48...55).contains(b[i]) {
            let (m, o1) = v.multipliedReportingOverflow(by: 8)
            let (a, o2) = m.addingReportingOverflow(Int64(b[i] - 48))
            if o1 || o2 { return .overflow }
            v = a
            i += 1
        }
        while i < end {
            guard b[i] == 0 || b[i] == 0x20 else { return .malformed }
            i += 1
        }
        return .value(v)
    }

    /// A decimal number from a pax record: digits only, overflow-checked.
    static func decimal(_ bytes: some Collection<UInt8>) -> Number {
        guard !bytes.isEmpty else { return .malformed }
        if bytes.first == UInt8(ascii: "-") { return .negative }
        var v: Int64 = 0
        for byte in bytes {
            guard (48...57).contains(byte) else { return .malformed }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(byte - 48))
            if o1 || o2 { return .overflow }
            v = a
        }
        return .value(v)
    }

    /// Whether the header's checksum field matches its bytes (unsigned sum, or the signed sum
    /// some old writers used), the field itself counted as spaces.
    static func checksumMatches(_ b: [UInt8]) -> Bool {
        guard b.count == 512, case .value(let stored) = number(b, at: 148, width: 8) else { return false }
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (i, byte) in b.enumerated() {
            let v = (148..<156).contains(i) ? 0x20 : byte
            unsigned += Int64(v)
            signed += Int64(Int8(bitPattern: v))
        }
        return stored == unsigned || stored == signed
    }

    /// The name in a ustar header: `prefix/name` when the POSIX magic is there.
    static func ustarName(_ b: [UInt8]) -> [UInt8] {
        func field(_ at: Int, _ width: Int) -> [UInt8] { Array(b[at..<(at + width)].prefix(while: { $0 != 0 })) }
        let name = field(0, 100)
        let posix = b[257..<263].elementsEqual(Array("ustar".utf8) + [0])
        let prefix = posix ? field(345, 155) : []
        return prefix.isEmpty ? name : prefix + [UInt8(ascii: "/")] + name
    }

    /// The components of a name that stays inside the folder, or nil: absolute, `..`, NUL or
    /// control characters, not UTF-8, or longer than the bounds. `.` components and repeated
    /// slashes are dropped (so `./class-12/x` is `class-12/x`); `.` alone gives no components.
    static func components(_ bytes: [UInt8]) -> [String]? {
        guard !bytes.isEmpty, bytes.count <= maxNameBytes, bytes.first != UInt8(ascii: "/"),
            !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F })
        else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var out: [String] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            guard part != "..", part.utf8.count <= maxComponentBytes else { return nil }
            out.append(String(part))
        }
        return out
    }

    static func padding(_ size: Int64) -> Int64 { (512 - size % 512) % 512 }

    // MARK: Reading bytes

    private func size(field b: [UInt8], at start: Int64) throws -> Int64 {
        switch TarReader.number(b, at: 124, width: 12) {
        case .value(let v):
            guard v <= TarReader.maxEntrySize else { throw TarError.badSize(path, offset: start, size: String(v)) }
            return v
        case .negative: throw TarError.badSize(path, offset: start, size: "<0")
        case .overflow: throw TarError.badSize(path, offset: start, size: ">\(Int64.max)")
        case .malformed: throw TarError.notTar(path, offset: start)
        }
    }

    /// The `path` and `size` of a pax extended header; every record's length is checked.
    private func parsePax(_ data: [UInt8], at start: Int64) throws -> (path: [UInt8]?, size: Int64?) {
        var path: [UInt8]?
        var size: Int64?
        var p = 0
        while p < data.count {
            var q = p
            var length = 0
            while q < data.count, (48...57).contains(data[q]) {
                guard q - p < 8 else { throw TarError.badPax(self.path, offset: start) }
                length = length * 10 + Int(data[q] - 48)
                q += 1
            }
            guard q > p, q < data.count, data[q] == 0x20, length > q - p + 1, length <= data.count - p,
                data[p + length - 1] == 0x0A
            else { throw TarError.badPax(self.path, offset: start) }
            let record = data[(q + 1)..<(p + length - 1)]
            guard let eq = record.firstIndex(of: UInt8(ascii: "=")) else { throw TarError.badPax(self.path, offset: start) }
            let key = record[record.startIndex..<eq]
            let value = record[(eq + 1)...]
            if key.elementsEqual("path".utf8) {
                path = Array(value)
            } else if key.elementsEqual("size".utf8) {
                switch TarReader.decimal(value) {
                case .value(let v):
                    guard v <= TarReader.maxEntrySize else { throw TarError.badSize(self.path, offset: start, size: String(v)) }
                    size = v
                case .negative: throw TarError.badSize(self.path, offset: start, size: "<0")
                case .overflow: throw TarError.badSize(self.path, offset: start, size: ">\(Int64.max)")
                case .malformed: throw TarError.badPax(self.path, offset: start)
                }
            }
            p += length
        }
        return (path, size)
    }

    /// One 512-byte block, or nil at the very end of the file.
    private func readBlock() throws -> [UInt8]? {
        var block = [UInt8](repeating: 0, count: 512)
        var got = 0
        while got < 512 {
            let n = block.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress.map { $0 + got }, 512 - got) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.cannotRead(path, reason: String(cString: strerror(errno)))
            }
            if n == 0 {
                if got == 0 { return nil }
                throw TarError.truncated(path)
            }
            got += n
        }
        offset += 512
        return block
    }

    /// Exactly `count` bytes (the caller has bounded `count`).
    private func readExactly(_ count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let got = try readSome(min(count - out.count, buffer.count))
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
        }
        return out
    }

    /// Reads at least one and at most `count` bytes into the buffer.
    private func readSome(_ count: Int) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, min(count, buffer.count))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.cannotRead(path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { throw TarError.truncated(path) }
            offset += Int64(n)
            return n
        }
    }

    private func skip(_ count: Int64) throws {
        var left = count
        while left > 0 { left -= Int64(try readSome(Int(min(left, Int64(buffer.count))))) }
    }
}

/// A name from an archive or a bag for a message: control and bidi characters as `\u{…}`, at most
/// 200 characters.
func printableName(_ bytes: [UInt8]) -> String { printableName(String(decoding: bytes, as: UTF8.self)) }

/// A name from an archive or a bag for a message: control and bidi characters as `\u{…}`, at most
/// 200 characters.
func printableName(_ text: some StringProtocol) -> String {
    var out = ""
    for scalar in text.unicodeScalars.prefix(200) {
        let v = scalar.value
        if v < 0x20 || v == 0x7F || (0x80..<0xA0).contains(v) || (0x200E...0x200F).contains(v)
            || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
        {
            out += "\\u{" + String(v, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return text.unicodeScalars.count > 200 ? out + "…" : out
}

/// Extracts a tar archive into an empty folder, checking every header and name first.
///
/// Names stay inside the folder: no absolute names, no `..`, and every folder on the way is
/// opened without following links (`O_NOFOLLOW`), every file created new (`O_EXCL`), so nothing
/// is written through a link or over an earlier entry. Links and devices are never extracted:
/// their names are returned so the caller can report them.
/// - Returns: the names of the links (and other special entries) skipped, at most 1,000.
/// - Throws: ``TarError`` for a damaged or hostile archive, ``FileError`` when reading or
///   writing fails.
@discardableResult
func extractTar(_ archive: String, into folder: String) throws -> [String] {
    let reader = try TarReader(path: archive)
    let root = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard root >= 0 else { throw FileError.cannotWrite(folder, reason: String(cString: strerror(errno))) }
    defer { close(root) }
    var skipped: [String] = []

    /// The folder holding the last component, made where missing, never through a link.
    func openParent(_ entry: TarReader.Entry) throws -> Int32 {
        var dir = dup(root)
        guard dir >= 0 else { throw FileError.cannotWrite(folder, reason: String(cString: strerror(errno))) }
        for part in entry.components.dropLast() {
            var next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                if mkdirat(dir, part, 0o700) != 0 && errno != EEXIST {
                    let why = String(cString: strerror(errno))
                    close(dir)
                    throw FileError.cannotWrite(folder + "/" + entry.name, reason: why)
                }
                next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let failure = errno
            close(dir)
            guard next >= 0 else {
                if failure == ELOOP || failure == ENOTDIR { throw TarError.conflict(archive, name: printableName(entry.name)) }
                throw FileError.cannotWrite(folder + "/" + entry.name, reason: String(cString: strerror(failure)))
            }
            dir = next
        }
        return dir
    }

    while let entry = try reader.next() {
        switch entry.kind {
        case .directory:
            guard let last = entry.components.last else { continue }  // `.` itself
            let parent = try openParent(entry)
            defer { close(parent) }
            if mkdirat(parent, last, 0o700) != 0 {
                guard errno == EEXIST else {
                    throw FileError.cannotWrite(folder + "/" + entry.name, reason: String(cString: strerror(errno)))
                }
                var st = stat()
                guard fstatat(parent, last, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                    throw TarError.conflict(archive, name: printableName(entry.name))
                }
            }
        case .file:
            guard let last = entry.components.last else { throw TarError.unsafeName(archive, name: ".") }
            let parent = try openParent(entry)
            defer { close(parent) }
            let out = openat(parent, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard out >= 0 else {
                if errno == EEXIST || errno == ELOOP { throw TarError.conflict(archive, name: printableName(entry.name)) }
                throw FileError.cannotWrite(folder + "/" + entry.name, reason: String(cString: strerror(errno)))
            }
            defer { close(out) }
            try reader.readData { chunk in
                guard Files.writeAll(out, chunk) else {
                    throw FileError.cannotWrite(folder + "/" + entry.name, reason: String(cString: strerror(errno)))
                }
            }
        case .link, .other:
            if skipped.count < 1000 { skipped.append(entry.name) }
        }
    }
    return skipped
}
