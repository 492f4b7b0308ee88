import Crypto
import FieldKitCore
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

/// What was checked of one bag.
public struct BagCheck: Sendable, Encodable {
    /// The bag's folder name.
    public var bag: String
    /// Failures: any one makes the bag untrustworthy.
    public var problems: [BagFinding] = []
    /// Notes that are not failures (a recording not reachable from here).
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
/// every checksum, Payload-Oxum, the device signature over the tag manifest, the hash chain of
/// the event log inside and the device checkpoints against it, and, for video bags, the
/// recordings at their fetch.txt addresses when they can be reached.
public enum BagVerifier {
    /// Verifies a bag folder, or every bag in a `.tar` archive (or in a folder of bags).
    /// - Throws: only when the input cannot be read at all (``TarError``, ``FileError``).
    public static func verify(_ path: String) throws -> [BagCheck] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileError.cannotRead(path, reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFREG {
            var template = Array("/tmp/fieldkit-verify-XXXXXX".utf8CString)
            let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
            defer { try? removeTree(dir) }
            try extractTar(path, into: dir)
            let bags = try listTree(dir).filter { $0.isDirectory && !$0.relative.contains("/") && Files.exists(dir + "/" + $0.relative + "/bagit.txt") }
            guard !bags.isEmpty else { throw TarError.notTar(path, offset: 0) }
            return bags.map { check(dir + "/" + $0.relative, name: $0.relative) }
        }
        if !Files.exists(path + "/bagit.txt") {
            let bags = try listTree(path).filter { $0.isDirectory && !$0.relative.contains("/") && Files.exists(path + "/" + $0.relative + "/bagit.txt") }
            if !bags.isEmpty { return bags.map { check(path + "/" + $0.relative, name: $0.relative) } }
        }
        return [check(path, name: String(path.split(separator: "/").last ?? ""))]
    }

    /// Checks one bag folder.
    public static func check(_ root: String, name: String) -> BagCheck {
        var c = BagCheck(bag: name)
        func fail(_ key: String, _ values: [String: String] = [:]) { c.problems.append(BagFinding(key: key, values: values)) }
        func text(_ file: String) -> String? { (try? Files.read(root + "/" + file)).map { String(decoding: $0, as: UTF8.self) } }

        guard let bagit = text("bagit.txt") else {
            fail("verify.missing", ["file": "bagit.txt"])
            return c
        }
        if !bagit.contains("BagIt-Version: 1.0") { fail("verify.bagit_version", ["file": "bagit.txt"]) }
        let info = text("bag-info.txt") ?? ""
        if info.isEmpty { fail("verify.missing", ["file": "bag-info.txt"]) }
        guard let manifestText = text("manifest-sha256.txt") else {
            fail("verify.missing", ["file": "manifest-sha256.txt"])
            return c
        }

        // fetch.txt: where recordings live outside the bag
        var fetched: [String: (url: String, size: Int64)] = [:]
        for line in (text("fetch.txt") ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, let size = Int64(parts[1]) else {
                fail("verify.fetch_line", ["line": String(line)])
                continue
            }
            fetched[parts[2]] = (parts[0], size)
        }

        // Payload: every manifest line, every file under data/ listed
        var listed: Set<String> = []
        var oxumBytes: Int64 = 0
        for line in manifestText.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0].count == 64 else {
                fail("verify.manifest_line", ["line": String(line)])
                continue
            }
            let (expected, file) = (parts[0], parts[1].trimmingWhitespace())
            listed.insert(file)
            let local = root + "/" + file
            if Files.exists(local) {
                do {
                    let (size, digest) = try Files.sha256(local)
                    oxumBytes += size
                    c.files += 1
                    if hexString(digest) != expected { fail("verify.checksum", ["file": file]) }
                } catch {
                    fail("verify.unreadable", ["file": file])
                }
            } else if let f = fetched[file] {
                oxumBytes += f.size
                c.files += 1
                guard let source = EvidenceBag.path(ofFileURL: f.url), Files.exists(source) else {
                    c.notes.append(BagFinding(key: "verify.not_reachable", values: ["file": file, "url": f.url]))
                    continue
                }
                if let (size, digest) = try? Files.sha256(source) {
                    c.fetched += 1
                    if hexString(digest) != expected || size != f.size { fail("verify.fetched_changed", ["file": file, "url": source]) }
                } else {
                    fail("verify.unreadable", ["file": source])
                }
            } else {
                fail("verify.payload_missing", ["file": file])
            }
        }
        var oxumFiles = c.files
        if let tree = try? listTree(root + "/data") {
            for e in tree where !e.isDirectory && !listed.contains("data/" + e.relative) {
                fail("verify.unlisted", ["file": "data/" + e.relative])
                oxumBytes += e.size
                oxumFiles += 1
            }
        }
        if let oxum = field("Payload-Oxum", in: info) {
            if oxum != "\(oxumBytes).\(oxumFiles)" { fail("verify.oxum", ["expected": oxum, "found": "\(oxumBytes).\(oxumFiles)"]) }
        } else {
            fail("verify.no_oxum")
        }

        // Tag manifest and the device signature over it
        guard let tagText = text("tagmanifest-sha256.txt") else {
            fail("verify.missing", ["file": "tagmanifest-sha256.txt"])
            return c
        }
        for line in tagText.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let file = parts[1].trimmingWhitespace()
            guard let bytes = try? Files.read(root + "/" + file) else {
                fail("verify.missing", ["file": file])
                continue
            }
            if hexString(SHA256.hash(data: bytes)) != parts[0] { fail("verify.checksum", ["file": file]) }
        }
        let key = text("device-public-key.pem").flatMap(publicKey(pem:))
        if let key, let signature = try? Files.read(root + "/tagmanifest-sha256.txt.sig") {
            if !key.isValidSignature(signature, for: Array(tagText.utf8)) { fail("verify.signature") }
        } else {
            fail("verify.no_signature")
        }

        // The log inside: the chain from the first event, and the checkpoints on it
        if let events = try? Files.read(root + "/data/events.jsonl") {
            checkChain(events, checkpoints: text("data/checkpoints.jsonl") ?? "", key: key, into: &c)
        }
        return c
    }

    static func field(_ name: String, in info: String) -> String? {
        for line in info.split(separator: "\n") where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingWhitespace()
        }
        return nil
    }

    /// The raw Ed25519 key from the PEM the bags carry.
    static func publicKey(pem: String) -> Curve25519.Signing.PublicKey? {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Base64.decode(body), der.count == 44 else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: der.suffix(32))
    }

    static func checkChain(_ bytes: [UInt8], checkpoints: String, key: Curve25519.Signing.PublicKey?, into c: inout BagCheck) {
        var prev = hexString(SiteEvent.genesisHash)
        var hashes: [Int64: String] = [:]
        var count = 0
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A) {
            lineNumber += 1
            guard let e = try? SyncWire.decoder().decode(WireEvent.self, from: Array(line)) else {
                c.problems.append(BagFinding(key: "verify.event_unreadable", values: ["line": String(lineNumber)]))
                return
            }
            guard e.seq == Int64(count + 1) else {
                c.problems.append(BagFinding(key: "verify.chain_gap", values: ["seq": String(e.seq), "expected": String(count + 1)]))
                return
            }
            guard e.prev_hash == prev, e.hashMatches else {
                c.problems.append(BagFinding(key: "verify.chain_broken", values: ["seq": String(e.seq)]))
                return
            }
            prev = e.hash
            hashes[e.seq] = e.hash
            count += 1
        }
        c.events = count
        var checked = 0
        struct Line: Decodable {
            var device: String
            var head_hash: String
            var reason: String
            var seq: Int64
            var signature: String
            var signed_ms: Int64
        }
        for line in checkpoints.split(separator: "\n") {
            guard let cp = try? SyncWire.decoder().decode(Line.self, from: Array(line.utf8)), let head = hexBytes(cp.head_hash),
                let signature = Base64.decode(cp.signature)
            else {
                c.problems.append(BagFinding(key: "verify.checkpoint_unreadable", values: ["line": String(line.prefix(60))]))
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
