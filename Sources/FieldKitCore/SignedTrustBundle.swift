import Crypto
import FoundationEssentials

/// A trust bundle as it travels: the exact payload bytes and the root key's signature over them.
///
/// The file is a small JSON envelope, so the signed bytes never depend on how a JSON library
/// orders keys or spaces:
/// `{"format":"fieldkit-trust-bundle/1","signer":"<root kid>","payload":"<base64>","signature":"<base64>"}`.
public struct SignedTrustBundle: Sendable {
    /// The envelope's format name.
    public static let formatName = "fieldkit-trust-bundle/1"
    /// Prefix of the signed message.
    public static let signingDomain: [UInt8] = Array("FKTB1".utf8) + [0]

    /// The root key that signed.
    public let signer: KeyID
    /// The bundle's JSON, exactly as signed.
    public let payload: [UInt8]
    /// Ed25519 over ``signingDomain`` + ``payload``.
    public let signature: [UInt8]

    /// Signs a bundle with the county root key.
    public init(signing bundle: TrustBundle, with rootKey: Curve25519.Signing.PrivateKey) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = Array(try encoder.encode(bundle))
        self.signer = KeyID(of: rootKey.publicKey)
        self.payload = payload
        self.signature = Array(try rootKey.signature(for: SignedTrustBundle.signingDomain + payload))
    }

    /// Reads an envelope file.
    /// - Throws: ``TrustBundleError/damaged(_:)`` when it is not a bundle file.
    public init(fileBytes: [UInt8]) throws {
        struct Envelope: Decodable {
            var format: String
            var signer: KeyID
            var payload: String
            var signature: String
        }
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(fileBytes))
        } catch {
            throw TrustBundleError.damaged("not a trust bundle file (\(describe(decodingError: error)))")
        }
        guard envelope.format == SignedTrustBundle.formatName else {
            throw TrustBundleError.unsupportedFormat(envelope.format)
        }
        guard let payload = Base64.decode(envelope.payload), let signature = Base64.decode(envelope.signature),
            signature.count == 64
        else { throw TrustBundleError.damaged("payload or signature is not valid base64") }
        self.signer = envelope.signer
        self.payload = payload
        self.signature = signature
    }

    /// The envelope file's bytes.
    public var fileBytes: [UInt8] {
        let text = "{\"format\":\"\(SignedTrustBundle.formatName)\",\"signer\":\"\(signer)\",\"payload\":\""
            + Base64.encode(payload) + "\",\"signature\":\"" + Base64.encode(signature) + "\"}\n"
        return Array(text.utf8)
    }

    /// Verifies the signature with the pinned root key, then decodes and validates the bundle.
    /// - Throws: ``TrustBundleError`` when the signer is not the root, the signature fails, or the content is bad.
    public func open(rootKey: Curve25519.Signing.PublicKey) throws -> TrustBundle {
        guard signer == KeyID(of: rootKey) else { throw TrustBundleError.wrongSigner(signer, expected: KeyID(of: rootKey)) }
        guard rootKey.isValidSignature(signature, for: SignedTrustBundle.signingDomain + payload) else {
            throw TrustBundleError.badSignature
        }
        let bundle: TrustBundle
        do {
            bundle = try JSONDecoder().decode(TrustBundle.self, from: Data(payload))
        } catch {
            throw TrustBundleError.damaged(describe(decodingError: error))
        }
        try bundle.validate()
        return bundle
    }
}

/// Why a trust bundle was refused.
public enum TrustBundleError: Error, Equatable, LocalizedFailure {
    /// The file is not a readable bundle.
    case damaged(String)
    /// A format this fieldkit does not read.
    case unsupportedFormat(String)
    /// Signed by a key other than the pinned county root.
    case wrongSigner(KeyID, expected: KeyID)
    /// The root signature does not verify: the file was altered.
    case badSignature
    /// The content breaks a rule.
    case invalid(String)
    /// For another site.
    case wrongSite(String, expected: String)
    /// For another county.
    case wrongCounty(String, expected: String)
    /// Older than the bundle already held.
    case rollback(Int64, held: Int64)
    /// The held sequence number with different content.
    case sequenceReused(Int64)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .damaged(let why): ("error.bundle.damaged", ["why": why])
        case .unsupportedFormat(let f): ("error.bundle.format", ["format": f])
        case .wrongSigner(let s, let e): ("error.bundle.signer", ["signer": s.description, "root": e.description])
        case .badSignature: ("error.bundle.signature", [:])
        case .invalid(let why): ("error.bundle.invalid", ["why": why])
        case .wrongSite(let s, let e): ("error.bundle.site", ["site": s, "expected": e])
        case .wrongCounty(let c, let e): ("error.bundle.county", ["county": c, "expected": e])
        case .sequenceReused(let s): ("error.bundle.reused", ["sequence": String(s)])
        case .rollback(let s, let h): ("error.bundle.rollback", ["sequence": String(s), "held": String(h)])
        }
    }
}

/// One line for a JSON decoding error: the path and what was wrong, no type dump.
public func describe(decodingError error: any Error) -> String {
    func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case DecodingError.keyNotFound(let key, let ctx): return "missing field '\(key.stringValue)' at \(path(ctx.codingPath))"
    case DecodingError.typeMismatch(_, let ctx): return "wrong type at \(path(ctx.codingPath))"
    case DecodingError.valueNotFound(_, let ctx): return "missing value at \(path(ctx.codingPath))"
    case DecodingError.dataCorrupted(let ctx):
        return ctx.codingPath.isEmpty ? "not valid JSON" : "\(ctx.debugDescription) at \(path(ctx.codingPath))"
    default: return "unreadable"
    }
}
