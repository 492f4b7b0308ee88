import Crypto
import FoundationEssentials

/// The 4-byte identifier of an Ed25519 public key: the first 4 bytes of SHA-256 of its raw 32 bytes.
public struct KeyID: Hashable, Sendable, CustomStringConvertible {
    /// The identifier as a big-endian integer.
    public var value: UInt32

    /// Wraps a raw identifier.
    public init(_ value: UInt32) { self.value = value }

    /// The identifier of a raw 32-byte Ed25519 public key.
    public init(publicKey: some DataProtocol) {
        let digest = Array(SHA256.hash(data: publicKey))
        self.value = digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The identifier of a signing key's public half.
    public init(of key: Curve25519.Signing.PublicKey) { self.init(publicKey: key.rawRepresentation) }

    /// Parses 8 hexadecimal digits.
    public init?(hex: String) {
        guard hex.utf8.count == 8, let bytes = bytesFromHex(hex) else { return nil }
        let v = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        self.value = v
    }

    /// Eight lower-case hexadecimal digits.
    public var description: String { String(value, radix: 16).leftPadded(to: 8) }
}

// MARK: - Codable

extension KeyID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = KeyID(hex: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a key id of 8 hex digits")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Lower-case hexadecimal of bytes.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Bytes from hexadecimal; nil when the text is not an even number of hex digits.
public func bytesFromHex(_ text: String) -> [UInt8]? {
    let u = Array(text.utf8)
    guard u.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count {
        guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}
