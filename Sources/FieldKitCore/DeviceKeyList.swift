import Crypto
import FoundationEssentials

/// The county's list of enrolled device keys, signed by the county root key: what an auditor
/// gives `fieldkit evidence verify --expect-key` to know which keys may sign evidence bags.
///
/// The file is JSON that people can read, one device a line, with the signature on the last
/// line alone:
///
///     {"format":"fieldkit-device-keys/1","county":"141023","signer":"<root kid>","issued_ms":…,"devices":[
///     {"enrolled_ms":…,"fingerprint":"SHA256:…","id":"S01-1a2b3c4d","public_key":"<base64>","site":"S01","status":"active"},
///     {"enrolled_ms":…,"fingerprint":"SHA256:…","id":"S02-…","public_key":"…","revoked_ms":…,"site":"S02","status":"revoked"}
///     ],
///     "signature":"<base64>"}
///
/// **The signed bytes** are `FKDK1` and a zero byte, followed by every byte of the file before
/// its last line (from `{` up to and including the newline after `],`). The last line must be
/// exactly `"signature":"<base64 of 64 bytes>"}` and a newline, so nothing outside the signed
/// bytes can add or change a field. With the county's `root.pub` (base64 of the raw key):
///
///     (printf '\060\052\060\005\006\003\053\145\160\003\041\000'; base64 -d root.pub) > root.der
///     (printf 'FKDK1\000'; sed '$d' keys.json) > signed.bin
///     tail -n 1 keys.json | cut -d'"' -f4 | base64 -d > signature.bin
///     openssl pkeyutl -verify -pubin -keyform DER -inkey root.der -rawin -in signed.bin -sigfile signature.bin
public struct DeviceKeyList: Sendable, Equatable {
    /// The format name on the first line.
    public static let formatName = "fieldkit-device-keys/1"
    /// Prefix of the signed message (domain separation from bundles, receipts and checkpoints).
    public static let signingDomain: [UInt8] = Array("FKDK1".utf8) + [0]
    /// The largest file read (a county of a few thousand devices is well under 2 MB).
    public static let maxFileBytes = 16 << 20

    /// One enrolled device.
    public struct Device: Codable, Sendable, Equatable {
        /// `SITE-<key id>`.
        public var id: String
        /// Its site.
        public var site: String
        /// The raw 32-byte Ed25519 public key, base64.
        public var public_key: String
        /// ``KeyFingerprint`` of the key, as printed.
        public var fingerprint: String
        /// `active` or `revoked`.
        public var status: String
        /// When it enrolled, ms since 1970 UTC.
        public var enrolled_ms: Int64
        /// When the county cut it off, ms since 1970 UTC.
        public var revoked_ms: Int64?

        /// Makes an entry; the fingerprint is computed from the key.
        public init(id: String, site: String, publicKey raw: [UInt8], status: String, enrolledMs: Int64, revokedMs: Int64?) {
            self.id = id
            self.site = site
            self.public_key = Base64.encode(raw)
            self.fingerprint = KeyFingerprint(publicKey: raw).description
            self.status = status
            self.enrolled_ms = enrolledMs
            self.revoked_ms = revokedMs
        }

        /// The public key's raw bytes, when well formed.
        public var rawKey: [UInt8]? {
            guard let raw = Base64.decode(public_key), raw.count == 32 else { return nil }
            return raw
        }
    }

    /// The county code.
    public var county: String
    /// When the county wrote the list, ms since 1970 UTC.
    public var issuedMs: Int64
    /// Every device the county has enrolled, revoked ones included.
    public var devices: [Device]

    /// A list to sign.
    public init(county: String, issuedMs: Int64, devices: [Device]) {
        self.county = county
        self.issuedMs = issuedMs
        self.devices = devices
    }

    /// The file, signed with the county root key.
    public func signedFile(with rootKey: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var signed = Array("{\"format\":\"\(DeviceKeyList.formatName)\",\"county\":".utf8) + Array(try encoder.encode(county))
        signed += Array(",\"signer\":\"\(KeyID(of: rootKey.publicKey))\",\"issued_ms\":\(issuedMs),\"devices\":[\n".utf8)
        for (i, device) in devices.enumerated() {
            signed += Array(try encoder.encode(device)) + Array((i + 1 < devices.count ? ",\n" : "\n").utf8)
        }
        signed += Array("],\n".utf8)
        let signature = try rootKey.signature(for: DeviceKeyList.signingDomain + signed)
        return signed + Array("\"signature\":\"\(Base64.encode(signature))\"}\n".utf8)
    }

    /// Reads a signed list with the county root key as its raw 32 bytes (what `root.pub` holds
    /// in base64); see ``open(fileBytes:name:rootKey:)``.
    /// - Throws: ``DeviceKeyListError`` naming the file.
    public static func open(fileBytes: [UInt8], name: String, rootPublicKey raw: [UInt8]) throws -> DeviceKeyList {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw DeviceKeyListError.wrongSigner(name, signer: "?", root: "(not an Ed25519 key)")
        }
        return try open(fileBytes: fileBytes, name: name, rootKey: key)
    }

    /// Reads a signed list, checking the county root key's signature before anything else, then
    /// that every entry's fingerprint and device id belong to its key.
    /// - Parameters:
    ///   - fileBytes: the file.
    ///   - name: the file's name, for messages.
    ///   - rootKey: the county root key (pinned on the station, or the county's `root.pub`).
    /// - Throws: ``DeviceKeyListError`` naming the file.
    public static func open(fileBytes: [UInt8], name: String, rootKey: Curve25519.Signing.PublicKey) throws -> DeviceKeyList {
        guard fileBytes.count <= maxFileBytes else { throw DeviceKeyListError.tooLarge(name, limit: maxFileBytes) }
        var body = fileBytes[...]
        guard body.last == 0x0A else { throw DeviceKeyListError.damaged(name, why: "it does not end with the signature line") }
        body = body.dropLast()
        guard let lastNewline = body.lastIndex(of: 0x0A) else {
            throw DeviceKeyListError.damaged(name, why: "it has no signature line")
        }
        let signed = Array(body[...lastNewline])
        let last = body[(lastNewline + 1)...]
        let head = Array("\"signature\":\"".utf8), tail = Array("\"}".utf8)
        guard last.count > head.count + tail.count, last.starts(with: head), last.suffix(tail.count).elementsEqual(tail) else {
            throw DeviceKeyListError.damaged(name, why: "its last line is not \"signature\":\"…\"}")
        }
        let base64 = last.dropFirst(head.count).dropLast(tail.count)
        let base64Alphabet = { (b: UInt8) in
            (65...90).contains(b) || (97...122).contains(b) || (48...57).contains(b) || b == 43 || b == 47 || b == 61
        }
        guard base64.allSatisfy(base64Alphabet), let signature = Base64.decode(String(decoding: base64, as: UTF8.self)),
            signature.count == 64
        else { throw DeviceKeyListError.damaged(name, why: "its signature is not base64 of 64 bytes") }

        struct File: Decodable {
            var format: String
            var county: String
            var signer: String
            var issued_ms: Int64
            var devices: [Device]
            var signature: String
        }
        // The format and signer first, for a clear message; the signature before believing the rest.
        struct Head: Decodable {
            var format: String?
            var signer: String?
        }
        let decoder = JSONDecoder()
        guard let headFields = try? decoder.decode(Head.self, from: Data(fileBytes)) else {
            throw DeviceKeyListError.damaged(name, why: "it is not JSON")
        }
        guard headFields.format == formatName else { throw DeviceKeyListError.unsupportedFormat(name, format: headFields.format ?? "") }
        guard headFields.signer == KeyID(of: rootKey).description else {
            throw DeviceKeyListError.wrongSigner(name, signer: headFields.signer ?? "", root: KeyID(of: rootKey).description)
        }
        guard rootKey.isValidSignature(signature, for: signingDomain + signed) else { throw DeviceKeyListError.badSignature(name) }
        let file: File
        do { file = try decoder.decode(File.self, from: Data(fileBytes)) } catch {
            throw DeviceKeyListError.damaged(name, why: describe(decodingError: error))
        }
        for d in file.devices {
            guard let raw = d.rawKey else { throw DeviceKeyListError.damaged(name, why: "device \(d.id.prefix(64)): public_key is not a key") }
            guard KeyFingerprint(parsing: d.fingerprint) == KeyFingerprint(publicKey: raw) else {
                throw DeviceKeyListError.damaged(name, why: "device \(d.id.prefix(64)): the fingerprint is not its key's")
            }
        }
        return DeviceKeyList(county: file.county, issuedMs: file.issued_ms, devices: file.devices)
    }
}

/// Why a device key list was refused.
public enum DeviceKeyListError: Error, Equatable, LocalizedFailure {
    /// Not a readable list.
    case damaged(String, why: String)
    /// Larger than ``DeviceKeyList/maxFileBytes``.
    case tooLarge(String, limit: Int)
    /// Another format.
    case unsupportedFormat(String, format: String)
    /// Signed by a key other than the county root given.
    case wrongSigner(String, signer: String, root: String)
    /// The root signature does not verify: the list was altered.
    case badSignature(String)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .damaged(let f, let why): ("error.device_keys.damaged", ["file": f, "why": why])
        case .tooLarge(let f, let limit): ("error.device_keys.too_large", ["file": f, "limit": String(limit)])
        case .unsupportedFormat(let f, let format): ("error.device_keys.format", ["file": f, "format": String(format.prefix(64))])
        case .wrongSigner(let f, let s, let r): ("error.device_keys.signer", ["file": f, "signer": String(s.prefix(64)), "root": r])
        case .badSignature(let f): ("error.device_keys.signature", ["file": f])
        }
    }
}
