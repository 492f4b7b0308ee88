import FieldKitCore

/// Why a station command could not be done. Each message names the value and the next step.
public enum StationError: Error, Equatable, CustomStringConvertible {
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

    public var description: String {
        switch self {
        case .notInitialized(let home):
            "no fieldkit station in \(home); run `fieldkit init --home \(home) --site SITE --county-root root.pub` first"
        case .alreadyInitialized(let home, let site):
            "\(home) already holds the station of site \(site); nothing was changed"
        case .badRootKey(let why): "the county root key is not usable: \(why); use the root.pub file the county gave you"
        case .badSiteID(let id): "site id '\(id)' is not usable; use letters, digits, - or _ (as the county wrote it)"
        case .badDeviceKey(let why): "the device key is not usable: \(why); restore it from backup or call support"
        case .noTrustBundle: "no trust bundle imported yet; run `fieldkit trust import FILE` with the county's bundle"
        case .notOnRoster(let v):
            "voucher \(v) is not on this site's roster; check the number or import a fresh trust bundle"
        case .reasonRequired: "a manual entry needs a reason (--reason \"scanner broken\"); nothing was recorded"
        case .noSignIn(let v, let s):
            "voucher \(v) has no sign-in in \(s); enter the sign-in first (--direction in)"
        case .unknownClass(let c):
            "class \(c) is not in this site's trust bundle; check the number with `fieldkit status`"
        case .outBeforeIn(let v, let t):
            "voucher \(v) signed in at \(t); a sign-out must be later (check --at); nothing was recorded"
        case .manualInFuture(let t): "manual time \(t) is in the future; nothing was recorded"
        }
    }
}
