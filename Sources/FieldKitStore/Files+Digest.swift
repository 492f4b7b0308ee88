import Crypto
import FieldKitSQLite

extension Files {
    /// Size and SHA-256 of a file of any size, read in 1 MiB pieces (memory stays flat).
    /// Here rather than beside ``Files/readChunks(_:_:)`` so the SQLite target needs no Crypto.
    /// - Throws: ``FileError`` naming the path.
    public static func sha256(_ path: String) throws -> (size: Int64, digest: [UInt8]) {
        var hasher = SHA256()
        let size = try readChunks(path) { hasher.update(bufferPointer: $0) }
        return (size, Array(hasher.finalize()))
    }
}
