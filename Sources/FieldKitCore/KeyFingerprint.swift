import Crypto
import FoundationEssentials

/// The fingerprint of an Ed25519 public key, as people compare it: `SHA256:` followed by the
/// lower-case hex of SHA-256 of the raw 32-byte key, in groups of four digits separated by `:`.
///
///     SHA256:3f2a:9c1b:0d4e:…:77e0
///
/// The county and the classroom PC use this one function, so a fingerprint read out over the
/// phone from `fieldkit-county device keys` is the one `fieldkit evidence verify` prints.
/// ``KeyID`` is its first four bytes.
public struct KeyFingerprint: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The 32 bytes of the SHA-256.
    public let digest: [UInt8]

    /// The fingerprint of a raw 32-byte Ed25519 public key.
    public init(publicKey raw: some DataProtocol) { digest = Array(SHA256.hash(data: raw)) }

    /// The fingerprint of a signing key's public half.
    public init(of key: Curve25519.Signing.PublicKey) { self.init(publicKey: key.rawRepresentation) }

    /// Parses a fingerprint as typed: with or without `SHA256:`, any case, with or without
    /// separators (`:`, `-`, `_`, `.`, spaces). Nil unless exactly 64 hex digits remain.
    public init?(parsing text: String) {
        let separators: Set<UInt8> = [UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), 0x20, 0x09]
        guard text.utf8.count <= 256 else { return nil }
        var digits = text.lowercased().utf8.filter { !separators.contains($0) }[...]
        if digits.starts(with: "sha256".utf8) { digits = digits.dropFirst(6) }
        guard digits.count == 64, let bytes = bytesFromHex(String(decoding: digits, as: UTF8.self)) else { return nil }
        digest = bytes
    }

    /// The 64 hex digits, lower case, no prefix or separators.
    public var hex: String { hexString(digest) }

    /// `SHA256:` and the hex digits in groups of four, separated by `:`.
    public var description: String {
        let h = Array(hex.utf8)
        var out = Array("SHA256:".utf8)
        for (i, digit) in h.enumerated() {
            if i > 0 && i % 4 == 0 { out.append(UInt8(ascii: ":")) }
            out.append(digit)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The key id the fingerprint's key has (its first four bytes).
    public var keyID: KeyID { KeyID(digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) }

    // MARK: - Codable (as its description)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = KeyFingerprint(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text.prefix(80))' is not a key fingerprint")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
