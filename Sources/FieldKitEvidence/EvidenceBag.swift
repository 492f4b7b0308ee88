import Crypto
import FieldKitCore
import FieldKitPrint
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A class's records as a BagIt 1.0 bag (RFC 8493), signed by the station's device key, with
/// its recordings either copied in or listed in video bags of their own.
///
/// `data/` holds the class and site, the roster (masked ID numbers), the whole event log with
/// its hashes (so the chain can be checked from the first event), the device checkpoints, one
/// sign-in sheet per class day, and the index of the recordings that overlap the class's days.
/// `--include-video` copies those recordings into `data/video/<camera>/`. Otherwise each
/// camera-day gets a video bag beside the records bag, `<bag>.video-<camera>-<YYYYMMDD>`, whose
/// `fetch.txt` lists the files where they are (`file://localhost/…`) and whose manifest holds
/// their SHA-256: the records bag stays valid on its own, and the footage of a day can be purged
/// as a unit. Every bag is signed the same way: the device signs `tagmanifest-sha256.txt`; the
/// signature is `tagmanifest-sha256.txt.sig` (64 raw bytes), the key `device-public-key.pem`
/// (listed in the tag manifest), and `bag-info.txt` names the device (``deviceField``). That key
/// is only evidence once it is checked against the county's enrolled keys (``BagVerifier`` with
/// ``KeyPins``). Check the signature itself with:
///
///     openssl pkeyutl -verify -pubin -inkey device-public-key.pem -rawin \
///         -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig
///
/// An output ending in `.tar` gets the bags (records bag first, then the video bags) as one
/// POSIX tar archive, which appears under its name only when complete.
public enum EvidenceBag {
    /// The bag-info.txt label naming the device that made and signed the bag (`SITE-<key id>`);
    /// `fieldkit evidence verify` checks it against the signing key, the events and checkpoints.
    public static let deviceField = "FieldKit-Device"

    /// What was written.
    public struct Summary: Sendable, Encodable {
        /// The bag's folder, or the archive.
        public var path: String
        /// Payload files of the records bag.
        public var files: Int
        /// Payload bytes of the records bag.
        public var bytes: Int64
        /// `Retention-Until`.
        public var retentionUntil: String
        /// The video bags' names (beside the records bag, or inside the archive).
        public var videoBags: [String]
    }

    /// Writes the bag for a class to `out`: a folder (which must not exist yet, nor its video
    /// bags), or a `.tar` archive.
    /// - Throws: ``StationError``, ``FileError``.
    public static func write(station: Station, classID: UInt32, to out: String, includeVideo: Bool = false) throws -> Summary {
        guard let info = try station.classInfo(classID) else { throw StationError.unknownClass(classID) }
        guard !Files.exists(out) else { throw FileError.exists(out) }
        let asTar = out.hasSuffix(".tar")
        let parent = Files.parentDirectory(of: out)
        let base = String(out.split(separator: "/").last ?? "bag")
        let name = asTar ? String(base.dropLast(4)).isEmpty ? "bag" : String(base.dropLast(4)) : base
        let staging = parent + "/.\(name).partial-\(getpid())"
        if Files.exists(staging) { try removeTree(staging) }
        try Files.makeDirectory(staging, mode: 0o755)
        do {
            let summary = try writeBags(station: station, info: info, into: staging, name: name, includeVideo: includeVideo)
            if asTar {
                let partial = out + ".partial-\(getpid())"
                let tar = try TarWriter(path: partial, mtime: station.clock.now().milliseconds / 1000)
                do {
                    for bag in [name] + summary.videoBags { try tar.addTree(staging + "/" + bag, as: bag) }
                    try tar.finish()
                } catch {
                    tar.abandon()
                    unlink(partial)
                    throw error
                }
                guard rename(partial, out) == 0 else { throw FileError.cannotWrite(out, reason: String(cString: strerror(errno))) }
                Files.syncDirectory(of: out)
                try removeTree(staging)
            } else {
                for bag in summary.videoBags where Files.exists(parent + "/" + bag) { throw FileError.exists(parent + "/" + bag) }
                // Video bags first: the records bag appears last, when everything is in place.
                for bag in summary.videoBags + [name] {
                    guard rename(staging + "/" + bag, parent + "/" + bag) == 0 else {
                        throw FileError.cannotWrite(parent + "/" + bag, reason: String(cString: strerror(errno)))
                    }
                }
                Files.syncDirectory(of: out)
                try removeTree(staging)
            }
            var s = summary
            s.path = out
            return s
        } catch {
            try? removeTree(staging)
            throw error
        }
    }

    /// The recordings that overlap a class's days.
    public static func videos(station: Station, of info: ClassInfo) throws -> [VideoReference] {
        let period = ClassPeriod(classID: info.id, start: info.startDate, end: info.endDate)
        return try station.videos().filter {
            !Retention.overlapping($0.span, periods: [period], utcOffset: station.utcOffset).isEmpty
        }
    }

    static func writeBags(station: Station, info: ClassInfo, into staging: String, name: String, includeVideo: Bool) throws -> Summary {
        let classID = info.id
        let status = try station.status()
        let t = Localizer(.zhHans)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        var bag = BagBuilder(root: staging + "/" + name)

        struct ClassFile: Encodable {
            var site_id: String
            var site_name: String?
            var county_id: String?
            var device_id: String
            var trust_sequence: Int64?
            var `class`: ClassInfo
        }
        try bag.add("data/class.json", Array(try encoder.encode(ClassFile(
            site_id: station.siteID, site_name: status.siteName, county_id: status.countyID, device_id: station.deviceID,
            trust_sequence: status.trustSequence, class: info))) + [0x0A])
        var roster = "voucher_id,name,id_masked,category\r\n"
        for r in try station.roster(classID: classID) {
            roster += "\(r.voucherID),\(csvField(r.name)),\(r.idMasked),\(csvField(r.category ?? ""))\r\n"
        }
        try bag.add("data/roster.csv", Array(roster.utf8))
        var events: [UInt8] = []
        for e in try station.events() {
            WireEvent(e).appendJSON(to: &events)
            events.append(0x0A)
        }
        try bag.add("data/events.jsonl", events)
        var checkpoints = ""
        for c in try station.checkpoints() {
            checkpoints += "{\"device\":\"\(station.deviceID)\",\"head_hash\":\"\(hexString(c.headHash))\",\"reason\":\"\(c.reason)\","
                + "\"seq\":\(c.seq),\"signature\":\"\(Base64.encode(c.signature))\",\"signed_ms\":\(c.signedAt.milliseconds)}\n"
        }
        try bag.add("data/checkpoints.jsonl", Array(checkpoints.utf8))
        for d in try station.attendanceDays(classID: classID) {
            try bag.add("data/sign-in-sheets/\(d).csv", DaySheetPage.csv(try station.daySheet(classID: classID, day: d), localizer: t))
        }

        // The recordings of the class's days, by camera and day.
        let videos = try self.videos(station: station, of: info)
        let periods = try station.classPeriods()
        var groups: [String: [VideoReference]] = [:]
        var bagOf: [String: String] = [:]
        for v in videos {
            let day = Timestamp(milliseconds: v.span.start).classDay(utcOffset: station.utcOffset).description.filter { $0 != "-" }
            let group = includeVideo ? "" : "\(name).video-\(safeName(v.camera))-\(day)"
            groups[group, default: []].append(v)
            bagOf[v.path] = includeVideo ? "." : group
        }
        var index = "file,camera,start,end,size,sha256,bag\r\n"
        for v in videos {
            let start = Timestamp(milliseconds: v.span.start).localDescription(utcOffset: station.utcOffset)
            let end = Timestamp(milliseconds: v.span.end).localDescription(utcOffset: station.utcOffset)
            index += "\(csvField(v.path)),\(csvField(v.camera)),\(start),\(end),\(v.size),\(v.sha256),\(csvField(bagOf[v.path] ?? ""))\r\n"
        }
        try bag.add("data/videos.csv", Array(index.utf8))
        if includeVideo {
            var used: Set<String> = []
            for v in videos { try bag.copy(v, to: "data/video/\(safeName(v.camera))/\(uniqueName(v.path, &used))") }
        }

        let today = station.clock.now().classDay(utcOffset: station.utcOffset)
        let until = Retention.recordsKeepUntil(classEnd: info.endDate)
        let group = "fieldkit:\(station.siteID):class-\(classID)"
        let common = [
            ("Source-Organization", status.siteName ?? station.siteID), ("Bagging-Date", today.description),
            ("Bag-Group-Identifier", group), (deviceField, station.deviceID),
        ]
        try bag.finish(station: station, info: [
            common[0], ("External-Identifier", "fieldkit:\(status.countyID ?? "county"):\(station.siteID):class-\(classID)"),
            common[1], common[2], common[3], ("Retention-Until", until.description),
            ("Internal-Sender-Description",
             "\(info.name) (\(info.trade), level \(info.level)), \(info.startDate) to \(info.endDate); device \(station.deviceID)"),
        ])
        let videoBags = groups.keys.filter { !$0.isEmpty }.sorted()
        for videoBag in videoBags {
            var vb = BagBuilder(root: staging + "/" + videoBag)
            var used: Set<String> = []
            let members = groups[videoBag] ?? []
            for v in members { vb.fetch(v, as: "data/" + uniqueName(v.path, &used)) }
            let keep = members.map { Retention.videoKeepUntil($0.span, periods: periods, utcOffset: station.utcOffset) }.max() ?? until
            let camera = members.first?.camera ?? ""
            try vb.finish(station: station, info: [
                common[0], ("External-Identifier", "fieldkit:\(status.countyID ?? "county"):\(station.siteID):\(videoBag)"),
                common[1], common[2], common[3], ("Retention-Until", keep.description),
                ("Internal-Sender-Description",
                 "Classroom recordings of camera \(camera) for class \(classID) (\(info.name)); fetch.txt says where they are; device \(station.deviceID)"),
            ])
        }
        return Summary(path: name, files: bag.files, bytes: bag.bytes, retentionUntil: until.description, videoBags: videoBags)
    }

    /// A file name for a recording inside a bag, unique within it.
    static func uniqueName(_ path: String, _ used: inout Set<String>) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? "video"
        var candidate = base
        var n = 2
        while used.contains(candidate) {
            candidate = "\(n)-\(base)"
            n += 1
        }
        used.insert(candidate)
        return candidate
    }

    /// The Ed25519 public key as PEM (SubjectPublicKeyInfo), as openssl reads it.
    public static func devicePublicKeyPEM(_ raw: [UInt8]) -> String {
        let der: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00] + raw
        return "-----BEGIN PUBLIC KEY-----\n\(Base64.encode(der))\n-----END PUBLIC KEY-----\n"
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
                guard Files.writeAll(output, chunk) else { throw FileError.cannotWrite(to, reason: String(cString: strerror(errno))) }
            }
        } catch FileError.cannotRead(_, let why) {
            throw StationError.videoUnreadable(from, why)
        }
        guard fsync(output) == 0 else { throw FileError.cannotWrite(to, reason: String(cString: strerror(errno))) }
        return (size, Array(hasher.finalize()))
    }

    /// `file://localhost/…` with every byte outside the unreserved set percent-encoded (the
    /// LoC bagit tool wants a host in fetch.txt URLs).
    public static func fileURL(_ path: String) -> String {
        var out = "file://localhost"
        for byte in path.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (c.isLetter || c.isNumber || "/-._~".contains(c)) {
                out.append(c)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// The path of a `file://` URL, or nil.
    public static func path(ofFileURL url: String) -> String? {
        var rest: Substring
        if url.hasPrefix("file://localhost/") { rest = url.dropFirst("file://localhost".count) }
        else if url.hasPrefix("file:///") { rest = url.dropFirst("file://".count) }
        else { return nil }
        var bytes: [UInt8] = []
        var it = Array(rest.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        rest = Substring(String(decoding: bytes, as: UTF8.self))
        return String(rest)
    }
}

/// Writes one bag: payload files, fetched files, manifests, bag-info, the signed tag manifest.
struct BagBuilder {
    let root: String
    var manifest = ""
    var fetchLines = ""
    var bytes: Int64 = 0
    var files = 0

    mutating func add(_ path: String, _ content: [UInt8]) throws {
        try EvidenceBag.writeFile(content, root + "/" + path)
        manifest += "\(hexString(SHA256.hash(data: content)))  \(path)\n"
        bytes += Int64(content.count)
        files += 1
    }

    /// Copies a recording in, checking it is still what was registered.
    mutating func copy(_ v: VideoReference, to path: String) throws {
        let (size, digest) = try EvidenceBag.copyFile(v.path, to: root + "/" + path)
        guard hexString(digest) == v.sha256 else {
            throw StationError.videoUnreadable(v.path, "its content is not what was registered (sha256 \(hexString(digest)))")
        }
        manifest += "\(v.sha256)  \(path)\n"
        bytes += size
        files += 1
    }

    /// Lists a recording where it is: in fetch.txt and the manifest, not in data/.
    mutating func fetch(_ v: VideoReference, as path: String) {
        fetchLines += "\(EvidenceBag.fileURL(v.path)) \(v.size) \(path)\n"
        manifest += "\(v.sha256)  \(path)\n"
        bytes += v.size
        files += 1
    }

    func finish(station: Station, info: [(String, String)]) throws {
        if !Files.exists(root + "/data") { try Files.makeDirectory(root + "/data", mode: 0o755) }
        let bagInfo = (info + [("Payload-Oxum", "\(bytes).\(files)"), ("Bag-Size", "\(bytes) bytes")])
            .map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
        var tags: [(String, [UInt8])] = [
            ("bagit.txt", Array("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".utf8)),
            ("bag-info.txt", Array(bagInfo.utf8)), ("manifest-sha256.txt", Array(manifest.utf8)),
            ("device-public-key.pem", Array(EvidenceBag.devicePublicKeyPEM(Array(station.devicePublicKey.rawRepresentation)).utf8)),
        ]
        if !fetchLines.isEmpty { tags.append(("fetch.txt", Array(fetchLines.utf8))) }
        var tagManifest = ""
        for (name, content) in tags {
            try EvidenceBag.writeFile(content, root + "/" + name)
            tagManifest += "\(hexString(SHA256.hash(data: content)))  \(name)\n"
        }
        try EvidenceBag.writeFile(Array(tagManifest.utf8), root + "/tagmanifest-sha256.txt")
        try EvidenceBag.writeFile(try station.signDetached(Array(tagManifest.utf8)), root + "/tagmanifest-sha256.txt.sig")
    }
}
