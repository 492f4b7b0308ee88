import FieldKitCore
@testable import FieldKitEvidence
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// What a forger does to a bag folder: rewrite files, then recompute the manifests and sign the
/// tag manifest with a device key it holds, so the bag is consistent with itself.
enum BagForgery {
    /// SHA-256 of a file's bytes, hex.
    static func sha256(_ path: String) throws -> String { hexString(try Files.sha256(path).digest) }

    /// Rewrites `manifest-sha256.txt` from the files under data/ (plus `extra` lines as given)
    /// and fixes Payload-Oxum, then reseals the tags.
    static func remanifest(_ bag: String, signer: Station, extra: [String] = []) throws {
        var lines: [String] = []
        var bytes: Int64 = 0
        for e in try listTree(bag + "/data") where e.kind == .file {
            lines.append("\(try sha256(bag + "/data/" + e.relative))  data/\(e.relative)")
            bytes += e.size
        }
        try write(bag + "/manifest-sha256.txt", (lines + extra).joined(separator: "\n") + "\n")
        var info = try text(bag + "/bag-info.txt").split(separator: "\n").map(String.init)
        info = info.map { $0.hasPrefix("Payload-Oxum:") ? "Payload-Oxum: \(bytes).\(lines.count)" : $0 }
        try write(bag + "/bag-info.txt", info.joined(separator: "\n") + "\n")
        try reseal(bag, signer: signer)
    }

    /// Rewrites `tagmanifest-sha256.txt` over the usual tag files (and `extraTags` lines as given)
    /// and signs it with `signer`'s device key, writing that key's PEM into the bag.
    static func reseal(_ bag: String, signer: Station, extraTags: [String] = [], skip: Set<String> = []) throws {
        let raw = try rawKey(signer)
        try write(bag + "/device-public-key.pem", EvidenceBag.devicePublicKeyPEM(raw))
        var lines: [String] = []
        for name in ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "device-public-key.pem", "fetch.txt"]
        where Files.exists(bag + "/" + name) && !skip.contains(name) {
            lines.append("\(try sha256(bag + "/" + name))  \(name)")
        }
        let tags = (lines + extraTags).joined(separator: "\n") + "\n"
        try write(bag + "/tagmanifest-sha256.txt", tags)
        try Files.writeAtomically(try signer.signDetached(Array(tags.utf8)), to: bag + "/tagmanifest-sha256.txt.sig")
    }

    /// Sets a bag-info.txt field.
    static func setInfo(_ bag: String, _ label: String, _ value: String) throws {
        let info = try text(bag + "/bag-info.txt").split(separator: "\n").map { $0.hasPrefix(label + ":") ? "\(label): \(value)" : String($0) }
        try write(bag + "/bag-info.txt", info.joined(separator: "\n") + "\n")
    }

    static func text(_ path: String) throws -> String { String(decoding: try Files.read(path), as: UTF8.self) }
    static func write(_ path: String, _ text: String) throws { try Files.writeAtomically(Array(text.utf8), to: path) }

    /// The station's raw public key, from its `device.pub`.
    static func rawKey(_ station: Station) throws -> [UInt8] { try devicePublicKey(station) }
}
