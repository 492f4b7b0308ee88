import CountyKit
import FieldKitCore
import FieldKitEvidence
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A clock the test sets.
final class FixedClock: StationClock, @unchecked Sendable {
    var time: Timestamp
    var mono: Int64 = 1
    let bootID = "test-boot"
    init(_ time: Timestamp) { self.time = time }
    func now() -> Timestamp { time }
    func monotonicNanos() -> Int64 {
        mono += 1
        return mono
    }
}

/// Runs a shell command line; its exit status.
@discardableResult
func sh(_ command: String) -> Int32 {
    let status = system(command)
    return (status >> 8) & 0xff
}

func scratch() -> String {
    // Scripts/test points FIELDKIT_TEST_TMP at one folder it removes afterwards.
    let base = getenv("FIELDKIT_TEST_TMP").map { String(cString: $0) } ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
    var template = Array("\(base)/fkev-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

@Suite("Evidence bags", .serialized)
struct EvidenceBagTests {
    /// A station with class 12, two sign-ins, a sign-out and two registered recordings.
    func station() throws -> (Station, String) {
        let dir = scratch()
        let day = ClassDay(iso: "2026-03-02")!
        let clock = FixedClock(day.at(LocalTime("08:00")!))
        let county = try CountyOffice.initialize(home: dir + "/county", countyID: "141023", now: { clock.now() })
        try county.addSite(id: "S01", name: "古县职业培训学校")
        try county.addClass(
            ClassInfo(
                id: 12, name: "中式烹调师", trade: OccupationCode("4-03-02-01")!, level: 5, location: "古县",
                startDate: day, endDate: ClassDay(iso: "2026-03-20")!, sessions: SessionWindow.parseList("08:30-11:30")!),
            site: "S01")
        let ids = ["14102319800101001", "14102319800101002"].map { $0 + String(IDNumber.checkCharacter(for: $0)) }
        let vouchers = try county.issueVouchers(classID: 12, roster: Array("张伟,\(ids[0])\n王芳,\(ids[1])".utf8))
        let station = try Station.initialize(
            home: dir + "/site", siteID: "S01", rootKeyFile: try Files.read(dir + "/county/root.pub"), clock: clock)
        _ = try station.importTrust(fileBytes: county.exportBundle(site: "S01").fileBytes)
        clock.time = day.at(LocalTime("08:31")!)
        _ = try station.scan(vouchers[0].code)
        _ = try station.scan(vouchers[1].code)
        clock.time = day.at(LocalTime("11:20")!)
        _ = try station.scan(vouchers[0].code)
        for name in ["ch01_20260302083000_20260302100000.mp4", "ch01_20260302100000_20260302113000.mp4"] {
            try Files.writeAtomically(Array("video bytes of \(name)".utf8), to: dir + "/" + name)
            _ = try station.registerVideo(path: dir + "/" + name, camera: "ch01")
        }
        return (station, dir)
    }

    @Test("the records bag validates with the Library of Congress bagit tool, with and without video; one byte changed fails it")
    func bagitValidates() throws {
        let (station, dir) = try station()
        // Given the records bag
        let summary = try EvidenceBag.write(station: station, classID: 12, to: dir + "/bag")
        #expect(summary.retentionUntil == "2028-03-20")
        #expect(sh("python3 -m bagit --validate --quiet '\(dir)/bag' 2>/dev/null") == 0)
        let info = String(decoding: try Files.read(dir + "/bag/bag-info.txt"), as: UTF8.self)
        for field in ["Source-Organization: 古县职业培训学校", "External-Identifier:", "Bagging-Date: 2026-03-02", "Payload-Oxum:",
                      "Bag-Group-Identifier:", "Retention-Until: 2028-03-20"] {
            #expect(info.contains(field), "\(field)")
        }
        // No full ID number anywhere in it
        #expect(sh("grep -rq 141023198001010 '\(dir)/bag'") != 0)
        // With the videos copied in
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/bag-video", includeVideo: true)
        #expect(sh("python3 -m bagit --validate --quiet '\(dir)/bag-video' 2>/dev/null") == 0)
        #expect(Files.exists(dir + "/bag-video/data/video/ch01/ch01_20260302083000_20260302100000.mp4"))
        // One byte changed in any payload file: invalid
        for file in ["data/events.jsonl", "data/roster.csv", "data/video/ch01/ch01_20260302100000_20260302113000.mp4"] {
            let path = dir + "/bag-video/" + file
            var bytes = try Files.read(path)
            bytes[bytes.count / 2] ^= 0x01
            try Files.writeAtomically(bytes, to: path)
            #expect(sh("python3 -m bagit --validate --quiet '\(dir)/bag-video' 2>/dev/null") != 0, "\(file)")
            bytes[bytes.count / 2] ^= 0x01
            try Files.writeAtomically(bytes, to: path)
        }
        #expect(sh("python3 -m bagit --validate --quiet '\(dir)/bag-video' 2>/dev/null") == 0)
        // A bag is never written over
        #expect(throws: FileError.self) { try EvidenceBag.write(station: station, classID: 12, to: dir + "/bag") }
    }

    @Test("the device's signature over the tag manifest checks with openssl pkeyutl, as documented, and fails on a change")
    func opensslVerifies() throws {
        let (station, dir) = try station()
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/bag")
        let verify = "cd '\(dir)/bag' && openssl pkeyutl -verify -pubin -inkey device-public-key.pem -rawin -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig >/dev/null 2>&1"
        #expect(sh(verify) == 0)
        // The key in the bag is this device's
        let pem = String(decoding: try Files.read(dir + "/bag/device-public-key.pem"), as: UTF8.self)
        let raw = try #require(Base64.decode(String(decoding: try Files.read(dir + "/site/device.pub"), as: UTF8.self)))
        #expect(pem == EvidenceBag.devicePublicKeyPEM(raw))
        // A changed tag manifest no longer verifies
        try Files.writeAtomically(Array("tampered\n".utf8) + (try Files.read(dir + "/bag/tagmanifest-sha256.txt")), to: dir + "/bag/tagmanifest-sha256.txt")
        #expect(sh(verify) != 0)
    }

    func bagit(_ path: String) -> Int32 { sh("python3 -m bagit --validate --quiet '\(path)' 2>/dev/null") }

    @Test("without --include-video: a video bag per camera-day lists the recordings in fetch.txt; complete once they are placed")
    func videoBags() throws {
        let (station, dir) = try station()
        // A recording of another day, outside the class: not in this class's bags
        try Files.writeAtomically(Array("later".utf8), to: dir + "/ch01_20260501083000_20260501093000.mp4")
        _ = try station.registerVideo(path: dir + "/ch01_20260501083000_20260501093000.mp4", camera: "ch01")
        let s = try EvidenceBag.write(station: station, classID: 12, to: dir + "/bag")
        #expect(s.videoBags == ["bag.video-ch01-20260302"])
        let videoBag = dir + "/bag.video-ch01-20260302"
        #expect(bagit(dir + "/bag") == 0, "the records bag is valid on its own")
        let index = String(decoding: try Files.read(dir + "/bag/data/videos.csv"), as: UTF8.self)
        #expect(index.hasPrefix("file,camera,start,end,size,sha256,bag\r\n") && index.contains(",bag.video-ch01-20260302\r\n"))
        #expect(!index.contains("20260501"))
        let fetch = String(decoding: try Files.read(videoBag + "/fetch.txt"), as: UTF8.self)
        #expect(fetch.split(separator: "\n").count == 2 && fetch.hasPrefix("file://localhost" + dir + "/ch01_20260302083000"))
        let info = String(decoding: try Files.read(videoBag + "/bag-info.txt"), as: UTF8.self)
        #expect(info.contains("Bag-Group-Identifier: fieldkit:S01:class-12") && info.contains("Retention-Until: 2028-03-20"))
        // Incomplete until the footage is placed; then valid
        #expect(bagit(videoBag) != 0)
        #expect(try BagVerifier.verify(videoBag).allSatisfy { $0.ok && $0.fetched == 2 }, "reachable where they are")
        for line in fetch.split(separator: "\n") {
            let parts = line.split(separator: " ")
            #expect(sh("cp '\(EvidenceBag.path(ofFileURL: String(parts[0]))!)' '\(videoBag)/\(parts[2])'") == 0)
        }
        #expect(bagit(videoBag) == 0)
        let verify = "cd '\(videoBag)' && openssl pkeyutl -verify -pubin -inkey device-public-key.pem -rawin -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig >/dev/null 2>&1"
        #expect(sh(verify) == 0)
        // A recording changed where it lies: named
        try Files.writeAtomically(Array("re-encoded".utf8), to: dir + "/ch01_20260302083000_20260302100000.mp4")
        sh("rm -f '\(videoBag)'/data/*")
        let checks = try BagVerifier.verify(videoBag)
        #expect(checks[0].problems.map(\.key) == ["verify.fetched_changed"])
        // Writing again over the video bag's name is refused, and nothing half-written is left
        #expect(throws: FileError.self) { try EvidenceBag.write(station: station, classID: 12, to: dir + "/bag") }
    }

    @Test(".tar: tar lists and extracts it, the bags inside validate; verify reads it; a truncated archive is a clean error")
    func tarArchive() throws {
        let (station, dir) = try station()
        let s = try EvidenceBag.write(station: station, classID: 12, to: dir + "/class-12.tar")
        #expect(s.path == dir + "/class-12.tar" && s.videoBags == ["class-12.video-ch01-20260302"])
        #expect(sh("tar -tf '\(dir)/class-12.tar' | grep -qx 'class-12/data/events.jsonl'") == 0)
        #expect(sh("mkdir '\(dir)/x' && tar -xf '\(dir)/class-12.tar' -C '\(dir)/x'") == 0)
        #expect(bagit(dir + "/x/class-12") == 0)
        #expect(Files.exists(dir + "/x/class-12.video-ch01-20260302/fetch.txt"))
        let checks = try BagVerifier.verify(dir + "/class-12.tar")
        #expect(checks.map(\.bag) == ["class-12", "class-12.video-ch01-20260302"] && checks.allSatisfy(\.ok))
        #expect(checks[0].events ?? 0 > 5 && checks[0].checkpoints != nil)
        // No temporary files left beside it
        #expect(sh("ls -a '\(dir)' | grep -q partial") != 0)
        // Cut short, or not a tar at all
        let bytes = try Files.read(dir + "/class-12.tar")
        try Files.writeAtomically(Array(bytes.prefix(bytes.count / 2)), to: dir + "/short.tar")
        #expect(throws: TarError.truncated(dir + "/short.tar")) { try BagVerifier.verify(dir + "/short.tar") }
        try Files.writeAtomically(Array(repeating: 0x41, count: 2048), to: dir + "/junk.tar")
        #expect(throws: TarError.self) { try BagVerifier.verify(dir + "/junk.tar") }
        // A long, non-ASCII name goes through a pax header
        let long = "中文名称-" + String(repeating: "很长的名字", count: 12)
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/\(long).tar")
        #expect(sh("mkdir '\(dir)/y' && tar -xf '\(dir)/\(long).tar' -C '\(dir)/y' && test -f '\(dir)/y/\(long)/bagit.txt'") == 0)
    }

    @Test("verify names what was changed: a payload byte, an event rewritten with fresh manifests, an added file")
    func verifyFindsTampering() throws {
        let (station, dir) = try station()
        _ = try EvidenceBag.write(station: station, classID: 12, to: dir + "/bag", includeVideo: true)
        #expect(try BagVerifier.verify(dir + "/bag").allSatisfy(\.ok))
        // One byte of the roster
        sh("cp -r '\(dir)/bag' '\(dir)/b1' && sed -i 's/张伟/张传/' '\(dir)/b1/data/roster.csv'")
        #expect(try BagVerifier.verify(dir + "/b1")[0].problems.map(\.key).contains("verify.checksum"))
        // An event rewritten, the manifests recomputed (but no device key to sign them)
        sh("""
            cp -r '\(dir)/bag' '\(dir)/b2' && cd '\(dir)/b2' && sed -i '3s/"wall_ms":[0-9]*/"wall_ms":1772400000000/' data/events.jsonl \
            && sha256sum data/events.jsonl > /tmp/fk-sum && grep -v ' data/events.jsonl$' manifest-sha256.txt > m.tmp \
            && cat /tmp/fk-sum >> m.tmp && mv m.tmp manifest-sha256.txt \
            && (for f in bagit.txt bag-info.txt manifest-sha256.txt device-public-key.pem; do sha256sum $f; done) > tagmanifest-sha256.txt
            """)
        let keys = try BagVerifier.verify(dir + "/b2")[0].problems.map(\.key)
        #expect(keys.contains("verify.chain_broken") && keys.contains("verify.signature"), "\(keys)")
        #expect(!keys.contains("verify.checksum"))
        // A file slipped in
        sh("cp -r '\(dir)/bag' '\(dir)/b3' && echo extra > '\(dir)/b3/data/extra.txt'")
        let added = try BagVerifier.verify(dir + "/b3")[0].problems.map(\.key)
        #expect(added.contains("verify.unlisted") && added.contains("verify.oxum"))
    }
}
