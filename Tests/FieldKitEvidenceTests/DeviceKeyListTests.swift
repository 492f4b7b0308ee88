@testable import CountyKit
import FieldKitCore
import FieldKitEvidence
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Key fingerprints and the county's list of device keys")
struct KeyFingerprintTests {
    @Test("SHA256: and the hex of SHA-256 of the raw key, in groups of four; parsed however it is typed")
    func fingerprint() throws {
        let raw = [UInt8](repeating: 7, count: 32)
        let f = KeyFingerprint(publicKey: raw)
        #expect(f.hex == hexString(try Files.sha256Bytes(raw)))
        #expect(f.description.hasPrefix("SHA256:") && f.description.count == 7 + 64 + 15)
        let groups: [Substring] = f.description.split(separator: ":")
        #expect(groups.dropFirst().allSatisfy { $0.count == 4 } && groups.count == 17)
        #expect(f.keyID == KeyID(publicKey: raw))
        for typed in [f.description, f.hex, f.hex.uppercased(), "sha256:" + f.hex, "SHA256: " + f.description.dropFirst(7).replacingColons(" "),
                      f.description.dropFirst(7).replacingColons("-")] {
            #expect(KeyFingerprint(parsing: String(typed)) == f, "\(typed)")
        }
        for bad in ["", "SHA256:", String(f.hex.dropLast()), f.hex + "0", "SHA256:" + f.hex.dropLast(2) + "zz", "MD5:" + f.hex] {
            #expect(KeyFingerprint(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("device keys export: signed by the root, openssl checks it as documented, any change or another root is refused")
    func deviceKeyList() throws {
        let (station, dir) = try EvidenceBagTests().station()
        let clock = try #require(station.clock as? FixedClock)
        let county = try CountyOffice(home: dir + "/county", now: { [clock] in clock.now() })
        try enrollDevice(station, in: county)
        let export = try county.exportDeviceKeys()
        #expect(export.list.devices.map(\.id) == [station.deviceID])
        #expect(export.list.devices[0].fingerprint == KeyFingerprint(publicKey: try devicePublicKey(station)).description)
        let path = dir + "/keys.json"
        try Files.writeAtomically(export.file, to: path)
        let root = try #require(Base64.decode(String(decoding: try Files.read(dir + "/county/root.pub"), as: UTF8.self)))
        let opened = try DeviceKeyList.open(fileBytes: export.file, name: path, rootPublicKey: root)
        #expect(opened == export.list)
        // Valid JSON as a whole, one device a line, and the documented openssl check passes
        #expect(sh("python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '\(path)'") == 0)
        let check = """
            cd '\(dir)' && (printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'; base64 -d county/root.pub) > root.der \
            && (printf 'FKDK1\\000'; sed '$d' keys.json) > signed.bin && tail -n 1 keys.json | cut -d'"' -f4 | base64 -d > signature.bin \
            && openssl pkeyutl -verify -pubin -keyform DER -inkey root.der -rawin -in signed.bin -sigfile signature.bin >/dev/null 2>&1
            """
        #expect(sh(check) == 0)

        let text = String(decoding: export.file, as: UTF8.self)
        func refused(_ bytes: [UInt8], _ rootKey: [UInt8] = root) -> DeviceKeyListError? {
            do {
                _ = try DeviceKeyList.open(fileBytes: bytes, name: path, rootPublicKey: rootKey)
                return nil
            } catch let e as DeviceKeyListError {
                return e
            } catch {
                return .damaged(path, why: "\(error)")
            }
        }
        // A device's status edited
        #expect(refused(Array(text.replacingOccurrences("\"status\":\"active\"", "\"status\":\"revoked\"").utf8)) == .badSignature(path))
        // A field slipped in beside the signature
        let sig = text.split(separator: "\n").last.map(String.init) ?? ""
        let smuggled = text.replacingOccurrences(sig, String(sig.dropLast()) + ",\"devices\":[]}")
        #expect(refused(Array(smuggled.utf8)).map { if case .damaged = $0 { true } else { false } } == true)
        // Cut short; not JSON; signed by another county
        #expect(refused(Array(export.file.prefix(40))) != nil)
        #expect(refused(Array("hello\n".utf8)) != nil)
        #expect(refused(export.file, [UInt8](repeating: 9, count: 32)).map { if case .wrongSigner = $0 { true } else { false } } == true)
        #expect(refused([UInt8](repeating: 0x20, count: DeviceKeyList.maxFileBytes + 1)) == .tooLarge(path, limit: DeviceKeyList.maxFileBytes))
        // The signature line shown in the error is one line, naming the file
        #expect("\(DeviceKeyListError.badSignature(path))".contains(path))
    }
}

/// A station's raw public key, from its `device.pub`.
func devicePublicKey(_ station: Station) throws -> [UInt8] {
    let text = String(decoding: try Files.read(station.home + "/" + Station.Layout.devicePublicKey), as: UTF8.self)
    guard let raw = Base64.decode(text) else { throw FileError.cannotRead(station.home, reason: "no device.pub") }
    return raw
}

/// Enrolls a station's key at the county, as the server does on `fieldkit enroll`.
func enrollDevice(_ station: Station, in county: CountyOffice) throws {
    try county.db.run(
        "INSERT INTO devices(id, site_id, public_key, status, enrolled_ms) VALUES (?, ?, ?, 'active', ?)",
        [
            .text(station.deviceID), .text(station.siteID), .text(Base64.encode(try devicePublicKey(station))),
            .integer(station.clock.now().milliseconds),
        ])
}

extension Files {
    /// SHA-256 of bytes in memory (through a file, as the bags are).
    static func sha256Bytes(_ bytes: [UInt8]) throws -> [UInt8] {
        let dir = scratch()
        try writeAtomically(bytes, to: dir + "/x")
        return try sha256(dir + "/x").digest
    }
}

extension StringProtocol {
    /// The text with every `:` replaced.
    func replacingColons(_ with: String) -> String { split(separator: ":", omittingEmptySubsequences: false).joined(separator: with) }

    /// The text with every `of` replaced.
    func replacingOccurrences(_ of: String, _ with: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: of) {
            out += rest[..<r.lowerBound] + with
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
