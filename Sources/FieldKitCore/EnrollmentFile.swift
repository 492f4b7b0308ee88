import Crypto
import FoundationEssentials

/// Enrollment carried on a USB stick, for a site with no link to the county: three files, each
/// the HTTP enrollment's content plus what lets the other side check it without a connection.
///
/// 1. ``EnrollmentCodeFile``: the county's one-time code, signed by the county root key (the
///    site checks it against the key it pinned at `fieldkit init`).
/// 2. ``EnrollmentRequestFile``: the site's ``EnrollRequest``, exactly as `POST /v1/enroll`
///    sends it (signed by the device key over the code).
/// 3. ``EnrollmentAnswerFile``: the county's ``EnrollResponse``, signed by the county root key
///    (over HTTP the site trusts the answer because it asked the county it named; on a stick
///    only the signature says where the answer came from).
public enum EnrollmentFile {
    /// Largest enrollment file read (each is well under 2 KB).
    public static let maxBytes = 16 << 10

    /// Reads one of the three files: bounded, JSON, of the expected format.
    /// - Throws: ``EnrollmentFileError``.
    public static func decode<T: Decodable>(_ type: T.Type, bytes: [UInt8], path: String, format: String) throws -> T {
        guard bytes.count <= maxBytes else { throw EnrollmentFileError.tooLarge(path: path, bytes: bytes.count) }
        guard let head = try? JSONDecoder().decode(FormatHead.self, from: Data(bytes)) else {
            throw EnrollmentFileError.notEnrollmentFile(path: path, expected: format)
        }
        guard head.format == format else { throw EnrollmentFileError.notEnrollmentFile(path: path, expected: format) }
        guard let value = try? JSONDecoder().decode(T.self, from: Data(bytes)) else {
            throw EnrollmentFileError.notEnrollmentFile(path: path, expected: format)
        }
        return value
    }

    /// Only the `format` field of a file.
    private struct FormatHead: Decodable { var format: String? }

    /// The bytes to write: sorted-key JSON and a newline.
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        Array(try SyncWire.encoder().encode(value)) + [0x0A]
    }

    /// A domain, then each field as a 4-byte big-endian length and its UTF-8.
    static func message(domain: String, _ fields: [String]) -> [UInt8] {
        var m = Array(domain.utf8) + [0]
        for field in fields {
            m.appendBigEndian(UInt64(field.utf8.count), bytes: 4)
            m.append(contentsOf: field.utf8)
        }
        return m
    }
}

/// The one-time enrollment code as a file (`fieldkit-county device code --file`).
public struct EnrollmentCodeFile: Codable, Sendable, Equatable {
    /// `fieldkit-enrollment-code/1`.
    public static let formatName = "fieldkit-enrollment-code/1"
    /// ``formatName``.
    public var format: String
    /// The code, as `device add` prints it.
    public var code: String
    /// The site it enrolls a device for.
    public var site: String
    /// The county code.
    public var county: String
    /// The county root key's fingerprint (``KeyFingerprint``), for people to compare.
    public var county_key: String
    /// After this the county refuses the code, UTC ms.
    public var expires_ms: Int64
    /// Ed25519 by the county root key over ``message``, base64.
    public var signature: String

    /// `fieldkit-enrollment-code/1`, NUL, then code, site, county, key, expiry (length-prefixed).
    public var message: [UInt8] {
        EnrollmentFile.message(domain: Self.formatName, [code, site, county, county_key, String(expires_ms)])
    }

    /// A code file signed with the county root key.
    public init(code: String, site: String, county: String, expiresMs: Int64, rootKey: Curve25519.Signing.PrivateKey) throws {
        self.format = Self.formatName
        self.code = code
        self.site = site
        self.county = county
        self.county_key = KeyFingerprint(of: rootKey.publicKey).description
        self.expires_ms = expiresMs
        self.signature = ""
        self.signature = Base64.encode(try rootKey.signature(for: message))
    }

    /// Whether this root key signed it (and its fingerprint is the one written in it).
    public func verify(with key: Curve25519.Signing.PublicKey) -> Bool {
        guard KeyFingerprint(parsing: county_key) == KeyFingerprint(of: key), let sig = Base64.decode(signature) else { return false }
        return key.isValidSignature(sig, for: message)
    }
}

/// The site's enrollment request as a file (`fieldkit enroll --file CODE --out REQUEST`).
public struct EnrollmentRequestFile: Codable, Sendable, Equatable {
    /// `fieldkit-enrollment-request/1`.
    public static let formatName = "fieldkit-enrollment-request/1"
    /// ``formatName``.
    public var format: String
    /// The request `POST /v1/enroll` would send.
    public var request: EnrollRequest

    /// Wraps a request.
    public init(request: EnrollRequest) {
        self.format = Self.formatName
        self.request = request
    }
}

/// The county's answer as a file (`fieldkit-county device enroll --file REQUEST --out ANSWER`).
public struct EnrollmentAnswerFile: Codable, Sendable, Equatable {
    /// `fieldkit-enrollment-answer/1`.
    public static let formatName = "fieldkit-enrollment-answer/1"
    /// ``formatName``.
    public var format: String
    /// The answer `POST /v1/enroll` would give.
    public var answer: EnrollResponse
    /// Ed25519 by the county root key over ``message``, base64.
    public var signature: String

    /// `fieldkit-enrollment-answer/1`, NUL, then device, site, county, county key (length-prefixed).
    public var message: [UInt8] {
        EnrollmentFile.message(domain: Self.formatName, [answer.device, answer.site, answer.county, answer.county_public_key])
    }

    /// An answer signed with the county root key.
    public init(answer: EnrollResponse, rootKey: Curve25519.Signing.PrivateKey) throws {
        self.format = Self.formatName
        self.answer = answer
        self.signature = ""
        self.signature = Base64.encode(try rootKey.signature(for: message))
    }

    /// Whether this root key signed it and the answer names that key.
    public func verify(with key: Curve25519.Signing.PublicKey) -> Bool {
        guard answer.county_public_key == Base64.encode(key.rawRepresentation), let sig = Base64.decode(signature) else {
            return false
        }
        return key.isValidSignature(sig, for: message)
    }
}

/// Why an enrollment file was refused. Nothing is stored then.
public enum EnrollmentFileError: Error, Equatable, LocalizedFailure {
    /// The file cannot be read.
    case unreadable(path: String)
    /// Larger than any enrollment file.
    case tooLarge(path: String, bytes: Int)
    /// Not JSON, or not this kind of enrollment file.
    case notEnrollmentFile(path: String, expected: String)
    /// Not signed by the county this station pinned (another county, or changed on the way).
    case notCounty(path: String)
    /// For another site.
    case otherSite(path: String, site: String)
    /// For another device.
    case otherDevice(path: String, device: String)
    /// The code's time is over.
    case expired(path: String, at: Timestamp)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .unreadable(let p): ("error.enroll_file.unreadable", ["path": p])
        case .tooLarge(let p, _): ("error.enroll_file.too_large", ["path": p, "limit": String(EnrollmentFile.maxBytes)])
        case .notEnrollmentFile(let p, let f): ("error.enroll_file.format", ["path": p, "format": f])
        case .notCounty(let p): ("error.enroll_file.not_county", ["path": p])
        case .otherSite(let p, let s): ("error.enroll_file.other_site", ["path": p, "site": s])
        case .otherDevice(let p, let d): ("error.enroll_file.other_device", ["path": p, "device": d])
        case .expired(let p, let at): ("error.enroll_file.expired", ["path": p, "time": at.localDescription()])
        }
    }
}
