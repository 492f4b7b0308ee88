import FieldKitCore
@testable import FieldKitEvidence
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Evidence verify: hostile bags", .serialized)
struct BagAttackTests {
    /// A good records bag (videos copied in) and a video bag beside another records bag; the station signs forgeries.
    func bags() throws -> (station: Station, dir: String) {
        let (station, dir) = try EvidenceBagTests().station()
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/bag", includeVideo: true)
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/split")
        return (station, dir)
    }

    func check(_ path: String) throws -> BagCheck { try #require(try BagVerifier.verify(path).first) }

    @Test("manifest lines ../../etc/passwd, /etc/passwd and data/../../etc/passwd are refused by line, never hashed")
    func manifestOutside() throws {
        let (station, dir) = try bags()
        let before = try check(dir + "/bag")
        #expect(before.ok)
        let passwd = try BagForgery.sha256("/etc/passwd")
        let hostile = ["../../etc/passwd", "/etc/passwd", "data/../../../etc/passwd", "data//x", "data/./x", "bagit.txt"]
        try BagForgery.remanifest(dir + "/bag", signer: station, extra: hostile.map { "\(passwd)  \($0)" })
        let c = try check(dir + "/bag")
        let outside = c.problems.filter { $0.key == "verify.outside" }
        #expect(outside.count == hostile.count, "\(c.problems)")
        #expect(outside.allSatisfy { $0.values["file"] == "manifest-sha256.txt" })
        #expect(outside.map { $0.values["line"] ?? "" }.contains("\(passwd)  ../../etc/passwd"))
        #expect(c.files == before.files, "nothing outside the bag was counted as checked")
        // In the tag manifest too
        try BagForgery.reseal(dir + "/bag", signer: station, extraTags: ["\(passwd)  ../../etc/passwd"])
        #expect(try check(dir + "/bag").problems.contains { $0.key == "verify.outside" && $0.values["file"] == "tagmanifest-sha256.txt" })
    }

    @Test("fetch.txt: sizes summing past Int64.max, a size past it, a negative one, a path outside: findings, no trap")
    func fetchSizes() throws {
        let (station, dir) = try bags()
        let video = dir + "/split.video-ch01-20260302"
        let fetch = try BagForgery.text(video + "/fetch.txt").split(separator: "\n").map(String.init)
        #expect(fetch.count == 2)
        func url(_ line: String) -> String { String(line.split(separator: " ")[0]) }
        let max = String(Int64.max)
        try BagForgery.write(video + "/fetch.txt", fetch.enumerated().map { i, l in
            "\(url(l)) \(max) data/\(i == 0 ? "a" : "b").mp4"
        }.joined(separator: "\n") + "\n")
        let hashes = try BagForgery.text(video + "/manifest-sha256.txt").split(separator: "\n").map { String($0.prefix(64)) }
        try BagForgery.write(video + "/manifest-sha256.txt", "\(hashes[0])  data/a.mp4\n\(hashes[1])  data/b.mp4\n")
        try BagForgery.reseal(video, signer: station)
        let c = try check(video)
        #expect(c.problems.map(\.key).contains("verify.size_overflow"), "\(c.problems)")
        #expect(c.problems.map(\.key).contains("verify.fetched_changed"), "a file is not 2^63 bytes long")

        for (line, key) in [
            ("\(url(fetch[0])) 99999999999999999999 data/a.mp4", "verify.fetch_line"),
            ("\(url(fetch[0])) -5 data/a.mp4", "verify.fetch_line"),
            ("\(url(fetch[0])) +5 data/a.mp4", "verify.fetch_line"),
            ("\(url(fetch[0])) 5 data/../../x.mp4", "verify.outside"),
            ("\(url(fetch[0])) 5 /etc/passwd", "verify.outside"),
            ("\(url(fetch[0])) 5 bag-info.txt", "verify.outside"),
        ] {
            try BagForgery.write(video + "/fetch.txt", line + "\n")
            try BagForgery.reseal(video, signer: station)
            #expect(try check(video).problems.map(\.key).contains(key), "\(line)")
        }
    }

    @Test("a link in the bag is named and never followed: data/x -> /etc, the event log -> a file outside, data itself")
    func links() throws {
        let (station, dir) = try bags()
        let passwd = try BagForgery.sha256("/etc/passwd")
        #expect(symlink("/etc", dir + "/bag/data/x") == 0)
        try BagForgery.remanifest(dir + "/bag", signer: station, extra: ["\(passwd)  data/x/passwd"])
        let c = try check(dir + "/bag")
        #expect(c.problems.contains { $0.key == "verify.link" && $0.values["file"] == "data/x/passwd" }, "\(c.problems)")
        #expect(c.problems.contains { $0.key == "verify.link" && $0.values["file"] == "data/x" }, "found by the walk of data/")
        #expect(!c.problems.contains { $0.key == "verify.checksum" })

        // The event log replaced by a link to a file outside the bag
        sh("cp -r '\(dir)/split' '\(dir)/l2' && cp '\(dir)/split/data/events.jsonl' '\(dir)/outside.jsonl' && rm '\(dir)/l2/data/events.jsonl'")
        #expect(symlink(dir + "/outside.jsonl", dir + "/l2/data/events.jsonl") == 0)
        let l2 = try check(dir + "/l2")
        #expect(l2.problems.contains { $0.key == "verify.link" && $0.values["file"] == "data/events.jsonl" }, "\(l2.problems)")
        #expect(l2.events == nil, "the chain was not read through the link")

        // bag-info.txt and data/ themselves as links
        sh("cp -r '\(dir)/split' '\(dir)/l3' && mv '\(dir)/l3/bag-info.txt' '\(dir)/info.txt' && mv '\(dir)/l3/data' '\(dir)/datadir'")
        #expect(symlink(dir + "/info.txt", dir + "/l3/bag-info.txt") == 0 && symlink(dir + "/datadir", dir + "/l3/data") == 0)
        let l3 = try check(dir + "/l3")
        #expect(l3.problems.contains { $0.key == "verify.link" && $0.values["file"] == "bag-info.txt" }, "\(l3.problems)")
        #expect(l3.problems.contains { $0.key == "verify.link" && $0.values["file"] == "data" })
        // Cleaning up a tree with links removes the links, not what they point to
        try removeTree(dir + "/l3")
        #expect(!Files.exists(dir + "/l3") && Files.exists(dir + "/info.txt") && Files.exists(dir + "/datadir/events.jsonl"))
    }

    @Test("a FIFO listed in the manifest is not opened (no hang); an oversized bag-info.txt is named, not read")
    func specialFiles() throws {
        let (station, dir) = try bags()
        #expect(mkfifo(dir + "/bag/data/pipe", 0o600) == 0)
        try BagForgery.remanifest(dir + "/bag", signer: station, extra: ["\(String(repeating: "0", count: 64))  data/pipe"])
        let c = try check(dir + "/bag")
        #expect(c.problems.contains { $0.key == "verify.unreadable" && $0.values["file"] == "data/pipe" }, "\(c.problems)")

        sh("cp -r '\(dir)/split' '\(dir)/big'")
        try BagForgery.write(dir + "/big/bag-info.txt", String(repeating: "Padding: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", count: 20_000))
        let big = try check(dir + "/big")
        #expect(big.problems.contains { $0.key == "verify.too_large" && $0.values["file"] == "bag-info.txt" }, "\(big.problems)")
    }

    @Test("fetch.txt added to a signed bag outside the signature: named, so a payload file cannot be removed and 'fetched'")
    func unsignedFetch() throws {
        let (station, dir) = try bags()
        // Remove the roster, pretend it lives elsewhere: fetch.txt is not in the signed tag manifest
        sh("rm '\(dir)/split/data/roster.csv' && echo 'file://localhost/nowhere/roster.csv 10 data/roster.csv' > '\(dir)/split/fetch.txt'")
        let c = try check(dir + "/split")
        #expect(c.problems.contains { $0.key == "verify.tag_unlisted" && $0.values["file"] == "fetch.txt" }, "\(c.problems)")
        _ = station
    }

    @Test("garbage in any text file of a bag (manifests, fetch.txt, bag-info, the log, checkpoints, the key): findings, never a trap")
    func garbage() throws {
        let (station, dir) = try bags()
        let files = [
            "manifest-sha256.txt", "tagmanifest-sha256.txt", "bag-info.txt", "bagit.txt", "device-public-key.pem",
            "tagmanifest-sha256.txt.sig", "data/events.jsonl", "data/checkpoints.jsonl", "data/class.json",
        ]
        let pieces = [
            "../", "/", "data/", "%00", "\u{0}", "\n", "\r\n", " ", "  ", "-1", "9223372036854775807", "99999999999999999999",
            "{", "}", "[", "\"seq\":", "\"wall_ms\":-9223372036854775808", "file:///etc/passwd", "Payload-Oxum: ", "FieldKit-Device: ",
            String(repeating: "a", count: 64), "\u{202E}", "é", ":", "=", ".",
        ]
        var rng = SplitMix64(seed: 7)
        for round in 0..<150 {
            let target = dir + "/g\(round)"
            sh("cp -r '\(dir)/\(round % 2 == 0 ? "bag" : "split.video-ch01-20260302")' '\(target)'")
            let file = files[Int(rng.next() % UInt64(files.count))]
            var text = (try? BagForgery.text(target + "/" + file)) ?? ""
            for _ in 0..<Int(rng.next() % 6 + 1) {
                let piece = pieces[Int(rng.next() % UInt64(pieces.count))]
                let offsets = Array(text.indices) + [text.endIndex]
                text.insert(contentsOf: piece, at: offsets[Int(rng.next() % UInt64(offsets.count))])
            }
            try BagForgery.write(target + "/" + file, text)
            let resealed = round % 3 == 0
            if resealed { try BagForgery.reseal(target, signer: station) }
            let c = try check(target)
            #expect(resealed || !c.ok, "\(file) changed and not resealed, yet the bag passes: \(text.prefix(200))")
        }
    }

    @Test("bags written before FieldKit-Device still name their device (from Internal-Sender-Description)")
    func olderBags() throws {
        let (station, dir) = try bags()
        let info = try BagForgery.text(dir + "/split/bag-info.txt").split(separator: "\n").filter { !$0.hasPrefix(EvidenceBag.deviceField) }
        try BagForgery.write(dir + "/split/bag-info.txt", info.joined(separator: "\n") + "\n")
        try BagForgery.reseal(dir + "/split", signer: station)
        let c = try check(dir + "/split")
        #expect(c.ok && c.key.device == station.deviceID, "\(c.problems)")
        #expect(BagVerifier.deviceID(in: "Internal-Sender-Description: x; device \n") == nil)
    }

    @Test("the temporary folder of a .tar is gone after a good, a failing and an unreadable archive")
    func temporaryFolder() throws {
        let (station, dir) = try bags()
        var before = sigaction()
        sigaction(SIGTERM, nil, &before)
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/a.tar")
        #expect(try verifyLeavingNothing(dir + "/a.tar").allSatisfy(\.ok))
        try Files.writeAtomically(Array(try Files.read(dir + "/a.tar").prefix(3000)), to: dir + "/short.tar")
        #expect(throws: TarError.truncated(dir + "/short.tar")) { try verifyLeavingNothing(dir + "/short.tar") }
        // A tampered archive: checks fail, the folder goes all the same
        sh("mkdir '\(dir)/t' && tar -xf '\(dir)/a.tar' -C '\(dir)/t' && echo x >> '\(dir)/t/a/data/roster.csv' && tar -cf '\(dir)/t.tar' -C '\(dir)/t' a")
        #expect(try verifyLeavingNothing(dir + "/t.tar").contains { !$0.ok })
        // The handler is back as it was once the folder is gone
        var after = sigaction()
        sigaction(SIGTERM, nil, &after)
        #expect(unsafeBitCast(after.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(before.__sigaction_handler.sa_handler, to: Int.self))
    }
}
