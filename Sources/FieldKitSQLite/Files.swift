import FieldKitCore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small, careful file operations: atomic replacement, fsync, private modes.
public enum Files {
    /// Reads a whole file.
    /// - Throws: ``FileError`` naming the path.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.cannotRead(path, reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError.cannotRead(path, reason: errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError.cannotRead(path, reason: "not a regular file") }
        guard st.st_size <= 256 << 20 else { throw FileError.cannotRead(path, reason: "larger than 256 MB") }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.cannotRead(path, reason: errnoText())
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// Reads a regular file of any size in 1 MiB pieces, handing each to `body`; returns the
    /// bytes read.
    /// - Throws: ``FileError`` naming the path, or what `body` throws.
    public static func readChunks(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.cannotRead(path, reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError.cannotRead(path, reason: errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError.cannotRead(path, reason: "not a regular file") }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        var size: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.cannotRead(path, reason: errnoText())
            }
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            size += Int64(n)
        }
        return size
    }

    /// Writes a file atomically: a temporary file beside it, fsync, rename, fsync of the folder.
    /// A crash leaves either the old file or the new one, never half of one.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError.cannotWrite(path, reason: errnoText()) }
        var ok = writeAll(fd, bytes) && fchmod(fd, mode) == 0 && fsync(fd) == 0
        ok = close(fd) == 0 && ok
        guard ok, rename(tmp, path) == 0 else {
            let reason = errnoText()
            unlink(tmp)
            throw FileError.cannotWrite(path, reason: reason)
        }
        syncDirectory(of: path)
    }

    /// Creates a new private file (mode 0600) and refuses to overwrite one: for keys.
    public static func createPrivate(_ bytes: [UInt8], at path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw errno == EEXIST
                ? FileError.exists(path) : FileError.cannotWrite(path, reason: errnoText())
        }
        var ok = fchmod(fd, 0o600) == 0 && writeAll(fd, bytes) && fsync(fd) == 0
        ok = close(fd) == 0 && ok
        guard ok else {
            let reason = errnoText()
            unlink(path)
            throw FileError.cannotWrite(path, reason: reason)
        }
        syncDirectory(of: path)
    }

    /// Makes a folder (and its parents) if missing.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw FileError.cannotWrite(path, reason: "not a folder") }
            return
        }
        let parent = parentDirectory(of: path)
        if parent != path, !parent.isEmpty { try makeDirectory(parent, mode: mode) }
        guard mkdir(path, mode) == 0 || errno == EEXIST else { throw FileError.cannotWrite(path, reason: errnoText()) }
    }

    /// Renames a file (replacing `to` if it exists: callers check first) and makes the rename
    /// durable (the folder is synced).
    /// - Throws: ``FileError`` naming the path.
    public static func move(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw FileError.cannotWrite(to, reason: errnoText()) }
        syncDirectory(of: to)
    }

    /// fsyncs a file's contents.
    /// - Throws: ``FileError`` naming the path.
    public static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.cannotWrite(path, reason: errnoText()) }
        let ok = fsync(fd) == 0
        close(fd)
        guard ok else { throw FileError.cannotWrite(path, reason: errnoText()) }
    }

    /// A second name for a file (a hard link), made durable; refuses to overwrite `to`.
    /// - Throws: ``FileError`` naming the path.
    public static func link(_ from: String, to: String) throws {
        guard Glibc.link(from, to) == 0 else { throw FileError.cannotWrite(to, reason: errnoText()) }
        syncDirectory(of: to)
    }

    /// Whether a path exists.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Deletes a file and makes the deletion durable (the folder is synced). Gone already: done.
    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw FileError.cannotWrite(path, reason: errnoText()) }
        syncDirectory(of: path)
    }

    /// The permission bits of a file.
    public static func mode(_ path: String) -> mode_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : nil
    }

    /// Free bytes on the file system holding a path.
    public static func freeBytes(at path: String) -> Int64? {
        var s = statvfs()
        return statvfs(path, &s) == 0 ? Int64(s.f_bavail) * Int64(s.f_frsize) : nil
    }

    /// The folder a path is in (`.` for a bare name).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// fsyncs the folder a path is in, so a rename or unlink in it is durable.
    public static func syncDirectory(of path: String) {
        let fd = open(parentDirectory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// Writes all of a buffer to a descriptor, through short writes and interrupts.
    /// - Returns: false on an error (see `errno`).
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// The C library's words for the last error.
    public static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// A file that could not be read or written.
public enum FileError: Error, Equatable, LocalizedFailure {
    /// Could not read.
    case cannotRead(String, reason: String)
    /// Could not write.
    case cannotWrite(String, reason: String)
    /// Would overwrite an existing file.
    case exists(String)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .cannotRead(let p, let r): ("error.file.read", ["path": p, "why": r])
        case .cannotWrite(let p, let r): ("error.file.write", ["path": p, "why": r])
        case .exists(let p): ("error.file.exists", ["path": p])
        }
    }
}

extension FileError {
    /// The reason alone, for messages that name the file themselves.
    public var reasonText: String {
        switch self {
        case .cannotRead(_, let r), .cannotWrite(_, let r): r
        case .exists: "exists already"
        }
    }
}
