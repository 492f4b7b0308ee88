import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A device key an auditor expects evidence to be signed with (one `--expect-key`, or one
/// device of the county's list).
public struct ExpectedKey: Sendable, Equatable {
    /// The key.
    public var fingerprint: KeyFingerprint
    /// The device the county enrolled with it, when the county's list said so.
    public var device: String?
    /// When the county revoked the device, ms since 1970 UTC.
    public var revokedMs: Int64?
    /// What named the key: the file, or the fingerprint as given.
    public var source: String

    /// A key named by the auditor.
    public init(fingerprint: KeyFingerprint, device: String? = nil, revokedMs: Int64? = nil, source: String) {
        self.fingerprint = fingerprint
        self.device = device
        self.revokedMs = revokedMs
        self.source = source
    }
}

/// The device keys `fieldkit evidence verify` accepts. Empty means none was given: the bag's
/// own key is then checked only against itself, and the output says so.
public struct KeyPins: Sendable {
    /// The keys, in the order given.
    public var keys: [ExpectedKey]

    /// Pins these keys.
    public init(_ keys: [ExpectedKey] = []) { self.keys = keys }

    /// Whether no key was given.
    public var isEmpty: Bool { keys.isEmpty }

    /// The entry for a key: the one naming this device when there are several, else the first.
    public func match(_ fingerprint: KeyFingerprint, device: String?) -> ExpectedKey? {
        let all = keys.filter { $0.fingerprint == fingerprint }
        return all.first { $0.device != nil && $0.device == device } ?? all.first
    }

    /// Reads `--expect-key` values: each a file (a `device.pub`, a PEM public key, or the county's
    /// signed list of device keys from `fieldkit-county device keys`) or a fingerprint.
    /// - Parameters:
    ///   - values: the values as given.
    ///   - countyRoot: the county's `root.pub` (`--county-root`), to check a county list.
    ///   - stationHome: a site home whose pinned county root checks a county list when no
    ///     `countyRoot` is given.
    /// - Throws: ``KeyPinError``, ``DeviceKeyListError``, ``FileError``, ``StationError``.
    public static func load(_ values: [String], countyRoot: String? = nil, stationHome: String? = nil) throws -> KeyPins {
        var keys: [ExpectedKey] = []
        var root: Curve25519.Signing.PublicKey?
        func rootKey(for file: String) throws -> Curve25519.Signing.PublicKey {
            if let root { return root }
            let key: Curve25519.Signing.PublicKey
            if let countyRoot {
                let bytes = try readBounded(countyRoot, limit: 64 << 10)
                guard let raw = rawPublicKey(fromFile: bytes), let k = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                    throw KeyPinError.badRoot(countyRoot)
                }
                key = k
            } else if let stationHome {
                key = try Station(home: stationHome).rootKey
            } else {
                throw KeyPinError.noCountyRoot(file)
            }
            root = key
            return key
        }
        for value in values {
            if Files.exists(value) {
                let bytes = try readBounded(value, limit: DeviceKeyList.maxFileBytes)
                if bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") {
                    let list = try DeviceKeyList.open(fileBytes: bytes, name: value, rootKey: try rootKey(for: value))
                    for d in list.devices {
                        guard let raw = d.rawKey else { continue }  // open() has refused such a list already
                        keys.append(ExpectedKey(
                            fingerprint: KeyFingerprint(publicKey: raw), device: d.id, revokedMs: d.revoked_ms, source: value))
                    }
                } else if let raw = rawPublicKey(fromFile: bytes) {
                    keys.append(ExpectedKey(fingerprint: KeyFingerprint(publicKey: raw), source: value))
                } else if bytes.count < 256, let fingerprint = KeyFingerprint(parsing: String(decoding: bytes, as: UTF8.self)) {
                    keys.append(ExpectedKey(fingerprint: fingerprint, source: value))
                } else {
                    throw KeyPinError.fileNotAKey(value)
                }
            } else if let fingerprint = KeyFingerprint(parsing: value) {
                keys.append(ExpectedKey(fingerprint: fingerprint, source: fingerprint.description))
            } else {
                throw KeyPinError.notAKey(printableName(value))
            }
        }
        return KeyPins(keys)
    }

    /// The raw 32-byte Ed25519 key in a key file: base64 of the raw key (`device.pub`,
    /// `root.pub`) or a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, as in the bags and openssl).
    public static func rawPublicKey(fromFile bytes: [UInt8]) -> [UInt8]? {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("-----BEGIN PUBLIC KEY-----") {
            let body = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
                .filter { !$0.hasPrefix("-----") }.joined()
            guard let der = Base64.decode(body), der.count == 44, der.starts(with: ed25519SPKIPrefix) else { return nil }
            return Array(der.suffix(32))
        }
        guard bytes.count < 128, let raw = Base64.decode(text), raw.count == 32 else { return nil }
        return raw
    }

    /// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes.
    static let ed25519SPKIPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
}

/// Why an `--expect-key` or `--county-root` value was refused.
public enum KeyPinError: Error, Equatable, LocalizedFailure {
    /// Neither a file nor a fingerprint.
    case notAKey(String)
    /// A file that holds no key, fingerprint or county list.
    case fileNotAKey(String)
    /// A county list given with no county root key to check it.
    case noCountyRoot(String)
    /// A `--county-root` file that is not a key.
    case badRoot(String)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .notAKey(let v): ("error.keys.not_a_key", ["value": v])
        case .fileNotAKey(let f): ("error.keys.file_not_a_key", ["file": f])
        case .noCountyRoot(let f): ("error.keys.no_root", ["file": f])
        case .badRoot(let f): ("error.keys.bad_root", ["file": f])
        }
    }
}

/// Reads a whole file of at most `limit` bytes, refusing a bigger one by name.
/// - Throws: ``FileError`` naming the path.
func readBounded(_ path: String, limit: Int) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError.cannotRead(path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    switch readAll(fd, limit: limit) {
    case .bytes(let b): return b
    case .tooLarge: throw FileError.cannotRead(path, reason: "larger than \(limit) bytes")
    case .notRegular: throw FileError.cannotRead(path, reason: "not a regular file")
    case .failed(let why): throw FileError.cannotRead(path, reason: why)
    }
}

/// What reading a descriptor to its end gave.
enum BoundedRead {
    case bytes([UInt8])
    case tooLarge
    case notRegular
    case failed(String)
}

/// Reads a regular file's descriptor to its end, never more than `limit` bytes: the size is
/// checked before and while reading (a file growing meanwhile is caught too).
func readAll(_ fd: Int32, limit: Int) -> BoundedRead {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return .failed(String(cString: strerror(errno))) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { return .notRegular }
    guard st.st_size <= limit else { return .tooLarge }
    var out: [UInt8] = []
    out.reserveCapacity(Int(st.st_size))
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failed(String(cString: strerror(errno)))
        }
        if n == 0 { return .bytes(out) }
        guard out.count + n <= limit else { return .tooLarge }
        out.append(contentsOf: buffer[0..<n])
    }
}
