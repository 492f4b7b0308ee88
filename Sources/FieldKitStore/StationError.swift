import FieldKitCore

/// Why a station command could not be done. Each message names the value and the next step.
public enum StationError: Error, Equatable, LocalizedFailure {
    /// No station in the home folder.
    case notInitialized(String)
    /// `init` on a home that already has one.
    case alreadyInitialized(String, site: String)
    /// The county root key file is not a key.
    case badRootKey(String)
    /// A site id that cannot be used.
    case badSiteID(String)
    /// The device key file is missing or damaged.
    case badDeviceKey(String)
    /// The device key is there but the database is gone: restore it from backup (a new
    /// `init` would start a second log under the same key).
    case databaseMissing(home: String, database: String, keyID: String)
    /// `init` where the device key is there but its database is gone: refused unless the PC is
    /// to become a new device (`--new-device`).
    case initWouldReuseKey(home: String, database: String, keyID: String)
    /// The database holds a log but the device key that signs it is gone.
    case deviceKeyMissing(home: String, key: String)
    /// No trust bundle yet.
    case noTrustBundle
    /// A voucher the roster does not list.
    case notOnRoster(UInt64)
    /// A manual entry with no reason.
    case reasonRequired
    /// A manual sign-out without a sign-in.
    case noSignIn(UInt64, session: String)
    /// A class this site's trust bundle does not hold.
    case unknownClass(UInt32)
    /// A manual sign-out earlier than the sign-in.
    case outBeforeIn(UInt64, signedInAt: String)
    /// A manual time that is in the future.
    case manualInFuture(String)

    /// A recording whose times are neither given nor in its file name.
    case videoNoTimes(String)
    /// A recording that cannot be read.
    case videoUnreadable(String, String)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .notInitialized(let home): ("error.station.not_initialized", ["home": home])
        case .alreadyInitialized(let home, let site): ("error.station.already", ["home": home, "site": site])
        case .badRootKey(let why): ("error.station.root_key", ["why": why])
        case .badSiteID(let id): ("error.station.site_id", ["site": id])
        case .badDeviceKey(let why): ("error.station.device_key", ["why": why])
        case .databaseMissing(let home, let db, let kid): ("error.station.database_missing", ["home": home, "database": db, "kid": kid])
        case .initWouldReuseKey(let home, let db, let kid): ("error.station.init_reuse_key", ["home": home, "database": db, "kid": kid])
        case .deviceKeyMissing(let home, let key): ("error.station.key_missing", ["home": home, "key": key])
        case .noTrustBundle: ("error.station.no_trust", [:])
        case .notOnRoster(let v): ("error.station.not_on_roster", ["voucher": String(v)])
        case .reasonRequired: ("error.station.reason", [:])
        case .noSignIn(let v, let s): ("error.station.no_sign_in", ["voucher": String(v), "session": s])
        case .unknownClass(let c): ("error.station.unknown_class", ["class": String(c)])
        case .outBeforeIn(let v, let t): ("error.station.out_before_in", ["voucher": String(v), "time": t])
        case .manualInFuture(let t): ("error.station.future", ["time": t])
        case .videoNoTimes(let p): ("error.video.no_times", ["file": p])
        case .videoUnreadable(let p, let why): ("error.video.unreadable", ["file": p, "why": why])
        }
    }
}
