import Crypto
import FoundationEssentials

/// The sync wire format shared by the site and the county: events as JSON, signed requests,
/// signed receipts. The SyncProtocol article of this catalog is the specification.
public enum SyncWire {
    /// Prefix of the bytes a device signs for a request.
    public static let requestDomain: [UInt8] = Array("FKRQ1".utf8) + [0]
    /// Prefix of the bytes the county signs for a receipt.
    public static let receiptDomain: [UInt8] = Array("FKRC1".utf8) + [0]
    /// Prefix of the bytes a device signs to prove it holds its key when enrolling.
    public static let enrollDomain: [UInt8] = Array("FKEN1".utf8) + [0]

    /// Request headers.
    public enum Header {
        /// The device id.
        public static let device = "FieldKit-Device"
        /// The device's clock when it sent the request, milliseconds since 1970 UTC.
        public static let time = "FieldKit-Time"
        /// Ed25519 by the device key over ``SyncWire/requestMessage(method:path:device:time:idempotencyKey:body:)``, base64.
        public static let signature = "FieldKit-Signature"
        /// Derived from the batch's sequence range, so a retry after a crash reuses it.
        public static let idempotencyKey = "Idempotency-Key"
    }

    /// The upload path for a device.
    public static func eventsPath(device: String) -> String { "/v1/devices/\(device)/events" }
    /// The trust bundle path for a site.
    public static func bundlePath(site: String) -> String { "/v1/sites/\(site)/bundle" }
    /// Where a restored device asks for the county's high-water (GET, device-signed; a receipt).
    public static func highWaterPath(device: String) -> String { "/v1/devices/\(device)/high-water" }
    /// The enrollment path.
    public static let enrollPath = "/v1/enroll"

    /// The idempotency key of a batch: device and sequence range.
    public static func idempotencyKey(device: String, from: Int64, to: Int64) -> String { "\(device):\(from)-\(to)" }

    /// `FKRQ1\0` then method, path, device, time, idempotency key and the body's SHA-256 in
    /// lower-case hex, each followed by a line feed.
    public static func requestMessage(
        method: String, path: String, device: String, time: Int64, idempotencyKey: String, body: [UInt8]
    ) -> [UInt8] {
        var m = requestDomain
        for part in [method, path, device, String(time), idempotencyKey, hexString(SHA256.hash(data: body))] {
            m.append(contentsOf: part.utf8)
            m.append(0x0A)
        }
        return m
    }

    /// `FKEN1\0` then code, site, device and the public key (base64), each followed by a line feed.
    public static func enrollMessage(code: String, site: String, device: String, publicKey: String) -> [UInt8] {
        var m = enrollDomain
        for part in [code, site, device, publicKey] {
            m.append(contentsOf: part.utf8)
            m.append(0x0A)
        }
        return m
    }

    /// A JSON decoder for the wire types.
    public static func decoder() -> WireDecoder { WireDecoder() }

    /// A JSON encoder with sorted keys (stable bytes for the same value).
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}

/// One event as it travels: every column the hash covers, plus the hash.
public struct WireEvent: Codable, Sendable, Equatable {
    /// Gapless per device, from 1.
    public var seq: Int64
    /// Random UUID, lower-case.
    public var uuid: String
    /// The recording device.
    public var device_id: String
    /// What happened (``EventKind`` raw value).
    public var kind: String
    /// `in` or `out`.
    public var direction: String?
    /// The voucher, when one was read.
    public var voucher_id: UInt64?
    /// The class, when known.
    public var class_id: UInt32?
    /// The local day of the session, `YYYY-MM-DD`.
    public var class_day: String?
    /// The session's index in the class's windows.
    public var session_index: Int?
    /// The refusal code or the manual entry's reason.
    public var reason: String?
    /// Words for people.
    public var note: String?
    /// The scanned digits, or a keyed digest of malformed input.
    public var code: String?
    /// Sorted, comma-separated flags.
    public var flags: String
    /// Wall-clock time, ms since 1970 UTC.
    public var wall_ms: Int64
    /// The site's UTC offset in seconds.
    public var utc_offset: Int
    /// The kernel's boot id.
    public var boot_id: String
    /// Monotonic clock, ns since boot.
    public var mono_ns: Int64
    /// Lower-case hex, 64 digits.
    public var prev_hash: String
    /// Lower-case hex, 64 digits.
    public var hash: String

    /// The wire form of a stored event.
    public init(_ e: SiteEvent) {
        seq = e.seq
        uuid = e.uuid
        device_id = e.deviceID
        kind = e.kind.rawValue
        direction = e.direction?.rawValue
        voucher_id = e.voucherID
        class_id = e.classID
        class_day = e.classDay?.description
        session_index = e.sessionIndex
        reason = e.reason
        note = e.note
        code = e.code
        flags = e.flags
        wall_ms = e.wallTime.milliseconds
        utc_offset = e.utcOffset
        boot_id = e.bootID
        mono_ns = e.monotonicNanos
        prev_hash = hexString(e.prevHash)
        hash = hexString(e.hash)
    }

    /// The fields in hashing order, exactly as the site stored them.
    public var canonicalFields: [CanonicalValue] {
        [
            .integer(seq), .text(uuid), .text(device_id), .text(kind), .optionalText(direction),
            voucher_id.map { .integer(Int64(bitPattern: $0)) } ?? .null,
            class_id.map { .integer(Int64($0)) } ?? .null, .optionalText(class_day),
            session_index.map { .integer(Int64($0)) } ?? .null, .optionalText(reason), .optionalText(note),
            .optionalText(code), .text(flags), .integer(wall_ms), .integer(Int64(utc_offset)),
            .text(boot_id), .integer(mono_ns), .blob(hexBytes(prev_hash) ?? []),
        ]
    }

    /// Whether the hash is the hash of the fields (the event was not altered on the way).
    public var hashMatches: Bool {
        guard let claimed = hexBytes(hash), claimed.count == 32, hexBytes(prev_hash)?.count == 32 else { return false }
        return EventHash.compute(canonicalFields) == claimed
    }
}

/// A run of consecutive events from one device: the body of an upload.
public struct EventBatch: Codable, Sendable, Equatable {
    /// The device whose events these are.
    public var device: String
    /// The first sequence number.
    public var from: Int64
    /// The last sequence number.
    public var to: Int64
    /// The events, consecutive.
    public var events: [WireEvent]

    /// A batch of events, which must be consecutive.
    public init(device: String, events: [WireEvent]) {
        self.device = device
        self.from = events.first?.seq ?? 0
        self.to = events.last?.seq ?? 0
        self.events = events
    }

    /// This batch's idempotency key.
    public var idempotencyKey: String { SyncWire.idempotencyKey(device: device, from: from, to: to) }
}

/// The county's signed statement that it holds a device's log up to a sequence number.
public struct Receipt: Codable, Sendable, Equatable {
    /// The device the receipt is for.
    public var device: String
    /// Everything up to here is held by the county.
    public var acked_seq: Int64
    /// The hash of event `acked_seq` (lower-case hex; zeros when nothing is held).
    public var head_hash: String
    /// The county's clock when it answered.
    public var server_ms: Int64
    /// The device's clock as the request stated it (for the clock offset).
    public var device_ms: Int64
    /// Ed25519 by the county root key over ``message``, base64.
    public var signature: String

    /// `FKRC1\0`, device (4-byte big-endian length + UTF-8), acked seq (8 bytes), head hash (32),
    /// server ms (8), device ms (8).
    public var message: [UInt8] {
        var m = SyncWire.receiptDomain
        m.appendBigEndian(UInt64(device.utf8.count), bytes: 4)
        m.append(contentsOf: device.utf8)
        m.appendBigEndian(UInt64(bitPattern: acked_seq), bytes: 8)
        m.append(contentsOf: hexBytes(head_hash) ?? [])
        m.appendBigEndian(UInt64(bitPattern: server_ms), bytes: 8)
        m.appendBigEndian(UInt64(bitPattern: device_ms), bytes: 8)
        return m
    }

    /// Signs a receipt with the county root key.
    public init(
        device: String, ackedSeq: Int64, headHash: [UInt8], serverMs: Int64, deviceMs: Int64,
        key: Curve25519.Signing.PrivateKey
    ) throws {
        self.device = device
        self.acked_seq = ackedSeq
        self.head_hash = hexString(headHash)
        self.server_ms = serverMs
        self.device_ms = deviceMs
        self.signature = ""
        self.signature = Base64.encode(try key.signature(for: message))
    }

    /// Whether the county root key signed it and the head hash is well formed.
    public func verify(with key: Curve25519.Signing.PublicKey) -> Bool {
        guard hexBytes(head_hash)?.count == 32, let sig = Base64.decode(signature) else { return false }
        return key.isValidSignature(sig, for: message)
    }
}

/// An upload carried on a USB stick: the same signed request as over HTTP, in one file.
public struct TransferFile: Codable, Sendable, Equatable {
    /// `fieldkit-transfer/1`.
    public var format: String
    /// The device that wrote it.
    public var device: String
    /// The device clock when written.
    public var time: Int64
    /// The batch's idempotency key.
    public var idempotency_key: String
    /// Base64 of the request signature (as the HTTP header would carry it).
    public var signature: String
    /// The batch, as the exact bytes that were signed (base64).
    public var body: String

    /// The format name.
    public static let formatName = "fieldkit-transfer/1"

    /// Builds a transfer file.
    public init(format: String, device: String, time: Int64, idempotency_key: String, signature: String, body: String) {
        self.format = format
        self.device = device
        self.time = time
        self.idempotency_key = idempotency_key
        self.signature = signature
        self.body = body
    }
}

/// What a device sends to enroll.
public struct EnrollRequest: Codable, Sendable, Equatable {
    /// The one-time code as typed.
    public var code: String
    /// The station's site.
    public var site: String
    /// The station's device id.
    public var device: String
    /// Ed25519 public key, base64 of the 32 raw bytes.
    public var public_key: String
    /// Proof of the private key: Ed25519 over ``SyncWire/enrollMessage(code:site:device:publicKey:)``, base64.
    public var signature: String

    /// Builds a request.
    public init(code: String, site: String, device: String, public_key: String, signature: String) {
        self.code = code
        self.site = site
        self.device = device
        self.public_key = public_key
        self.signature = signature
    }
}

/// The county's answer to an enrollment.
public struct EnrollResponse: Codable, Sendable, Equatable {
    /// The enrolled device.
    public var device: String
    /// Its site.
    public var site: String
    /// The county code.
    public var county: String
    /// The county root public key, base64 (the site checks it is the one it pinned).
    public var county_public_key: String

    /// Builds an answer.
    public init(device: String, site: String, county: String, county_public_key: String) {
        self.device = device
        self.site = site
        self.county = county
        self.county_public_key = county_public_key
    }
}

/// An `application/problem+json` body (RFC 9457) with the fields this API adds.
public struct Problem: Codable, Sendable, Equatable, Error {
    /// `https://fieldkit.example/problems/<name>`.
    public var type: String
    /// A short summary in English.
    public var title: String
    /// The HTTP status.
    public var status: Int
    /// What happened, naming the value.
    public var detail: String?
    /// For a gap: the sequence the county expects next.
    public var expected_seq: Int64?
    /// For `overloaded` and `too-many-attempts`: seconds to wait (the Retry-After header, not in the body).
    public var retryAfter: Int64?
    /// Answered before the body was read: the server asks the client to close the connection.
    public var closeConnection = false

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, expected_seq
    }

    /// The base of every problem type.
    public static let typeBase = "https://fieldkit.example/problems/"

    /// Builds a problem.
    public init(_ name: String, status: Int, title: String, detail: String? = nil, expectedSeq: Int64? = nil) {
        self.type = Problem.typeBase + name
        self.title = title
        self.status = status
        self.detail = detail
        self.expected_seq = expectedSeq
    }

    /// The short name at the end of ``type``.
    public var name: String { type.hasPrefix(Problem.typeBase) ? String(type.dropFirst(Problem.typeBase.count)) : type }
}

/// Bytes from lower-case or upper-case hex; nil when it is not hex.
public func hexBytes(_ text: String) -> [UInt8]? {
    let u = Array(text.utf8)
    guard u.count % 2 == 0 else { return nil }
    func v(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count {
        guard let hi = v(u[i]), let lo = v(u[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

/// Decodes wire types from bytes.
public struct WireDecoder {
    /// Decodes a value; throws when the bytes are not that value as JSON.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}

// MARK: - Fast JSON

extension WireEvent {
    /// Appends this event as JSON: the same bytes as ``SyncWire/encoder()`` makes (keys sorted,
    /// absent fields left out, slashes not escaped), written directly. Sync sends and stores
    /// hundreds of thousands of events; the general encoder was most of the time.
    public func appendJSON(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            appendJSONString(value, to: &out)
        }
        func number(_ name: StaticString, _ value: (some BinaryInteger)?) {
            guard let value else { return }
            key(name)
            out.append(contentsOf: String(value).utf8)
        }
        string("boot_id", boot_id)
        string("class_day", class_day)
        number("class_id", class_id)
        string("code", code)
        string("device_id", device_id)
        string("direction", direction)
        string("flags", flags)
        string("hash", hash)
        string("kind", kind)
        number("mono_ns", mono_ns)
        string("note", note)
        string("prev_hash", prev_hash)
        string("reason", reason)
        number("seq", seq)
        number("session_index", session_index)
        number("utc_offset", utc_offset)
        string("uuid", uuid)
        number("voucher_id", voucher_id)
        number("wall_ms", wall_ms)
        out.append(UInt8(ascii: "}"))
    }
}

extension EventBatch {
    /// The batch as JSON, the same bytes as ``SyncWire/encoder()`` makes, written directly.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events.count * 480 + 64)
        out.append(contentsOf: Array("{\"device\":".utf8))
        appendJSONString(device, to: &out)
        out.append(contentsOf: Array(",\"events\":[".utf8))
        for (i, e) in events.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            e.appendJSON(to: &out)
        }
        out.append(contentsOf: Array("],\"from\":\(from),\"to\":\(to)}".utf8))
        return out
    }
}

/// Appends a JSON string literal: quotes, backslashes and control characters escaped as
/// JSONEncoder escapes them; everything else as UTF-8.
func appendJSONString(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    let hex = Array("0123456789abcdef".utf8)
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
        case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
        case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
        case 0x08: out.append(contentsOf: [92, UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [92, UInt8(ascii: "f")])
        case 0..<0x20: out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
        default: out.append(b)
        }
    }
    out.append(UInt8(ascii: "\""))
}
