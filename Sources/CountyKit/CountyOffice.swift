import Crypto
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials
import Logging

/// The county office's records and keys in one home folder: the root key that signs trust
/// bundles, voucher signing keys that rotate, the pseudonym secret, sites, classes, vouchers.
public final class CountyOffice {
    /// The home folder.
    public let home: String
    /// The database.
    let db: Database
    /// The county code.
    public let countyID: String
    let rootKey: Curve25519.Signing.PrivateKey
    let pseudonymSecret: SymmetricKey
    let logger: Logger
    public let now: @Sendable () -> Timestamp

    /// Files in the home folder.
    public enum Layout {
        /// The database.
        public static let database = "county.db"
        /// Private keys (each mode 0600).
        public static let keys = "keys"
        /// The root public key, to hand to every site.
        public static let rootPublicKey = "root.pub"
    }

    /// Opens an initialised county home.
    /// - Throws: ``CountyError/notInitialized(_:)``.
    public init(
        home: String, logger: Logger = Logger(label: "fieldkit-county", factory: { _ in SwiftLogNoOpLogHandler() }),
        now: @escaping @Sendable () -> Timestamp = { SystemClock().now() }
    ) throws {
        let path = home + "/" + Layout.database
        guard Files.exists(path) else { throw CountyError.notInitialized(home) }
        let db = try Database(path: path)
        try db.migrate(CountySchema.migrations, now: now())
        guard let county = try db.first("SELECT value FROM settings WHERE key = 'county_id'", [], { $0.text(0) }) ?? nil
        else { throw CountyError.notInitialized(home) }
        self.home = home
        self.db = db
        self.countyID = county
        self.rootKey = try Curve25519.Signing.PrivateKey(rawRepresentation: CountyOffice.readKey(home, "root.key", bytes: 32))
        self.pseudonymSecret = SymmetricKey(data: try CountyOffice.readKey(home, "pseudonym.key", bytes: 32))
        self.logger = logger
        self.now = now
    }

    /// Creates a county: root key, first voucher signing key, pseudonym secret (all 0600),
    /// `root.pub` for the sites, and the database.
    @discardableResult
    public static func initialize(
        home: String, countyID: String, logger: Logger = Logger(label: "fieldkit-county", factory: { _ in SwiftLogNoOpLogHandler() }),
        now: @escaping @Sendable () -> Timestamp = { SystemClock().now() }
    ) throws -> CountyOffice {
        guard (1...12).contains(countyID.count), countyID.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw CountyError.badCountyID(countyID)
        }
        if let existing = try? CountyOffice(home: home, logger: logger, now: now) {
            throw CountyError.alreadyInitialized(home, county: existing.countyID)
        }
        try Files.makeDirectory(home + "/" + Layout.keys)
        let root = try ensureKey(home, "root.key")
        _ = try ensureKey(home, "pseudonym.key")
        let rootPublic = try Curve25519.Signing.PrivateKey(rawRepresentation: root).publicKey
        try Files.writeAtomically(
            Array((Base64.encode(rootPublic.rawRepresentation) + "\n").utf8), to: home + "/" + Layout.rootPublicKey)
        let db = try Database(path: home + "/" + Layout.database)
        try db.migrate(CountySchema.migrations)
        try db.run("INSERT OR REPLACE INTO settings(key, value) VALUES ('county_id', ?)", [.text(countyID)])
        let office = try CountyOffice(home: home, logger: logger, now: now)
        if try office.listKeys().isEmpty { _ = try office.rotateKey() }
        logger.info("county initialised", metadata: ["county": "\(countyID)"])
        return office
    }

    static func keyPath(_ home: String, _ name: String) -> String { home + "/" + Layout.keys + "/" + name }

    static func ensureKey(_ home: String, _ name: String) throws -> [UInt8] {
        let path = keyPath(home, name)
        if Files.exists(path) { return try readKey(home, name, bytes: 32) }
        let raw = name == "pseudonym.key"
            ? SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            : Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        try Files.createPrivate(Array((Base64.encode(raw) + "\n").utf8), at: path)
        return raw
    }

    static func readKey(_ home: String, _ name: String, bytes: Int) throws -> [UInt8] {
        let path = keyPath(home, name)
        guard let text = try? Files.read(path) else { throw CountyError.badKeyFile("\(path) cannot be read") }
        guard let raw = Base64.decode(String(decoding: text, as: UTF8.self)), raw.count == bytes else {
            throw CountyError.badKeyFile("\(path) is not a key")
        }
        return raw
    }

    /// The county root public key.
    public var rootPublicKey: Curve25519.Signing.PublicKey { rootKey.publicKey }

    // MARK: - Keys

    /// Every voucher signing key, newest first.
    public func listKeys() throws -> [SigningKeyEntry] {
        try db.query("\(CountyOffice.keySelect) ORDER BY created_ms DESC, kid", [], CountyOffice.keyRow)
    }

    /// A voucher signing key by id.
    public func signingKey(_ kid: KeyID) throws -> SigningKeyEntry? {
        try db.first("\(CountyOffice.keySelect) WHERE kid = ?", [.integer(Int64(kid.value))], CountyOffice.keyRow)
    }

    static let keySelect = "SELECT kid, public_key, valid_from, valid_to, status FROM signing_keys"

    static func keyRow(_ r: Statement) -> SigningKeyEntry {
        SigningKeyEntry(
            kid: KeyID(UInt32(truncatingIfNeeded: r.int64(0))), publicKey: r.text(1) ?? "",
            validFrom: ClassDay(number: Int(r.int64(2))), validTo: r.optionalInt64(3).map { ClassDay(number: Int($0)) },
            status: KeyStatus(rawValue: r.text(4) ?? "") ?? .revoked)
    }

    /// Makes a new active voucher signing key. The old one retires: it signs nothing more, and
    /// stays valid exactly as long as the vouchers it signed.
    @discardableResult
    public func rotateKey() throws -> SigningKeyEntry {
        let key = Curve25519.Signing.PrivateKey()
        let kid = KeyID(of: key.publicKey)
        try Files.createPrivate(
            Array((Base64.encode(key.rawRepresentation) + "\n").utf8), at: CountyOffice.keyPath(home, "voucher-\(kid).key"))
        let today = now().classDay()
        try db.transaction {
            for old in try db.query("SELECT kid FROM signing_keys WHERE status = 'active'", [], { $0.int64(0) }) {
                let lastUse = try db.first("SELECT max(valid_to) FROM vouchers WHERE kid = ?", [.integer(old)]) {
                    $0.optionalInt64(0)
                } ?? nil
                try db.run(
                    "UPDATE signing_keys SET status = 'retired', valid_to = ? WHERE kid = ?",
                    [.integer(lastUse ?? Int64(today.number)), .integer(old)])
            }
            try db.run(
                "INSERT INTO signing_keys(kid, public_key, valid_from, valid_to, status, created_ms) VALUES (?, ?, ?, NULL, 'active', ?)",
                [
                    .integer(Int64(kid.value)), .text(Base64.encode(key.publicKey.rawRepresentation)),
                    .integer(Int64(today.number)), .integer(now().milliseconds),
                ])
        }
        logger.info("voucher signing key rotated", metadata: ["kid": "\(kid)"])
        return try listKeys().first { $0.kid == kid }!
    }

    /// Marks a voucher signing key compromised: sites refuse everything it signed from today on
    /// (once they import the next bundle). Vouchers it signed must be reissued.
    public func revokeKey(_ kid: KeyID) throws {
        try db.transaction {
            guard let status = try db.first("SELECT status FROM signing_keys WHERE kid = ?", [.integer(Int64(kid.value))], {
                $0.text(0) ?? ""
            }) else { throw CountyError.unknownKey(kid.description) }
            guard status != KeyStatus.revoked.rawValue else { throw CountyError.unknownKey("\(kid) (already revoked)") }
            try db.run(
                "UPDATE signing_keys SET status = 'revoked', valid_to = ? WHERE kid = ?",
                [.integer(Int64(now().classDay().number - 1)), .integer(Int64(kid.value))])
        }
        if try listKeys().allSatisfy({ $0.status != .active }) { try rotateKey() }
        logger.info("voucher signing key revoked", metadata: ["kid": "\(kid)"])
    }

    func activeSigningKey() throws -> (KeyID, Curve25519.Signing.PrivateKey) {
        guard let kid = try db.first("SELECT kid FROM signing_keys WHERE status = 'active'", [], {
            KeyID(UInt32(truncatingIfNeeded: $0.int64(0)))
        }) else { throw CountyError.badKeyFile("no active voucher signing key; run `key rotate`") }
        let raw = try CountyOffice.readKey(home, "voucher-\(kid).key", bytes: 32)
        return (kid, try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
    }

    // MARK: - Sites and classes

    /// Adds a training site.
    public func addSite(id: String, name: String) throws {
        guard DeviceID.isValidSite(id) else { throw CountyError.badSiteID(id) }
        guard try db.first("SELECT 1 FROM sites WHERE id = ?", [.text(id)], { _ in true }) == nil else {
            throw CountyError.siteExists(id)
        }
        try db.run("INSERT INTO sites(id, name) VALUES (?, ?)", [.text(id), .text(name)])
    }

    /// Adds a class at a site.
    public func addClass(_ info: ClassInfo, site: String) throws {
        guard try db.first("SELECT 1 FROM sites WHERE id = ?", [.text(site)], { _ in true }) != nil else {
            throw CountyError.unknownSite(site)
        }
        guard try db.first("SELECT 1 FROM classes WHERE id = ?", [.integer(Int64(info.id))], { _ in true }) == nil else {
            throw CountyError.classExists(info.id)
        }
        try info.validateForBundle()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try db.run(
            """
            INSERT INTO classes(id, site_id, name, trade, level, location, start_day, end_day, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(Int64(info.id)), .text(site), .text(info.name), .text(info.trade.description),
                .integer(Int64(info.level)), .text(info.location), .integer(Int64(info.startDate.number)),
                .integer(Int64(info.endDate.number)), .text(String(decoding: try encoder.encode(info), as: UTF8.self)),
            ])
    }

    /// A class by id.
    public func classInfo(_ id: UInt32) throws -> (ClassInfo, site: String)? {
        try db.first("SELECT json, site_id FROM classes WHERE id = ?", [.integer(Int64(id))]) { s in
            (try JSONDecoder().decode(ClassInfo.self, from: Data((s.text(0) ?? "").utf8)), s.text(1) ?? "")
        }
    }
}

extension ClassInfo {
    /// The checks a bundle will make, made when the class is added.
    func validateForBundle() throws {
        let probe = TrustBundle(
            countyID: "0", siteID: "x", siteName: "x", sequence: 1, issuedAt: Timestamp(milliseconds: 0),
            expiresAt: Timestamp(milliseconds: 1), signingKeys: [], revocations: [], classes: [self], roster: [])
        try probe.validate()
    }
}

extension CountyOffice {
    /// A site's name, or nil for an unknown site.
    public func siteName(_ id: String) throws -> String? {
        try db.first("SELECT name FROM sites WHERE id = ?", [.text(id)]) { $0.text(0) } ?? nil
    }
}
