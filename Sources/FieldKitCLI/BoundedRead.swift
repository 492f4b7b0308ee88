import FieldKitCore
import FieldKitSQLite
import FieldKitStore

/// Reads a small file someone carried in (an enrollment file on a USB stick), refusing it
/// without reading it all when it is larger than `limit`.
/// - Throws: ``EnrollmentFileError/unreadable(path:)``, ``EnrollmentFileError/tooLarge(path:bytes:)``.
public func readBounded(_ path: String, limit: Int) throws -> [UInt8] {
    struct TooLarge: Error {}
    var bytes: [UInt8] = []
    do {
        _ = try Files.readChunks(path) { piece in
            guard bytes.count + piece.count <= limit else { throw TooLarge() }
            bytes.append(contentsOf: piece)
        }
    } catch is TooLarge {
        throw EnrollmentFileError.tooLarge(path: path, bytes: limit + 1)
    } catch {
        throw EnrollmentFileError.unreadable(path: path)
    }
    return bytes
}
