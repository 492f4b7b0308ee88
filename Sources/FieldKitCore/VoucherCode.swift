import Crypto
import FoundationEssentials

/// A complete VT1 voucher code: the 36-byte body and its 64-byte Ed25519 signature.
///
/// In a QR code it travels as 247 decimal digits (``text``) so that a keyboard-wedge scanner
/// can type it through any keyboard layout or input method.
public struct VoucherCode: Hashable, Sendable {
    /// The signed fields.
    public let body: VoucherBody
    /// Ed25519 over ``signingDomain`` followed by the body.
    public let signature: [UInt8]

    /// Prefix of every signed message, so a voucher signature can never pass for another kind.
    public static let signingDomain: [UInt8] = Array("FKVT1".utf8) + [0]
    /// Bytes in a whole code.
    public static let length = 100

    /// Pairs a body with a signature (not checked here; see ``verify(with:)``).
    public init(body: VoucherBody, signature: [UInt8]) {
        self.body = body
        self.signature = signature
    }

    /// Signs a body.
    public init(signing body: VoucherBody, with key: Curve25519.Signing.PrivateKey) throws {
        self.body = body
        self.signature = Array(try key.signature(for: VoucherCode.signingDomain + body.encoded))
    }

    /// Reads 100 bytes.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == VoucherCode.length else { throw VoucherCodeError.wrongByteLength(bytes.count) }
        self.body = try VoucherBody(decoding: Array(bytes[0..<VoucherBody.length]))
        self.signature = Array(bytes[VoucherBody.length...])
    }

    /// Decodes scanner text (see ``VoucherText``).
    public init(text: String) throws {
        try self.init(bytes: VoucherText.decode(text))
    }

    /// The 100 bytes: body then signature.
    public var bytes: [UInt8] { body.encoded + signature }

    /// The 247-digit text for the QR code.
    public var text: String { VoucherText.encode(bytes) }

    /// Whether the signature verifies under a public key.
    public func verify(with key: Curve25519.Signing.PublicKey) -> Bool {
        key.isValidSignature(signature, for: VoucherCode.signingDomain + body.encoded)
    }
}

/// Why a scanned text is not a VT1 voucher code. Every case means reason `malformed`.
public enum VoucherCodeError: Error, Equatable, LocalizedFailure {
    /// Not 247 digits after normalising.
    case wrongLength(Int)
    /// A character that is neither a digit nor white space.
    case notDigits(position: Int)
    /// The first four digits are not `9601`.
    case wrongPrefix(String)
    /// A 17-digit group too large for 7 bytes.
    case groupOutOfRange(index: Int)
    /// The 5-digit tail too large for 2 bytes.
    case tailOutOfRange
    /// Not 100 bytes (36 + 64).
    case wrongByteLength(Int)
    /// Format byte other than 0x01.
    case unknownFormat(UInt8)
    /// Flags bits 1-7 or the reserved bytes are not zero.
    case reservedBitsSet
    /// Level above 5.
    case badLevel(UInt8)
    /// Trade with more than seven digits.
    case badTrade(UInt32)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .wrongLength(let n): ("error.code.length", ["n": String(n)])
        case .notDigits(let p): ("error.code.not_digits", ["position": String(p)])
        case .wrongPrefix(let p): ("error.code.prefix", ["prefix": p])
        case .groupOutOfRange(let i): ("error.code.group", ["group": String(i)])
        case .tailOutOfRange: ("error.code.tail", [:])
        case .wrongByteLength(let n): ("error.code.bytes", ["n": String(n)])
        case .unknownFormat(let f): ("error.code.format", ["format": String(f)])
        case .reservedBitsSet: ("error.code.reserved", [:])
        case .badLevel(let l): ("error.code.level", ["level": String(l)])
        case .badTrade(let t): ("error.code.trade", ["trade": String(t)])
        }
    }
}
