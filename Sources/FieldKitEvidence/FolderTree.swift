import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// An entry of a folder tree.
struct TreeEntry {
    /// What the entry is; `other` is a link, device, socket or pipe (never followed).
    enum Kind { case file, directory, other }
    /// Its path below the root.
    var relative: String
    var kind: Kind
    /// Its size (files only).
    var size: Int64
    /// Whether it is a folder.
    var isDirectory: Bool { kind == .directory }
}

/// Every entry under `root`, depth first, sorted by name. Links are listed as `other` and never
/// followed; `root` itself may be given through a link.
/// - Throws: ``FileError`` when a folder cannot be read.
func listTree(_ root: String) throws -> [TreeEntry] {
    var out: [TreeEntry] = []
    func walk(_ relative: String) throws {
        let dir = relative.isEmpty ? root : root + "/" + relative
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (relative.isEmpty ? 0 : O_NOFOLLOW))
        guard fd >= 0, let handle = fdopendir(fd) else {
            let why = String(cString: strerror(errno))
            throw FileError.cannotRead(dir, reason: why)
        }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(handle)
        for name in names.sorted() {
            let rel = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(root + "/" + rel, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                out.append(TreeEntry(relative: rel, kind: .directory, size: 0))
                try walk(rel)
            case S_IFREG:
                out.append(TreeEntry(relative: rel, kind: .file, size: Int64(st.st_size)))
            default:
                out.append(TreeEntry(relative: rel, kind: .other, size: 0))
            }
        }
    }
    try walk("")
    return out
}

/// Removes a folder tree: files and folders, and links themselves (never what they point to).
/// Gone already: done.
/// - Throws: ``FileError`` naming what could not be removed.
func removeTree(_ path: String) throws {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    guard (st.st_mode & S_IFMT) == S_IFDIR else {
        if unlink(path) != 0 && errno != ENOENT { throw FileError.cannotWrite(path, reason: String(cString: strerror(errno))) }
        return
    }
    for entry in (try? listTree(path))?.reversed() ?? [] {
        let full = path + "/" + entry.relative
        if (entry.isDirectory ? rmdir(full) : unlink(full)) != 0 && errno != ENOENT {
            throw FileError.cannotWrite(full, reason: String(cString: strerror(errno)))
        }
    }
    if rmdir(path) != 0 && errno != ENOENT { throw FileError.cannotWrite(path, reason: String(cString: strerror(errno))) }
}

/// The entries directly in a folder, sorted by name (links listed as `other`, not followed).
/// - Throws: ``FileError`` when the folder cannot be read.
func listFolder(_ path: String) throws -> [TreeEntry] {
    guard let handle = opendir(path) else { throw FileError.cannotRead(path, reason: String(cString: strerror(errno))) }
    defer { closedir(handle) }
    var out: [TreeEntry] = []
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        guard name != "." && name != ".." else { continue }
        var st = stat()
        guard lstat(path + "/" + name, &st) == 0 else { continue }
        let kind: TreeEntry.Kind =
            switch st.st_mode & S_IFMT {
            case S_IFDIR: .directory
            case S_IFREG: .file
            default: .other
            }
        out.append(TreeEntry(relative: name, kind: kind, size: kind == .file ? Int64(st.st_size) : 0))
    }
    return out.sorted { $0.relative < $1.relative }
}
