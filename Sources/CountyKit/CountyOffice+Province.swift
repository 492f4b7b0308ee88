import Crypto
import FieldKitCore
import FieldKitSQLite
import FoundationEssentials
import Logging

/// The province's key: a secret the province office makes once and hands to every county, so
/// that the same person gets the same province-wide pseudonym in every county
/// (``IDNumber/traineeRef(secret:)`` under this key) while each county keeps its own secret
/// for its own records. No ID number ever leaves a county; only these pseudonyms are compared.
public struct ProvinceKey: Sendable {
    /// The 32 secret bytes.
    let secret: SymmetricKey
    /// A short public name for the key, shown so two offices can tell they hold the same one:
    /// the first 8 bytes of its SHA-256, hex, in groups of four.
    public let fingerprint: String

    init(raw: [UInt8]) {
        secret = SymmetricKey(data: raw)
        let digest = Array(SHA256.hash(data: raw)).prefix(8)
        let hex = digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        fingerprint = stride(from: 0, to: hex.count, by: 4).map { i in
            String(hex.dropFirst(i).prefix(4))
        }.joined(separator: "-")
    }

    /// Makes a new province key file (mode 0600, refuses to overwrite one).
    /// - Returns: the new key's fingerprint.
    public static func create(at path: String) throws -> String {
        if Files.exists(path) { throw ProvinceError.keyFileExists(path) }
        let raw = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        try Files.createPrivate(Array((Base64.encode(raw) + "\n").utf8), at: path)
        return ProvinceKey(raw: raw).fingerprint
    }

    /// Reads a province key file.
    /// - Throws: ``ProvinceError/badKeyFile(_:)``.
    public static func read(_ path: String) throws -> ProvinceKey {
        guard let bytes = try? Files.read(path), bytes.count < 4096,
            let raw = Base64.decode(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()), raw.count == 32
        else { throw ProvinceError.badKeyFile(path) }
        return ProvinceKey(raw: raw)
    }

    /// A person's province-wide pseudonym.
    func ref(_ id: IDNumber) -> Int64 { Int64(bitPattern: id.traineeRef(secret: secret)) }
}

/// The province a county has joined.
public struct ProvinceMembership: Sendable, Equatable, Encodable {
    /// The province's two-digit code (山西 14).
    public var province: String
    /// The fingerprint of the key it joined with.
    public var fingerprint: String
}

/// Why a province step could not be done. Each message names the value and the next step.
public enum ProvinceError: Error, Equatable, LocalizedFailure {
    /// Not a two-digit province code.
    case badProvinceID(String)
    /// The county's code does not begin with the province's.
    case notInProvince(county: String, province: String)
    /// The key file is missing or not a key.
    case badKeyFile(String)
    /// `province key` would overwrite a key.
    case keyFileExists(String)
    /// The county joined already, with another key or province.
    case joinedElsewhere(ProvinceMembership)
    /// The county has not joined a province.
    case notJoined
    /// Nothing to report on.
    case noCounties
    /// A county database from an older fieldkit-county, not yet migrated.
    case olderDatabase(String)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .badProvinceID(let p): ("error.province.id", ["province": p])
        case .notInProvince(let c, let p): ("error.province.not_in", ["county": c, "province": p])
        case .badKeyFile(let f): ("error.province.key_file", ["file": f])
        case .keyFileExists(let f): ("error.province.key_exists", ["file": f])
        case .joinedElsewhere(let m): ("error.province.joined", ["province": m.province, "fingerprint": m.fingerprint])
        case .notJoined: ("error.province.not_joined", [:])
        case .noCounties: ("error.province.no_counties", [:])
        case .olderDatabase(let f): ("error.province.older", ["file": f])
        }
    }
}

extension CountyOffice {
    static let provinceKeyName = "province.key"

    /// The province this county joined, or nil.
    public func provinceMembership() throws -> ProvinceMembership? {
        let province = try setting("province_id"), fingerprint = try setting("province_key_fingerprint")
        guard let province, let fingerprint else { return nil }
        return ProvinceMembership(province: province, fingerprint: fingerprint)
    }

    /// The province key this county joined with, or nil when it has not joined.
    func provinceKey() throws -> ProvinceKey? {
        guard try provinceMembership() != nil else { return nil }
        return try ProvinceKey.read(CountyOffice.keyPath(home, CountyOffice.provinceKeyName))
    }

    /// Joins the county to a province: keeps a copy of the province's key (0600) and from now
    /// on records each new voucher's province-wide pseudonym. Joining again with the same key
    /// and province changes nothing.
    /// - Returns: the membership, and how many vouchers still have no province pseudonym
    ///   (issued before joining: `province link` with their rosters gives them one).
    /// - Throws: ``ProvinceError``.
    public func joinProvince(_ province: String, keyFile: String) throws -> (ProvinceMembership, unlinked: Int) {
        guard province.count == 2, province.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw ProvinceError.badProvinceID(province)
        }
        if countyID.count >= 2, !countyID.hasPrefix(province) {
            throw ProvinceError.notInProvince(county: countyID, province: province)
        }
        let key = try ProvinceKey.read(keyFile)
        let membership = ProvinceMembership(province: province, fingerprint: key.fingerprint)
        if let joined = try provinceMembership() {
            guard joined == membership else { throw ProvinceError.joinedElsewhere(joined) }
        } else {
            let path = CountyOffice.keyPath(home, CountyOffice.provinceKeyName)
            if Files.exists(path) { try Files.remove(path) }
            try Files.createPrivate(Array((Base64.encode(key.secret.withUnsafeBytes { Array($0) }) + "\n").utf8), at: path)
            try db.transaction {
                try setSetting("province_id", province)
                try setSetting("province_key_fingerprint", key.fingerprint)
            }
            logger.info("joined province", metadata: ["province": "\(province)", "key": "\(key.fingerprint)"])
        }
        return (membership, try unlinkedVouchers())
    }

    /// Vouchers with no province pseudonym.
    func unlinkedVouchers() throws -> Int {
        Int(
            try db.first(
                "SELECT count(*) FROM vouchers v WHERE NOT EXISTS (SELECT 1 FROM province_refs p WHERE p.voucher_id = v.id)", [],
                { $0.int64(0) }) ?? 0)
    }

    /// Gives the vouchers of a class issued before the county joined their province
    /// pseudonyms, from the class's roster read again (the same file `voucher issue` read).
    /// Rows are matched by the county's own pseudonym, so a row of another person links nothing.
    /// - Returns: how many vouchers were linked now, and the roster lines that match no voucher
    ///   of the class.
    /// - Throws: ``ProvinceError/notJoined``, ``RosterError``, ``CountyError/unknownClass(_:)``.
    public func linkProvince(classID: UInt32, roster rosterBytes: [UInt8]) throws -> (linked: Int, unmatched: [Int]) {
        guard let key = try provinceKey() else { throw ProvinceError.notJoined }
        guard try classInfo(classID) != nil else { throw CountyError.unknownClass(classID) }
        let roster = try Roster(bytes: rosterBytes)
        return try db.transaction {
            var linked = 0
            var unmatched: [Int] = []
            for row in roster.rows {
                let vouchers = try db.query(
                    "SELECT id FROM vouchers WHERE class_id = ? AND trainee_ref = ?",
                    [.integer(Int64(classID)), .integer(Int64(bitPattern: row.idNumber.traineeRef(secret: pseudonymSecret)))],
                    { $0.int64(0) })
                if vouchers.isEmpty { unmatched.append(row.line) }
                for v in vouchers { linked += try recordProvinceRef(voucher: v, ref: key.ref(row.idNumber)) }
            }
            logger.info("province pseudonyms linked", metadata: ["class": "\(classID)", "vouchers": "\(linked)"])
            return (linked, unmatched)
        }
    }

    /// Records a voucher's province pseudonym (once; a second call changes nothing).
    /// - Returns: 1 when recorded now, 0 when it was already.
    @discardableResult
    func recordProvinceRef(voucher: Int64, ref: Int64) throws -> Int {
        try db.run(
            "INSERT INTO province_refs(voucher_id, province_ref) VALUES (?, ?) ON CONFLICT (voucher_id) DO NOTHING",
            [.integer(voucher), .integer(ref)])
        return db.changes > 0 ? 1 : 0
    }

    /// A reissued voucher stands for the same person: it takes the old voucher's province
    /// pseudonym, when the old one has one.
    func copyProvinceRef(from old: Int64, to new: Int64) throws {
        try db.run(
            "INSERT INTO province_refs(voucher_id, province_ref) SELECT ?, province_ref FROM province_refs WHERE voucher_id = ?",
            [.integer(new), .integer(old)])
    }

    func setting(_ key: String) throws -> String? {
        try db.first("SELECT value FROM settings WHERE key = ?", [.text(key)], { $0.text(0) }) ?? nil
    }

    func setSetting(_ key: String, _ value: String) throws {
        try db.run(
            "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [.text(key), .text(value)])
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
