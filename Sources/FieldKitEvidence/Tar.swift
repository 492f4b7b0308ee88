import FieldKitCore
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
            } else {
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

/// An entry of a folder tree.
struct TreeEntry {
    var relative: String
    var isDirectory: Bool
    var size: Int64
}

/// Every file and folder under `root`, depth first, sorted by name.
func listTree(_ root: String) throws -> [TreeEntry] {
    var out: [TreeEntry] = []
    func walk(_ relative: String) throws {
        let dir = relative.isEmpty ? root : root + "/" + relative
        guard let handle = opendir(dir) else { throw FileError.cannotRead(dir, reason: String(cString: strerror(errno))) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(handle)
        for name in names.sorted() {
            let rel = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(root + "/" + rel, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                out.append(TreeEntry(relative: rel, isDirectory: true, size: 0))
                try walk(rel)
            } else if (st.st_mode & S_IFMT) == S_IFREG {
                out.append(TreeEntry(relative: rel, isDirectory: false, size: Int64(st.st_size)))
            }
        }
    }
    try walk("")
    return out
}

/// Why a tar archive could not be read.
public enum TarError: Error, Equatable, LocalizedFailure {
    /// It ends in the middle of an entry.
    case truncated(String)
    /// A header is not a tar header.
    case notTar(String, offset: Int64)
    /// A name that would land outside the folder (`..`, absolute).
    case unsafeName(String, name: String)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .truncated(let p): ("error.tar.truncated", ["file": p])
        case .notTar(let p, let offset): ("error.tar.not_tar", ["file": p, "offset": String(offset)])
        case .unsafeName(let p, let name): ("error.tar.unsafe", ["file": p, "name": name])
        }
    }
}

/// Extracts a tar archive (ustar and pax, as ``TarWriter`` and GNU tar write) into a folder,
/// checking every header; a damaged or truncated archive is an error naming it.
func extractTar(_ archive: String, into folder: String) throws {
    let fd = open(archive, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError.cannotRead(archive, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var offset: Int64 = 0
    func readExactly(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.cannotRead(archive, reason: String(cString: strerror(errno)))
            }
            if n == 0 { throw TarError.truncated(archive) }
            got += n
        }
        offset += Int64(count)
        return out
    }
    func field(_ b: [UInt8], _ at: Int, _ width: Int) -> [UInt8] {
        let slice = b[at..<(at + width)]
        return Array(slice.prefix(while: { $0 != 0 }))
    }
    func number(_ b: [UInt8], _ at: Int, _ width: Int) -> Int64? {
        if b[at] & 0x80 != 0 {  // base-256
            return b[(at + 1)..<(at + width)].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        }
        let text = String(decoding: field(b, at, width), as: UTF8.self).trimmingWhitespace()
        return text.isEmpty ? 0 : Int64(text, radix: 8)
    }
    var paxPath: String?
    var paxSize: Int64?
    var zeroBlocks = 0
    while true {
        let start = offset
        let b = try readExactly(512)
        if b.allSatisfy({ $0 == 0 }) {
            zeroBlocks += 1
            if zeroBlocks == 2 { return }
            continue
        }
        zeroBlocks = 0
        let stored = number(b, 148, 8)
        var copy = b
        for i in 148..<156 { copy[i] = 0x20 }
        guard let stored, stored == Int64(copy.reduce(0) { $0 + Int($1) }), var size = number(b, 124, 12) else {
            throw TarError.notTar(archive, offset: start)
        }
        let type = b[156]
        if let s = paxSize, type != UInt8(ascii: "x") { size = s }
        let padded = Int((size + 511) / 512 * 512)
        if type == UInt8(ascii: "x") || type == UInt8(ascii: "g") {
            let data = try readExactly(padded)
            if type == UInt8(ascii: "x") {
                for record in String(decoding: data.prefix(Int(size)), as: UTF8.self).split(separator: "\n") {
                    guard let space = record.firstIndex(of: " "), let eq = record.firstIndex(of: "=") else { continue }
                    let key = record[record.index(after: space)..<eq], value = String(record[record.index(after: eq)...])
                    if key == "path" { paxPath = value }
                    if key == "size" { paxSize = Int64(value) }
                }
            }
            continue
        }
        let prefix = field(b, 345, 155)
        var name = String(decoding: (prefix.isEmpty ? [] : prefix + [UInt8(ascii: "/")]) + field(b, 0, 100), as: UTF8.self)
        if let p = paxPath { name = p }
        paxPath = nil
        paxSize = nil
        let parts = name.split(separator: "/")
        guard !name.hasPrefix("/"), !parts.contains(".."), !parts.isEmpty else { throw TarError.unsafeName(archive, name: name) }
        let target = folder + "/" + parts.joined(separator: "/")
        switch type {
        case UInt8(ascii: "5"):
            try EvidenceBag.makeParents(target + "/")
            _ = try readExactly(padded)
        case UInt8(ascii: "0"), 0:
            try EvidenceBag.makeParents(target)
            let out = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard out >= 0 else { throw FileError.cannotWrite(target, reason: String(cString: strerror(errno))) }
            defer { close(out) }
            var left = Int64(padded)
            var remaining = size
            while left > 0 {
                let chunk = try readExactly(Int(min(left, 1 << 20)))
                left -= Int64(chunk.count)
                let take = Int(min(Int64(chunk.count), remaining))
                if take > 0 {
                    guard chunk.withUnsafeBytes({ Files.writeAll(out, UnsafeRawBufferPointer(rebasing: $0[0..<take])) }) else {
                        throw FileError.cannotWrite(target, reason: String(cString: strerror(errno)))
                    }
                    remaining -= Int64(take)
                }
            }
        default:
            _ = try readExactly(padded)  // links and devices are not part of a bag: skipped
        }
    }
}
