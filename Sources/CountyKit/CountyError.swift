import FieldKitCore

/// Why a county command could not be done. Each message names the value and the next step.
public enum CountyError: Error, Equatable, LocalizedFailure {
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
    /// Roster rows naming people who already hold a voucher for the class: line, name, voucher.
    case alreadyIssued([IssuedRow])
    /// Validity outside the class or reversed.
    case badValidity(String)
    /// No such device.
    case unknownDevice(String)
    /// A transfer file the county refused.
    case transferRefused(String, String)
    /// The device was cut off already.
    case deviceAlreadyRevoked(String, on: String)
    /// A payment needs its reference (the transfer's number).
    case referenceRequired
    /// Paid already, under another reference.
    case alreadyPaid(UInt64, reference: String)
    /// Only a claimed voucher can be paid; its state is given.
    case notClaimed(UInt64, state: String)
    /// The class has not ended: its claim sheet is a preview, nothing may be claimed or paid.
    case classRunning(UInt32, ends: Timestamp)
    /// Only a paid voucher can be written off; its state is given.
    case notPaid(UInt64, state: String)
    /// Neither a class nor a voucher was named.
    case classOrVoucherRequired
    /// The voucher was replaced already; the replacement is named.
    case alreadyReplaced(UInt64, by: UInt64)
    /// The class is over: no voucher of it can be reissued.
    case classEnded(UInt32, ended: String)
    /// An enrollment request file the county refused, and why.
    case enrollmentRefused(String, EnrollmentRefusal)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .notInitialized(let h): ("error.county.not_initialized", ["home": h])
        case .alreadyInitialized(let h, let c): ("error.county.already", ["home": h, "county": c])
        case .badCountyID(let c): ("error.county.county_id", ["county": c])
        case .badSiteID(let s): ("error.county.site_id", ["site": s])
        case .siteExists(let s): ("error.county.site_exists", ["site": s])
        case .unknownSite(let s): ("error.county.unknown_site", ["site": s])
        case .classExists(let c): ("error.county.class_exists", ["class": String(c)])
        case .unknownClass(let c): ("error.county.unknown_class", ["class": String(c)])
        case .classRunning(let c, let ends): ("error.county.class_running", ["class": String(c), "end": ends.localDescription()])
        case .unknownVoucher(let v): ("error.county.unknown_voucher", ["voucher": String(v)])
        case .alreadyRevoked(let v, let d): ("error.county.already_revoked", ["voucher": String(v), "date": d])
        case .reasonRequired: ("error.county.reason", [:])
        case .unknownKey(let k): ("error.county.unknown_key", ["kid": k])
        case .badKeyFile(let why): ("error.county.key_file", ["why": why])
        case .alreadyIssued(let rows):
            ("error.county.already_issued", ["rows": rows.map { $0.text(Localizer(.en)) }.joined(separator: "; ")])
        case .badValidity(let why): ("error.county.validity", ["why": why])
        case .transferRefused(let f, let why): ("error.county.transfer", ["file": f, "why": why])
        case .unknownDevice(let d): ("error.county.unknown_device", ["device": d])
        case .deviceAlreadyRevoked(let d, let date): ("error.county.device_revoked", ["device": d, "date": date])
        case .referenceRequired: ("error.county.reference", [:])
        case .alreadyPaid(let v, let r): ("error.county.already_paid", ["voucher": String(v), "reference": r])
        case .notClaimed(let v, let s): ("error.county.not_claimed", ["voucher": String(v), "state": s])
        case .notPaid(let v, let s): ("error.county.not_paid", ["voucher": String(v), "state": s])
        case .classOrVoucherRequired: ("error.county.class_or_voucher", [:])
        case .alreadyReplaced(let v, let n): ("error.county.already_replaced", ["voucher": String(v), "new": String(n)])
        case .classEnded(let c, let ended): ("error.county.class_ended", ["class": String(c), "end": ended])
        case .enrollmentRefused(let f, let why):
            switch why {
            case .unknownCode: ("error.county.enroll.unknown_code", ["file": f])
            case .usedCode: ("error.county.enroll.used_code", ["file": f])
            case .expiredCode(let at): ("error.county.enroll.expired_code", ["file": f, "time": at])
            case .otherSite(let s): ("error.county.enroll.other_site", ["file": f, "site": s])
            case .refused(let detail): ("error.county.enroll.refused", ["file": f, "why": detail])
            }
        }
    }
}

extension CountyError {
    /// Why an enrollment request file was refused.
    public enum EnrollmentRefusal: Sendable, Equatable {
        /// No such code.
        case unknownCode
        /// The code enrolled another device.
        case usedCode
        /// The code's time is over (when, in local words).
        case expiredCode(String)
        /// The code is for another site.
        case otherSite(String)
        /// Any other refusal, in the server's words.
        case refused(String)
    }

    /// A roster row whose trainee already holds a voucher for the class.
    public struct IssuedRow: Sendable, Equatable {
        /// Line in the roster file.
        public var line: Int
        /// Name on that line.
        public var name: String
        /// The voucher already held.
        public var voucher: UInt64
        /// That voucher was revoked: the next step is `voucher reissue`.
        public var revoked: Bool = false

        func text(_ t: Localizer) -> String {
            t(revoked ? "error.county.issued_row_revoked" : "error.county.issued_row",
              ["line": String(line), "name": name, "voucher": String(voucher)])
        }
    }

    /// The words in a language, each row's too.
    public func text(_ t: Localizer) -> String {
        guard case .alreadyIssued(let rows) = self else { return t(words.key, words.values) }
        return t("error.county.already_issued", ["rows": rows.map { $0.text(t) }.joined(separator: "; ")])
    }
}

