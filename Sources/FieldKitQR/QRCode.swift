import FieldKitCore
import CQRencode

/// A QR code symbol: a square of dark and light modules, made by libqrencode.
///
/// Only this file touches libqrencode; everything else sees Swift values.
public struct QRCode: Sendable, Equatable {
    /// Error correction level: how much of the symbol may be damaged and still read.
    public enum Level: Sendable {
        /// About 7 %.
        case low
        /// About 15 %: phone screens.
        case medium
        /// About 25 %: printed cards, which get creased and dirty.
        case quartile
        /// About 30 %.
        case high

        var c: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }
    }

    /// The symbol version, 1...40 (size = 17 + 4 × version modules).
    public let version: Int
    /// Modules per side, without the quiet zone.
    public let size: Int
    /// Row-major, true for dark.
    public let modules: [Bool]

    /// Encodes text; libqrencode picks the modes (a digits-only text is numeric mode).
    /// - Throws: ``QRCodeError`` when the text is too long or cannot be encoded.
    public init(_ text: String, level: Level) throws {
        guard !text.isEmpty, !text.utf8.contains(0) else { throw QRCodeError.cannotEncode(length: text.utf8.count) }
        guard let code = QRcode_encodeString(text, 0, level.c, QR_MODE_8, 1) else {
            throw QRCodeError.cannotEncode(length: text.utf8.count)
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let data = UnsafeBufferPointer(start: code.pointee.data, count: width * width)
        self.version = Int(code.pointee.version)
        self.size = width
        self.modules = data.map { $0 & 1 == 1 }
    }

    /// Whether the module at a column and row is dark; false outside the symbol (the quiet zone).
    public func isDark(x: Int, y: Int) -> Bool {
        x >= 0 && y >= 0 && x < size && y < size && modules[y * size + x]
    }

    /// The light margin every reader needs: 4 modules on each side.
    public static let quietZone = 4
}

/// Why a QR code could not be made.
public enum QRCodeError: Error, Equatable, LocalizedFailure {
    /// The text does not fit in a QR code, or is empty.
    case cannotEncode(length: Int)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .cannotEncode(let n): ("error.qr.encode", ["n": String(n)])
        }
    }
}
