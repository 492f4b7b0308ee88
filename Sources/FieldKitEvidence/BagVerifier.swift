import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// One thing `fieldkit evidence verify` found, as a translation key and its values.
public struct BagFinding: Sendable, Equatable, Encodable {
    /// The key in the `evidence` tables (`verify.checksum`, …).
    public var key: String
    /// The values it names (the file, the line, …).
    public var values: [String: String]
}

/// Which key signed a bag, and whether the auditor's list of expected keys holds it.
public struct BagKey: Sendable, Equatable, Encodable {
    /// The device the bag says made it (`FieldKit-Device` in bag-info.txt).
    public var device: String?
    /// ``KeyFingerprint`` of `device-public-key.pem`, the key the signature is checked with.
    public var fingerprint: String?
    /// Whether that key is one of the `--expect-key` keys. False when none was given: the bag
    /// was then only checked against the key it carries, which anyone can make.
    public var pinned: Bool
    /// The `--expect-key` value that named the key.
    public var expectedBy: String?
    /// When the county revoked the device (from its list of device keys), ms since 1970 UTC.
    public var revokedMs: Int64?

    enum CodingKeys: String, CodingKey {
        case device, fingerprint, pinned
        case expectedBy = "expected_by"
        case revokedMs = "revoked_ms"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(device, forKey: .device)  // null when unknown, never left out
        try c.encode(fingerprint, forKey: .fingerprint)
        try c.encode(pinned, forKey: .pinned)
        try c.encodeIfPresent(expectedBy, forKey: .expectedBy)
        try c.encodeIfPresent(revokedMs, forKey: .revokedMs)
    }
}

/// What was checked of one bag.
public struct BagCheck: Sendable, Encodable {
    /// The bag's folder name.
    public var bag: String
    /// The device and key that signed it.
    public var key = BagKey(pinned: false)
    /// Failures: any one makes the bag untrustworthy.
    public var problems: [BagFinding] = []
    /// Notes that are not failures (a recording not reachable from here, a key not pinned).
    public var notes: [BagFinding] = []
    /// Payload files checked against the manifest.
    public var files = 0
    /// Events whose chain was checked (records bags).
    public var events: Int?
    /// Device checkpoints checked against the chain.
    public var checkpoints: Int?
    /// Fetched recordings found and checked.
    public var fetched = 0
    /// Whether nothing failed.
    public var ok: Bool { problems.isEmpty }
}

/// Checks bags as an auditor would, without trusting the PC that wrote them: BagIt structure,
/// every checksum, Payload-Oxum, the device signature over the tag manifest and which key made
/// it (against the keys the auditor expects), the hash chain of the event log inside and the
/// device checkpoints against it, and, for video bags, the recordings at their fetch.txt
/// addresses when they can be reached.
///
/// Nothing in a bag is trusted to be well formed: every path from its text files must stay
/// inside the bag, links are reported and never followed, text files are read with a size
/// bound, sizes are added with overflow checks. Only unreadable input throws; everything else
/// is a finding.
public enum BagVerifier {
    /// Bounds on the text files of a bag, in bytes.
    public enum Limits {
        /// `bagit.txt`, `device-public-key.pem`.
        public static let small = 64 << 10
        /// `bag-info.txt`, `data/class.json`.
        public static let info = 1 << 20
        /// Manifests, `fetch.txt`, `data/checkpoints.jsonl`.
        public static let manifest = 64 << 20
        /// `data/events.jsonl` (read as a stream, a line at a time).
        public static let events: Int64 = 1 << 30
        /// One line of `data/events.jsonl`.
        public static let eventLine = 1 << 20
    }

    /// Verifies a bag folder, or every bag in a `.tar` archive (or in a folder of bags).
    ///
    /// An archive is extracted into a private temporary folder, which is removed on return,
    /// on an error, and on SIGINT, SIGTERM or SIGHUP.
    /// - Parameters:
    ///   - path: a bag folder, a folder of bags, or a tar archive of bags.
    ///   - pins: the device keys expected to have signed (`--expect-key`); none by default.
    /// - Throws: only when the input cannot be read at all (``TarError``, ``FileError``).
    public static func verify(_ path: String, expecting pins: KeyPins = KeyPins()) throws -> [BagCheck] {
        try verify(path, expecting: pins, temporaryIn: TemporaryFolder.base)
    }

    /// ``verify(_:expecting:)`` extracting archives under `base` (tests give each their own).
    static func verify(_ path: String, expecting pins: KeyPins, temporaryIn base: String) throws -> [BagCheck] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileError.cannotRead(path, reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFREG {
            let temp = try TemporaryFolder(prefix: "fieldkit-verify", in: base)
            defer { temp.remove() }
            let skipped = try extractTar(path, into: temp.path)
            let bags = try listFolder(temp.path).filter { $0.isDirectory && isBag(temp.path + "/" + $0.relative) }
            guard !bags.isEmpty else { throw TarError.notTar(path, offset: 0) }
            return bags.map { entry in
                var c = check(temp.path + "/" + entry.relative, name: entry.relative, pins: pins)
                for link in skipped where link.hasPrefix(entry.relative + "/") {
                    c.problems.append(BagFinding(
                        key: "verify.archive_link", values: ["file": printableName(link.dropFirst(entry.relative.count + 1))]))
                }
                return c
            }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw FileError.cannotRead(path, reason: "neither a folder nor a file") }
        if !isBag(path) {
            let bags = try listFolder(path).filter { $0.isDirectory && isBag(path + "/" + $0.relative) }
            if !bags.isEmpty { return bags.map { check(path + "/" + $0.relative, name: $0.relative, pins: pins) } }
        }
        return [check(path, name: String(path.split(separator: "/").last ?? ""), pins: pins)]
    }

    /// Whether a folder has a `bagit.txt` (a regular file, not a link).
    static func isBag(_ folder: String) -> Bool {
        var st = stat()
        return lstat(folder + "/bagit.txt", &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// Checks one bag folder.
    /// - Parameters:
    ///   - root: the bag's folder.
    ///   - name: its name in the findings.
    ///   - pins: the device keys expected to have signed it; none by default.
    public static func check(_ root: String, name: String, pins: KeyPins = KeyPins()) -> BagCheck {
        var c = BagCheck(bag: printableName(name))
        func fail(_ key: String, _ values: [String: String] = [:]) { c.problems.append(BagFinding(key: key, values: values)) }
        func note(_ key: String, _ values: [String: String] = [:]) { c.notes.append(BagFinding(key: key, values: values)) }
        guard let bag = BagFolder(root) else {
            fail("verify.unreadable", ["file": printableName(root)])
            return c
        }
        func bytes(_ file: String, limit: Int, required: Bool = true) -> [UInt8]? {
            switch bag.read(file, limit: limit) {
            case .bytes(let b): return b
            case .missing: if required { fail("verify.missing", ["file": file]) }
            case .tooLarge: fail("verify.too_large", ["file": file, "limit": String(limit)])
            case .link: fail("verify.link", ["file": file])
            case .unreadable: fail("verify.unreadable", ["file": file])
            }
            return nil
        }
        func text(_ file: String, limit: Int, required: Bool = true) -> String? {
            bytes(file, limit: limit, required: required).map { String(decoding: $0, as: UTF8.self) }
        }
        func line(_ s: some StringProtocol) -> String { printableName(s) }

        guard let bagit = text("bagit.txt", limit: Limits.small) else { return c }
        if !bagit.contains("BagIt-Version: 1.0") { fail("verify.bagit_version", ["file": "bagit.txt"]) }
        let info = text("bag-info.txt", limit: Limits.info) ?? ""
        guard let manifestText = text("manifest-sha256.txt", limit: Limits.manifest) else { return c }

        // fetch.txt: where recordings live outside the bag
        var fetched: [String: (url: String, size: Int64)] = [:]
        let fetchText = text("fetch.txt", limit: Limits.manifest, required: false)
        for l in (fetchText ?? "").split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let parts = l.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, case .value(let size) = TarReader.decimal(parts[1].utf8) else {
                fail("verify.fetch_line", ["line": line(l)])
                continue
            }
            let file = parts[2].trimmingWhitespace()
            guard isPayloadPath(file) else {
                fail("verify.outside", ["file": "fetch.txt", "line": line(l)])
                continue
            }
            guard fetched[file] == nil else {
                fail("verify.duplicate", ["file": "fetch.txt", "path": line(file)])
                continue
            }
            fetched[file] = (parts[0], size)
        }

        // Payload: every manifest line, every file under data/ listed
        var listed: Set<String> = []
        var oxum = PayloadSize()
        for l in manifestText.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let parts = l.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, isSHA256(parts[0]) else {
                fail("verify.manifest_line", ["line": line(l)])
                continue
            }
            let (expected, file) = (parts[0].lowercased(), parts[1].trimmingWhitespace())
            guard isPayloadPath(file) else {
                fail("verify.outside", ["file": "manifest-sha256.txt", "line": line(l)])
                continue
            }
            guard listed.insert(file).inserted else {
                fail("verify.duplicate", ["file": "manifest-sha256.txt", "path": line(file)])
                continue
            }
            switch bag.sha256(file) {
            case .digest(let size, let digest):
                oxum.add(size)
                c.files += 1
                if hexString(digest) != expected { fail("verify.checksum", ["file": line(file)]) }
            case .link:
                fail("verify.link", ["file": line(file)])
            case .unreadable:
                fail("verify.unreadable", ["file": line(file)])
            case .missing:
                guard let f = fetched[file] else {
                    fail("verify.payload_missing", ["file": line(file)])
                    continue
                }
                oxum.add(f.size)
                c.files += 1
                guard let source = EvidenceBag.path(ofFileURL: f.url), Files.exists(source) else {
                    note("verify.not_reachable", ["file": line(file), "url": line(f.url)])
                    continue
                }
                // At most one byte more than fetch.txt says: a longer file is known without reading it all.
                let (stop, overflow) = f.size.addingReportingOverflow(1)
                if let (size, digest) = BagFolder.sha256(external: source, stopAfter: overflow ? f.size : stop) {
                    c.fetched += 1
                    if hexString(digest) != expected || size != f.size {
                        fail("verify.fetched_changed", ["file": line(file), "url": line(source)])
                    }
                } else {
                    fail("verify.unreadable", ["file": line(source)])
                }
            }
        }
        var oxumFiles = c.files
        switch bag.list("data") {
        case .success(let tree):
            for e in tree where !e.isDirectory && !listed.contains("data/" + e.relative) {
                if e.kind == .other {
                    fail("verify.link", ["file": line("data/" + e.relative)])
                    continue
                }
                fail("verify.unlisted", ["file": line("data/" + e.relative)])
                oxum.add(e.size)
                oxumFiles += 1
            }
        case .failure(.link): fail("verify.link", ["file": "data"])
        case .failure(.missing), .failure(.notFolder): fail("verify.missing", ["file": "data/"])
        case .failure(.unreadable): fail("verify.unreadable", ["file": "data/"])
        }
        if oxum.overflowed {
            fail("verify.size_overflow")
        } else if let stated = field("Payload-Oxum", in: info) {
            let found = "\(oxum.bytes).\(oxumFiles)"
            if stated != found { fail("verify.oxum", ["expected": line(stated), "found": found]) }
        } else {
            fail("verify.no_oxum")
        }

        // Tag manifest, and the device signature over it
        guard let tagBytes = bytes("tagmanifest-sha256.txt", limit: Limits.manifest) else { return c }
        let tagText = String(decoding: tagBytes, as: UTF8.self)
        var tagListed: Set<String> = []
        for l in tagText.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let parts = l.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, isSHA256(parts[0]) else {
                fail("verify.manifest_line", ["line": line(l)])
                continue
            }
            let file = parts[1].trimmingWhitespace()
            guard BagFolder.components(file) != nil else {
                fail("verify.outside", ["file": "tagmanifest-sha256.txt", "line": line(l)])
                continue
            }
            tagListed.insert(file)
            switch bag.sha256(file) {
            case .digest(_, let digest):
                if hexString(digest) != parts[0].lowercased() { fail("verify.checksum", ["file": line(file)]) }
            case .missing: fail("verify.missing", ["file": line(file)])
            case .link: fail("verify.link", ["file": line(file)])
            case .unreadable: fail("verify.unreadable", ["file": line(file)])
            }
        }
        // What the signature covers must include every file that says what the bag is.
        for file in ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "device-public-key.pem"] + (fetchText == nil ? [] : ["fetch.txt"])
        where !tagListed.contains(file) {
            fail("verify.tag_unlisted", ["file": file])
        }
        let pem = bytes("device-public-key.pem", limit: Limits.small, required: false)
        let key = pem.flatMap(KeyPins.rawPublicKey(fromFile:)).flatMap { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }
        if pem != nil && key == nil { fail("verify.bad_key", ["file": "device-public-key.pem"]) }
        if let key, let signature = bytes("tagmanifest-sha256.txt.sig", limit: 1024, required: false) {
            if !key.isValidSignature(signature, for: tagBytes) { fail("verify.signature") }
        } else {
            fail("verify.no_signature")
        }

        // Which device and key: named, tied together, and against the keys expected
        let device = deviceID(in: info)
        let fingerprint = key.map { KeyFingerprint(of: $0) }
        c.key.device = device.map(line)
        c.key.fingerprint = fingerprint?.description
        let shownDevice = device.map(line) ?? "?"
        let shownKey = fingerprint?.description ?? "?"
        if device == nil {
            fail("verify.no_device")
        } else if let device, let key, !deviceIDMatches(device, key: key) {
            fail("verify.device_key", ["device": shownDevice, "fingerprint": shownKey, "kid": KeyID(of: key).description])
        }
        var revokedMs: Int64?
        if pins.isEmpty {
            note("verify.key_not_pinned", ["device": shownDevice, "fingerprint": shownKey])
        } else if let fingerprint, let expected = pins.match(fingerprint, device: device) {
            c.key.pinned = true
            c.key.expectedBy = line(expected.source)
            if let listed = expected.device, listed != device {
                fail("verify.key_other_device", ["device": shownDevice, "listed": line(listed), "fingerprint": shownKey])
            }
            if let revoked = expected.revokedMs {
                revokedMs = revoked
                c.key.revokedMs = revoked
                note("verify.key_revoked", ["device": expected.device.map(line) ?? shownDevice, "time": timeText(revoked)])
                if let bagged = field("Bagging-Date", in: info).flatMap(ClassDay.init(iso:)), let revokedDay = day(revoked),
                    bagged > revokedDay
                {
                    fail("verify.after_revocation_bagged", ["date": bagged.description, "time": timeText(revoked)])
                }
            }
        } else {
            fail("verify.key_not_expected", ["device": shownDevice, "fingerprint": shownKey])
        }

        // The class file names the same device
        if let classBytes = bytes("data/class.json", limit: Limits.info, required: false), let device {
            struct ClassFile: Decodable { var device_id: String? }
            if let claimed = (try? SyncWire.decoder().decode(ClassFile.self, from: classBytes))?.device_id, claimed != device {
                fail("verify.class_device", ["found": line(claimed), "device": shownDevice])
            }
        }

        // The log inside: the chain from the first event, and the checkpoints on it
        switch bag.open("data/events.jsonl") {
        case .file(let fd):
            defer { close(fd) }
            let checkpoints = text("data/checkpoints.jsonl", limit: Limits.manifest, required: false) ?? ""
            checkChain(
                fd: fd, checkpoints: checkpoints, key: key, device: device, revokedMs: revokedMs, into: &c)
        case .missing: break
        case .link: fail("verify.link", ["file": "data/events.jsonl"])
        case .notRegular, .failed: fail("verify.unreadable", ["file": "data/events.jsonl"])
        }
        return c
    }

    /// A `Label: value` of bag-info.txt.
    static func field(_ name: String, in info: String) -> String? {
        for line in info.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingWhitespace()
        }
        return nil
    }

    /// The device a bag names: `FieldKit-Device` in bag-info.txt, or, in bags written before that
    /// field, the `device …` at the end of `Internal-Sender-Description`.
    static func deviceID(in info: String) -> String? {
        if let d = field(EvidenceBag.deviceField, in: info), !d.isEmpty { return d }
        guard let description = field("Internal-Sender-Description", in: info), let space = description.lastIndex(of: " "),
            description[..<space].hasSuffix("; device")
        else { return nil }
        let d = String(description[description.index(after: space)...])
        return d.isEmpty ? nil : d
    }

    /// Whether a device id `SITE-<key id>` ends in the key id of this key.
    static func deviceIDMatches(_ device: String, key: Curve25519.Signing.PublicKey) -> Bool {
        guard let dash = device.lastIndex(of: "-"), dash > device.startIndex else { return false }
        return device[device.index(after: dash)...] == KeyID(of: key).description
    }

    /// Whether text is 64 hex digits.
    static func isSHA256(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }

    /// Whether a manifest or fetch.txt path names a payload file inside the bag: `data/…`, with
    /// no absolute, empty, `.` or `..` part.
    static func isPayloadPath(_ path: String) -> Bool {
        guard let parts = BagFolder.components(path) else { return false }
        return parts.count >= 2 && parts[0] == "data"
    }

    /// The latest time formatted here: year 9999. Anything later (or before 1970) is shown as a number.
    static let latestShownMs: Int64 = 253_402_300_799_999

    /// A time from a bag or a list for a message, in China time; a number when out of range
    /// (no arithmetic on a hostile value).
    static func timeText(_ ms: Int64) -> String {
        (0...latestShownMs).contains(ms) ? Timestamp(milliseconds: ms).localDescription() : "\(ms) ms"
    }

    /// The local (China) day of a time in range.
    static func day(_ ms: Int64) -> ClassDay? {
        (0...latestShownMs).contains(ms) ? Timestamp(milliseconds: ms).classDay() : nil
    }

    /// Checks the event log's hash chain from its first event, read a line at a time, and the
    /// device checkpoints against it.
    static func checkChain(
        fd: Int32, checkpoints: String, key: Curve25519.Signing.PublicKey?, device: String?, revokedMs: Int64?, into c: inout BagCheck
    ) {
        struct Line: Decodable {
            var device: String
            var head_hash: String
            var reason: String
            var seq: Int64
            var signature: String
            var signed_ms: Int64
        }
        var parsed: [(Line, Int)] = []
        for (i, text) in checkpoints.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            guard let cp = try? SyncWire.decoder().decode(Line.self, from: Array(text.utf8)) else {
                c.problems.append(BagFinding(key: "verify.checkpoint_unreadable", values: ["line": printableName(text.prefix(60))]))
                continue
            }
            parsed.append((cp, i + 1))
        }
        let wanted = Set(parsed.map(\.0.seq))

        var prev = hexString(SiteEvent.genesisHash)
        var hashes: [Int64: String] = [:]
        var count = 0
        var expectedSeq: Int64 = 1
        var otherDevice = false
        var afterRevocation = false
        var chainWhole = true
        let reader = LineReader(fd: fd, maxLine: Limits.eventLine, maxTotal: Limits.events)
        while chainWhole {
            let next = reader.next()
            guard case .line(let bytes) = next else {
                if case .tooLong = next {
                    c.problems.append(BagFinding(key: "verify.event_unreadable", values: ["line": String(count + 1)]))
                } else if case .tooLarge = next {
                    c.problems.append(BagFinding(
                        key: "verify.too_large", values: ["file": "data/events.jsonl", "limit": String(Limits.events)]))
                } else if case .failed = next {
                    c.problems.append(BagFinding(key: "verify.unreadable", values: ["file": "data/events.jsonl"]))
                }
                break
            }
            guard !bytes.isEmpty else { continue }
            guard let e = try? SyncWire.decoder().decode(WireEvent.self, from: bytes) else {
                c.problems.append(BagFinding(key: "verify.event_unreadable", values: ["line": String(count + 1)]))
                chainWhole = false
                break
            }
            // A `restored` event may jump past events the county holds, when it says so.
            let declaredJump =
                e.seq > expectedSeq && e.kind == EventKind.restored.rawValue
                && RestoreStatement(note: e.note).map { $0.baseSeq == expectedSeq - 1 && $0.eventSeq == e.seq } == true
            guard e.seq == expectedSeq || declaredJump else {
                c.problems.append(BagFinding(key: "verify.chain_gap", values: ["seq": String(e.seq), "expected": String(expectedSeq)]))
                chainWhole = false
                break
            }
            guard e.prev_hash == prev, e.hashMatches else {
                c.problems.append(BagFinding(key: "verify.chain_broken", values: ["seq": String(e.seq)]))
                chainWhole = false
                break
            }
            if let device, e.device_id != device, !otherDevice {
                otherDevice = true
                c.problems.append(BagFinding(
                    key: "verify.event_device", values: ["seq": String(e.seq), "found": printableName(e.device_id), "device": printableName(device)]))
            }
            if let revokedMs, e.wall_ms > revokedMs, !afterRevocation {
                afterRevocation = true
                c.problems.append(BagFinding(
                    key: "verify.after_revocation_event",
                    values: ["seq": String(e.seq), "when": timeText(e.wall_ms), "time": timeText(revokedMs)]))
            }
            prev = e.hash
            if wanted.contains(e.seq) { hashes[e.seq] = e.hash }
            count += 1
            expectedSeq = e.seq + 1
        }
        c.events = count

        var checked = 0
        for (cp, _) in parsed {
            guard let head = hexBytes(cp.head_hash), let signature = Base64.decode(cp.signature) else {
                c.problems.append(BagFinding(key: "verify.checkpoint_unreadable", values: ["line": "seq \(cp.seq)"]))
                continue
            }
            if let device, cp.device != device {
                c.problems.append(BagFinding(
                    key: "verify.checkpoint_device", values: ["seq": String(cp.seq), "found": printableName(cp.device), "device": printableName(device)]))
                continue
            }
            if let revokedMs, cp.signed_ms > revokedMs {
                c.problems.append(BagFinding(
                    key: "verify.after_revocation_checkpoint",
                    values: ["seq": String(cp.seq), "when": timeText(cp.signed_ms), "time": timeText(revokedMs)]))
                continue
            }
            let checkpoint = Checkpoint(
                deviceID: cp.device, seq: cp.seq, headHash: head, signedAt: Timestamp(milliseconds: cp.signed_ms), reason: cp.reason,
                signature: signature)
            if let key, !key.isValidSignature(signature, for: checkpoint.message) {
                c.problems.append(BagFinding(key: "verify.checkpoint_signature", values: ["seq": String(cp.seq)]))
            } else if hashes[cp.seq] != cp.head_hash {
                c.problems.append(BagFinding(key: "verify.checkpoint_mismatch", values: ["seq": String(cp.seq)]))
            } else {
                checked += 1
            }
        }
        c.checkpoints = checked
    }
}

/// Payload bytes added up with overflow checks: a false size in fetch.txt is a finding, not a trap.
struct PayloadSize {
    /// The sum so far.
    private(set) var bytes: Int64 = 0
    /// Whether a size would have taken the sum past `Int64.max` (or below zero).
    private(set) var overflowed = false

    mutating func add(_ size: Int64) {
        let (sum, overflow) = bytes.addingReportingOverflow(size)
        if overflow || sum < 0 { overflowed = true } else { bytes = sum }
    }
}

/// Reads a file a line at a time through one buffer, with a bound on a line and on the whole.
final class LineReader {
    /// What the next read gave.
    enum Next {
        case line([UInt8])
        case end
        case tooLong
        case tooLarge
        case failed
    }

    private let fd: Int32
    private let maxLine: Int
    private let maxTotal: Int64
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var total: Int64 = 0
    private var atEnd = false
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    init(fd: Int32, maxLine: Int, maxTotal: Int64) {
        self.fd = fd
        self.maxLine = maxLine
        self.maxTotal = maxTotal
    }

    /// The next line without its newline (a last line without one counts too).
    func next() -> Next {
        while true {
            if let newline = buffer[max(start, scanned)...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                scanned = start
                return .line(line)
            }
            scanned = buffer.count
            if buffer.count - start > maxLine { return .tooLong }
            if atEnd {
                guard start < buffer.count else { return .end }
                let line = Array(buffer[start...])
                start = buffer.count
                return .line(line)
            }
            if start > 0 {
                buffer.removeFirst(start)
                scanned -= start
                start = 0
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed
            }
            if n == 0 {
                atEnd = true
                continue
            }
            total += Int64(n)
            if total > maxTotal { return .tooLarge }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
