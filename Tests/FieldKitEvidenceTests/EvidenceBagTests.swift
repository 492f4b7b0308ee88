import CountyKit
import FieldKitCore
import FieldKitEvidence
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
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
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
}
