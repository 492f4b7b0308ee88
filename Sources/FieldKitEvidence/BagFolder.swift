import Crypto
import FieldKitCore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// One bag folder, read without ever leaving it.
///
/// Every path comes from the bag itself (manifests, fetch.txt), so none is trusted: a path must
/// be relative, without `.` or `..` components, and each folder on the way and the file itself
/// is opened without following links (`O_NOFOLLOW`). A link inside the bag is reported as a
/// link, never followed; only regular files are read (a FIFO or device is never opened).
final class BagFolder {
    /// The bag's folder as given.
    let root: String
    private let rootFD: Int32

    /// Opens the bag folder (the folder itself may be reached through a link: the auditor named it).
    init?(_ root: String) {
        self.root = root
        rootFD = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if rootFD < 0 { return nil }
    }

    deinit { close(rootFD) }

    /// What opening a path inside the bag gave.
    enum Opened {
        case file(Int32)
        case missing
        /// The path, or a folder on it, is a link.
        case link
        /// A folder, FIFO, device or socket.
        case notRegular
        case failed(String)
    }

    /// The components of a path from a bag's text files when it stays inside the bag: not
    /// empty, not absolute, no NUL, no empty, `.` or `..` component, at most 4,096 bytes.
    static func components(_ path: String) -> [String]? {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= 4096, bytes.first != UInt8(ascii: "/"), !bytes.contains(0) else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && $0.utf8.count <= 255 }) else { return nil }
        return parts.map(String.init)
    }

    /// Opens a regular file inside the bag for reading; the caller closes it.
    func open(_ relative: String) -> Opened {
        guard let parts = BagFolder.components(relative), let leaf = parts.last else { return .failed("not a path inside the bag") }
        var dir = dup(rootFD)
        guard dir >= 0 else { return .failed(String(cString: strerror(errno))) }
        defer { close(dir) }
        for part in parts.dropLast() {
            let next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { return classify(dir, part, errno) }
            close(dir)
            dir = next
        }
        var st = stat()
        guard fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return classify(dir, leaf, errno) }
        switch st.st_mode & S_IFMT {
        case S_IFLNK: return .link
        case S_IFREG: break
        default: return .notRegular
        }
        let fd = openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return classify(dir, leaf, errno) }
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return .notRegular
        }
        return .file(fd)
    }

    private func classify(_ dir: Int32, _ name: String, _ error: Int32) -> Opened {
        var st = stat()
        if fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            if (st.st_mode & S_IFMT) == S_IFLNK { return .link }
            if error == ENOTDIR { return .notRegular }
        }
        if error == ENOENT || error == ENOTDIR { return .missing }
        if error == ELOOP { return .link }
        return .failed(String(cString: strerror(error)))
    }

    /// What reading a text file of the bag gave.
    enum Read {
        case bytes([UInt8])
        case missing
        case tooLarge
        case link
        case unreadable
    }

    /// Reads a whole file of the bag, refusing one larger than `limit`.
    func read(_ relative: String, limit: Int) -> Read {
        switch open(relative) {
        case .file(let fd):
            defer { close(fd) }
            switch readAll(fd, limit: limit) {
            case .bytes(let b): return .bytes(b)
            case .tooLarge: return .tooLarge
            case .notRegular, .failed: return .unreadable
            }
        case .missing: return .missing
        case .link: return .link
        case .notRegular, .failed: return .unreadable
        }
    }

    /// What hashing a file gave.
    enum Hashed {
        case digest(size: Int64, sha256: [UInt8])
        case missing
        case link
        case unreadable
    }

    /// Size and SHA-256 of a file of the bag, read in 1 MiB pieces.
    func sha256(_ relative: String) -> Hashed {
        switch open(relative) {
        case .file(let fd):
            defer { close(fd) }
            guard let (size, digest) = BagFolder.sha256(fd: fd, stopAfter: nil) else { return .unreadable }
            return .digest(size: size, sha256: digest)
        case .missing: return .missing
        case .link: return .link
        case .notRegular, .failed: return .unreadable
        }
    }

    /// Size and SHA-256 of what a descriptor reads, stopping after `stopAfter` bytes when given
    /// (a file larger than it claims is then known without reading all of it).
    static func sha256(fd: Int32, stopAfter: Int64?) -> (Int64, [UInt8])? {
        var hasher = SHA256()
        var size: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        while stopAfter.map({ size < $0 }) ?? true {
            let want = stopAfter.map { Int(min(Int64(buffer.count), $0 - size)) } ?? buffer.count
            let n = Glibc.read(fd, buffer.baseAddress, want)
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            size += Int64(n)
        }
        return (size, Array(hasher.finalize()))
    }

    /// Size and SHA-256 of a regular file outside the bag (a recording at its fetch.txt
    /// address), reading at most `stopAfter` bytes; nil when it is not a readable regular file.
    static func sha256(external path: String, stopAfter: Int64) -> (Int64, [UInt8])? {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return sha256(fd: fd, stopAfter: stopAfter)
    }

    /// Every entry under a folder of the bag (links listed, never followed), or nil when the
    /// folder is missing; `.link` when the folder itself is a link.
    func list(_ folder: String) -> Result<[TreeEntry], ListFailure> {
        var st = stat()
        guard BagFolder.components(folder) != nil, fstatat(rootFD, folder, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return .failure(.missing) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return .failure((st.st_mode & S_IFMT) == S_IFLNK ? .link : .notFolder) }
        guard let entries = try? listTree(root + "/" + folder) else { return .failure(.unreadable) }
        return .success(entries)
    }

    /// Why a folder of the bag could not be listed.
    enum ListFailure: Error {
        case missing, link, notFolder, unreadable
    }
}
