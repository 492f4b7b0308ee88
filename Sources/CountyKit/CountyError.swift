import FieldKitCore

/// Why a county command could not be done. Each message names the value and the next step.
public enum CountyError: Error, Equatable, CustomStringConvertible {
    /// No county in the home folder.
    case notInitialized(String)
    /// `init` where a county already is.
    case alreadyInitialized(String, county: String)
    /// A county code that cannot be used.
    case badCountyID(String)
    /// A site id that cannot be used.
    case badSiteID(String)
    /// The site exists.
    case siteExists(String)
    /// No such site.
    case unknownSite(String)
    /// The class id is taken.
    case classExists(UInt32)
    /// No such class.
    case unknownClass(UInt32)
    /// No such voucher.
    case unknownVoucher(UInt64)
    /// Revoked already.
    case alreadyRevoked(UInt64, on: String)
    /// A revocation needs words.
    case reasonRequired
    /// No such signing key (or it is revoked already).
    case unknownKey(String)
    /// A key file is missing or damaged.
    case badKeyFile(String)
    /// A roster row names someone who already holds a voucher for the class.
    case alreadyIssued([String])
    /// Validity outside the class or reversed.
    case badValidity(String)

    public var description: String {
        switch self {
        case .notInitialized(let h):
            "no county in \(h); run `fieldkit-county init --home \(h) --county CODE` first"
        case .alreadyInitialized(let h, let c): "\(h) already holds county \(c); nothing was changed"
        case .badCountyID(let c): "county code '\(c)' is not usable; use the 6-digit division code, e.g. 141023"
        case .badSiteID(let s): "site id '\(s)' is not usable; use 1-32 letters, digits, - or _"
        case .siteExists(let s): "site \(s) already exists; choose another id or use it as it is"
        case .unknownSite(let s): "there is no site \(s); add it first with `site add --id \(s) --name NAME`"
        case .classExists(let c): "class \(c) already exists; choose another --id"
        case .unknownClass(let c): "there is no class \(c); add it first with `class add --id \(c) ...`"
        case .unknownVoucher(let v): "there is no voucher \(v) in this county; check the number"
        case .alreadyRevoked(let v, let d): "voucher \(v) was already revoked on \(d); nothing was changed"
        case .reasonRequired: "a revocation needs a reason (--reason \"reissued\"); nothing was changed"
        case .unknownKey(let k): "there is no usable voucher signing key \(k); see `key list`"
        case .badKeyFile(let why): "a county key is not usable: \(why); restore the keys folder from backup"
        case .alreadyIssued(let rows):
            "some trainees already hold a voucher for this class, nothing was issued; remove them and retry: "
                + rows.joined(separator: "; ")
        case .badValidity(let why): "voucher validity is wrong: \(why)"
        }
    }
}
