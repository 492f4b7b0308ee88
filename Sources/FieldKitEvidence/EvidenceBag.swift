import Crypto
import FieldKitCore
import FieldKitPrint
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A class's records as a BagIt 1.0 bag (RFC 8493), signed by the station's device key.
///
/// `data/` holds the class and site, the roster (masked ID numbers), the whole event log with
/// its hashes (so the chain can be checked from the first event), the device checkpoints, one
/// sign-in sheet per class day, and the video index. `--include-video` copies the recordings
/// into `data/video/<camera>/`. The device signs `tagmanifest-sha256.txt`; the signature is
/// `tagmanifest-sha256.txt.sig` (64 raw bytes), the key `device-public-key.pem` (listed in the
/// tag manifest). Check it with:
///
///     openssl pkeyutl -verify -pubin -inkey device-public-key.pem -rawin \
///         -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig
public enum EvidenceBag {
    /// How long records are kept after the class ends (DOMAIN.md §3).
    public static let retentionYears = 2

    /// What was written.
    public struct Summary: Sendable, Encodable {
        /// The bag's folder.
        public var path: String
        /// Payload files.
        public var files: Int
        /// Payload bytes.
        public var bytes: Int64
        /// `Retention-Until`.
        public var retentionUntil: String
    }

    /// Writes the bag for a class into `dir` (which must not exist yet).
    /// - Throws: ``StationError``, ``FileError``.
    public static func write(station: Station, classID: UInt32, to dir: String, includeVideo: Bool = false) throws -> Summary {
        guard let info = try station.classInfo(classID) else { throw StationError.unknownClass(classID) }
        guard !Files.exists(dir) else { throw FileError.exists(dir) }
        let status = try station.status()
        let t = Localizer(.zhHans)
        var payload: [(path: String, bytes: [UInt8])] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]

        struct ClassFile: Encodable {
            var site_id: String
            var site_name: String?
            var county_id: String?
            var device_id: String
            var trust_sequence: Int64?
            var `class`: ClassInfo
        }
        payload.append((
            "data/class.json",
            Array(try encoder.encode(ClassFile(
                site_id: station.siteID, site_name: status.siteName, county_id: status.countyID, device_id: station.deviceID,
                trust_sequence: status.trustSequence, class: info))) + [0x0A]
        ))
        var roster = "voucher_id,name,id_masked,category\r\n"
        for r in try station.db.query(
            "SELECT voucher_id, name, id_masked, coalesce(category, '') FROM roster WHERE class_id = ? ORDER BY voucher_id",
            [.integer(Int64(classID))], { ($0.int64(0), $0.text(1) ?? "", $0.text(2) ?? "", $0.text(3) ?? "") })
        {
            roster += "\(r.0),\(csvField(r.1)),\(r.2),\(csvField(r.3))\r\n"
        }
        payload.append(("data/roster.csv", Array(roster.utf8)))
        var events: [UInt8] = []
        for e in try station.events() {
            WireEvent(e).appendJSON(to: &events)
            events.append(0x0A)
        }
        payload.append(("data/events.jsonl", events))
        var checkpoints = ""
        for c in try station.db.query(
            "SELECT seq, head_hash, signed_ms, reason, signature FROM checkpoints ORDER BY id", [],
            { ($0.int64(0), $0.blob(1), $0.int64(2), $0.text(3) ?? "", $0.blob(4)) })
        {
            checkpoints += "{\"device\":\"\(station.deviceID)\",\"head_hash\":\"\(hexString(c.1))\",\"reason\":\"\(c.3)\","
                + "\"seq\":\(c.0),\"signature\":\"\(Base64.encode(c.4))\",\"signed_ms\":\(c.2)}\n"
        }
        payload.append(("data/checkpoints.jsonl", Array(checkpoints.utf8)))
        let days = try station.db.query(
            "SELECT DISTINCT class_day FROM attendance WHERE class_id = ? ORDER BY class_day", [.integer(Int64(classID))],
            { $0.text(0) ?? "" })
        for d in days.compactMap(ClassDay.init(iso:)) {
            payload.append(("data/sign-in-sheets/\(d).csv", DaySheetPage.csv(try station.daySheet(classID: classID, day: d), localizer: t)))
        }
        let videos = try station.videos()
        var index = "file,camera,start,end,size,sha256\r\n"
        for v in videos {
            let start = Timestamp(milliseconds: v.span.start).localDescription(utcOffset: station.utcOffset)
            let end = Timestamp(milliseconds: v.span.end).localDescription(utcOffset: station.utcOffset)
            index += "\(csvField(v.path)),\(csvField(v.camera)),\(start),\(end),\(v.size),\(v.sha256)\r\n"
        }
        payload.append(("data/videos.csv", Array(index.utf8)))

        // Write the payload, then the tag files; the bag appears under its name only when whole.
        let staging = dir + ".partial-\(getpid())"
        try Files.makeDirectory(staging, mode: 0o755)
        var manifest = ""
        var bytes: Int64 = 0
        for (path, content) in payload {
            try writeFile(content, staging + "/" + path)
            manifest += "\(hexString(SHA256.hash(data: content)))  \(path)\n"
            bytes += Int64(content.count)
        }
        var files = payload.count
        if includeVideo {
            for v in videos {
                let name = v.path.split(separator: "/").last.map(String.init) ?? "video"
                let path = "data/video/\(safeName(v.camera))/\(name)"
                let (size, digest) = try copyFile(v.path, to: staging + "/" + path)
                guard hexString(digest) == v.sha256 else {
                    throw StationError.videoUnreadable(v.path, "its content is not what was registered (sha256 \(hexString(digest)))")
                }
                manifest += "\(v.sha256)  \(path)\n"
                bytes += size
                files += 1
            }
        }
        let today = station.clock.now().classDay(utcOffset: station.utcOffset)
        let until = info.endDate.adding(years: retentionYears)
        let bagit = Array("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".utf8)
        let bagInfo = Array(
            """
            Source-Organization: \(status.siteName ?? station.siteID)
            External-Identifier: fieldkit:\(status.countyID ?? "county"):\(station.siteID):class-\(classID)
            Bagging-Date: \(today)
            Payload-Oxum: \(bytes).\(files)
            Bag-Group-Identifier: fieldkit:\(station.siteID):class-\(classID)
            Bag-Size: \(bytes) bytes
            Retention-Until: \(until)
            Internal-Sender-Description: \(info.name) (\(info.trade), level \(info.level)), \(info.startDate) to \(info.endDate); device \(station.deviceID)

            """.utf8)
        let pem = Array(devicePublicKeyPEM(Array(station.devicePublicKey.rawRepresentation)).utf8)
        let tags: [(String, [UInt8])] = [
            ("bagit.txt", bagit), ("bag-info.txt", bagInfo), ("manifest-sha256.txt", Array(manifest.utf8)),
            ("device-public-key.pem", pem),
        ]
        var tagManifest = ""
        for (name, content) in tags {
            try writeFile(content, staging + "/" + name)
            tagManifest += "\(hexString(SHA256.hash(data: content)))  \(name)\n"
        }
        try writeFile(Array(tagManifest.utf8), staging + "/tagmanifest-sha256.txt")
        try writeFile(try station.signDetached(Array(tagManifest.utf8)), staging + "/tagmanifest-sha256.txt.sig")
        guard rename(staging, dir) == 0 else { throw FileError.cannotWrite(dir, reason: String(cString: strerror(errno))) }
        return Summary(path: dir, files: files, bytes: bytes, retentionUntil: until.description)
    }

    /// The Ed25519 public key as PEM (SubjectPublicKeyInfo), as openssl reads it.
    public static func devicePublicKeyPEM(_ raw: [UInt8]) -> String {
        let der: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00] + raw
        return "-----BEGIN PUBLIC KEY-----\n\(Base64.encode(der))\n-----END PUBLIC KEY-----\n"
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s
    }

    static func safeName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    static func writeFile(_ bytes: [UInt8], _ path: String) throws {
        try makeParents(path)
        try Files.writeAtomically(bytes, to: path)
    }

    static func makeParents(_ path: String) throws {
        let bytes = Array(path.utf8)
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "/") && i > 0 {
            let prefix = String(decoding: bytes[0..<i], as: UTF8.self)
            if !Files.exists(prefix) { try Files.makeDirectory(prefix, mode: 0o755) }
        }
    }

    /// Copies a file in 1 MiB pieces, hashing as it goes; returns size and SHA-256.
    static func copyFile(_ from: String, to: String) throws -> (Int64, [UInt8]) {
        try makeParents(to)
        let output = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw FileError.cannotWrite(to, reason: String(cString: strerror(errno))) }
        defer { close(output) }
        var hasher = SHA256()
        let size: Int64
        do {
            size = try Files.readChunks(from) { chunk in
                hasher.update(bufferPointer: chunk)
                var written = 0
                while written < chunk.count {
                    let w = Glibc.write(output, chunk.baseAddress! + written, chunk.count - written)
                    if w < 0 {
                        if errno == EINTR { continue }
                        throw FileError.cannotWrite(to, reason: String(cString: strerror(errno)))
                    }
                    written += w
                }
            }
        } catch FileError.cannotRead(_, let why) {
            throw StationError.videoUnreadable(from, why)
        }
        guard fsync(output) == 0 else { throw FileError.cannotWrite(to, reason: String(cString: strerror(errno))) }
        return (size, Array(hasher.finalize()))
    }
}
