import FieldKitCore
import CZlib

/// A minimal PNG writer (8-bit grayscale), deflate and CRC from zlib.
///
/// Only this file touches zlib.
public enum PNG {
    /// Encodes rows of 8-bit gray pixels, all `width` long.
    /// - Throws: ``PNGError`` when zlib fails.
    public static func grayscale(width: Int, rows: [[UInt8]]) throws -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity((width + 1) * rows.count)
        for row in rows {
            raw.append(0)  // filter: none
            raw.append(contentsOf: row)
        }
        var bound = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(bound))
        let rc = compressed.withUnsafeMutableBufferPointer { out in
            raw.withUnsafeBufferPointer { compress2(out.baseAddress, &bound, $0.baseAddress, uLong(raw.count), 9) }
        }
        guard rc == Z_OK else { throw PNGError.deflateFailed(rc) }
        compressed.removeLast(compressed.count - Int(bound))

        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header.appendBE32(UInt32(width))
        header.appendBE32(UInt32(rows.count))
        header += [8, 0, 0, 0, 0]  // depth 8, grayscale, deflate, adaptive filters, no interlace
        chunk("IHDR", header, into: &out)
        chunk("IDAT", compressed, into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        out.appendBE32(UInt32(data.count))
        let typed = Array(type.utf8) + data
        out += typed
        let crc = typed.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        out.appendBE32(UInt32(crc))
    }
}

/// Why a PNG could not be written.
public enum PNGError: Error, Equatable, LocalizedFailure {
    /// zlib's deflate failed.
    case deflateFailed(Int32)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .deflateFailed(let rc): ("error.png.deflate", ["code": String(rc)])
        }
    }
}

extension Array where Element == UInt8 {
    mutating func appendBE32(_ v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)])
    }
}
