import CountyKit
import FieldKitCore
@testable import FieldKitEvidence
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Evidence verify: which key signed the bag", .serialized)
struct KeyPinTests {
    /// The real station with its bag, a forger's station (same site, same county root) with
    /// its own bag, and the county.
    func world() throws -> (real: Station, forger: Station, county: CountyOffice, dir: String) {
        let (real, dir) = try EvidenceBagTests().station()
        let clock = try #require(real.clock as? FixedClock)
        let county = try CountyOffice(home: dir + "/county", now: { [clock] in clock.now() })
        try enrollDevice(real, in: county)
        _ = try EvidenceBag.write(station: real, classID: 12, to: dir + "/real", includeVideo: true)
        let forger = try Station.initialize(
            home: dir + "/forger", siteID: "S01", rootKeyFile: try Files.read(dir + "/county/root.pub"), clock: clock)
        _ = try forger.importTrust(fileBytes: county.exportBundle(site: "S01").fileBytes)
        _ = try EvidenceBag.write(station: forger, classID: 12, to: dir + "/forged", includeVideo: true)
        try Files.writeAtomically(try county.exportDeviceKeys().file, to: dir + "/keys.json")
        return (real, forger, county, dir)
    }

    func keys(_ check: BagCheck) -> [String] { check.problems.map(\.key) }

    @Test("a wholly forged bag passes on its own key, and the output says the key was not checked")
    func unpinned() throws {
        let w = try world()
        let c = try #require(try BagVerifier.verify(w.dir + "/forged").first)
        #expect(c.ok, "\(c.problems)")
        #expect(c.key == BagKey(device: w.forger.deviceID, fingerprint: KeyFingerprint(publicKey: try BagForgery.rawKey(w.forger)).description, pinned: false))
        #expect(c.notes.map(\.key).contains("verify.key_not_pinned"))
        let json = String(decoding: try JSONEncoder().encode(c.key), as: UTF8.self)
        #expect(json.contains("\"pinned\":false") && json.contains("\"device\":") && json.contains("\"fingerprint\":"))
    }

    @Test("--expect-key device.pub, fingerprint or the county's list: the forged bag fails naming device and key; the real one passes")
    func pinned() throws {
        let w = try world()
        let realFingerprint = KeyFingerprint(publicKey: try BagForgery.rawKey(w.real))
        let forgedFingerprint = KeyFingerprint(publicKey: try BagForgery.rawKey(w.forger))
        try Files.writeAtomically(
            Array(EvidenceBag.devicePublicKeyPEM(try BagForgery.rawKey(w.real)).utf8), to: w.dir + "/real.pem")
        let ways: [(String, KeyPins)] = [
            ("device.pub", try KeyPins.load([w.real.home + "/device.pub"])),
            ("PEM", try KeyPins.load([w.dir + "/real.pem"])),
            ("fingerprint", try KeyPins.load([realFingerprint.description])),
            ("bare hex", try KeyPins.load([realFingerprint.hex.uppercased()])),
            ("county list, root.pub", try KeyPins.load([w.dir + "/keys.json"], countyRoot: w.dir + "/county/root.pub")),
            ("county list, the station's pinned root", try KeyPins.load([w.dir + "/keys.json"], stationHome: w.real.home)),
        ]
        for (way, pins) in ways {
            let forged = try #require(try BagVerifier.verify(w.dir + "/forged", expecting: pins).first)
            #expect(keys(forged) == ["verify.key_not_expected"], "\(way)")
            #expect(forged.problems.first?.values == ["device": w.forger.deviceID, "fingerprint": forgedFingerprint.description], "\(way)")
            #expect(!forged.key.pinned)
            let real = try #require(try BagVerifier.verify(w.dir + "/real", expecting: pins).first)
            #expect(real.ok && real.key.pinned && real.key.fingerprint == realFingerprint.description, "\(way): \(real.problems)")
            #expect(real.key.expectedBy != nil && !real.notes.map(\.key).contains("verify.key_not_pinned"))
        }
        // Several keys: any one of them will do
        let both = try KeyPins.load([realFingerprint.description, forgedFingerprint.description])
        #expect(try BagVerifier.verify(w.dir + "/forged", expecting: both).allSatisfy(\.ok))
    }

    @Test("a county list needs a root to check it; a changed list or a wrong root is one clear error")
    func listNeedsRoot() throws {
        let w = try world()
        #expect(throws: KeyPinError.noCountyRoot(w.dir + "/keys.json")) { try KeyPins.load([w.dir + "/keys.json"]) }
        #expect(throws: KeyPinError.badRoot(w.dir + "/real/bagit.txt")) {
            try KeyPins.load([w.dir + "/keys.json"], countyRoot: w.dir + "/real/bagit.txt")
        }
        #expect(throws: DeviceKeyListError.self) { try KeyPins.load([w.dir + "/keys.json"], countyRoot: w.real.home + "/device.pub") }
        var bytes = try Files.read(w.dir + "/keys.json")
        bytes[bytes.count / 2] ^= 0x01
        try Files.writeAtomically(bytes, to: w.dir + "/changed.json")
        #expect(throws: DeviceKeyListError.self) { try KeyPins.load([w.dir + "/changed.json"], countyRoot: w.dir + "/county/root.pub") }
        #expect(throws: KeyPinError.notAKey("SHA256:1234")) { try KeyPins.load(["SHA256:1234"]) }
        #expect(throws: KeyPinError.fileNotAKey(w.dir + "/real/bagit.txt")) { try KeyPins.load([w.dir + "/real/bagit.txt"]) }
    }

    @Test("the device id must carry the signing key's id; a bag claiming the real device under another key fails")
    func deviceIDBoundToKey() throws {
        let w = try world()
        sh("cp -r '\(w.dir)/forged' '\(w.dir)/claimed'")
        try BagForgery.setInfo(w.dir + "/claimed", EvidenceBag.deviceField, w.real.deviceID)
        try BagForgery.reseal(w.dir + "/claimed", signer: w.forger)
        let c = try #require(try BagVerifier.verify(w.dir + "/claimed").first)
        #expect(keys(c).contains("verify.device_key"), "\(c.problems)")
        #expect(c.key.device == w.real.deviceID)
    }

    @Test("the real device's log replayed under another key: every event and checkpoint names another device")
    func replayedLog() throws {
        let w = try world()
        _ = try w.real.checkpoint(reason: "test")
        sh("rm -rf '\(w.dir)/real'")
        _ = try EvidenceBag.write(station: w.real, classID: 12, to: w.dir + "/real", includeVideo: true)
        sh("cp -r '\(w.dir)/forged' '\(w.dir)/replayed' && cp '\(w.dir)/real/data/events.jsonl' '\(w.dir)/real/data/checkpoints.jsonl' '\(w.dir)/replayed/data/'")
        try BagForgery.remanifest(w.dir + "/replayed", signer: w.forger)
        let c = try #require(try BagVerifier.verify(w.dir + "/replayed").first)
        #expect(keys(c).contains("verify.event_device") && keys(c).contains("verify.checkpoint_device"), "\(c.problems)")
        #expect(!keys(c).contains("verify.chain_broken"), "the chain itself is whole")
    }

    @Test("a revoked device: its bag from before passes with a note saying when; events and checkpoints after fail")
    func revoked() throws {
        let w = try world()
        let clock = try #require(w.real.clock as? FixedClock)
        let day = try #require(ClassDay(iso: "2026-03-02"))
        // Revoked three days later: everything in the bag is from before
        clock.time = try #require(ClassDay(iso: "2026-03-05")).at(LocalTime("09:00")!)
        try w.county.revokeDevice(w.real.deviceID, reason: "PC stolen")
        try Files.writeAtomically(try w.county.exportDeviceKeys().file, to: w.dir + "/keys.json")
        let pins = try KeyPins.load([w.dir + "/keys.json"], countyRoot: w.dir + "/county/root.pub")
        let before = try #require(try BagVerifier.verify(w.dir + "/real", expecting: pins).first)
        #expect(before.ok, "\(before.problems)")
        #expect(before.key.revokedMs == clock.time.milliseconds && before.notes.map(\.key).contains("verify.key_revoked"))

        // Revoked at 09:00 on the class day: the 11:20 sign-out, its checkpoint and the bag are after it
        let county2 = try CountyOffice.initialize(home: w.dir + "/county2", countyID: "141023", now: { [clock] in clock.now() })
        try county2.addSite(id: "S01", name: "古县职业培训学校")
        try enrollDevice(w.real, in: county2)
        clock.time = day.at(LocalTime("09:00")!)
        try county2.revokeDevice(w.real.deviceID, reason: "PC stolen")
        try Files.writeAtomically(try county2.exportDeviceKeys().file, to: w.dir + "/keys2.json")
        clock.time = day.at(LocalTime("12:00")!)
        _ = try w.real.checkpoint(reason: "after")
        sh("rm -rf '\(w.dir)/real'")
        _ = try EvidenceBag.write(station: w.real, classID: 12, to: w.dir + "/real", includeVideo: true)
        let pins2 = try KeyPins.load([w.dir + "/keys2.json"], countyRoot: w.dir + "/county2/root.pub")
        let after = try #require(try BagVerifier.verify(w.dir + "/real", expecting: pins2).first)
        #expect(keys(after).contains("verify.after_revocation_event") && keys(after).contains("verify.after_revocation_checkpoint"),
                "\(after.problems)")
        #expect(after.key.pinned)
    }
}
