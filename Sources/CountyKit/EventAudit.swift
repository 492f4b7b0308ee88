import Crypto
import FieldKitCore
import FoundationEssentials
import Synchronization

/// Why the county holds an attendance event apart: stored (the log stays whole and the hash
/// chain intact) but never counted for money. The codes are stable; the SyncProtocol article
/// lists them.
public enum QuarantineReason: String, Sendable, CaseIterable, Encodable {
    /// A scan event without a voucher code.
    case codeMissing = "code_missing"
    /// The code is not a VT1 code.
    case codeMalformed = "code_malformed"
    /// The code names another voucher or class than the event, or is not the code the county issued.
    case codeMismatch = "code_mismatch"
    /// The code's signing key is not one of the county's.
    case unknownKey = "unknown_key"
    /// The code's signing key was not valid on the class day (revoked, retired, not yet valid).
    case keyNotValid = "key_not_valid"
    /// The code's signature does not verify.
    case badSignature = "bad_signature"
    /// The county never issued this voucher.
    case unknownVoucher = "unknown_voucher"
    /// The voucher is for another class.
    case wrongClass = "wrong_class"
    /// The class is not held at the device's site.
    case wrongSite = "wrong_site"
    /// The day is outside the voucher's validity.
    case outsideVoucherDates = "outside_voucher_dates"
    /// The day is outside the class's dates.
    case outsideClassDates = "outside_class_dates"
    /// Recorded after the county revoked the voucher.
    case revoked
    /// Not inside the session's published window (with the class's tolerances) on that day.
    case outsideSession = "outside_session"
    /// Later than the county's clock when it arrived, beyond ``EventAudit/futureSkewMs``.
    case future
    /// A sign-out with no earlier counted sign-in of the voucher in that session in the device's
    /// own log (a station records a sign-out only against a sign-in it holds itself).
    case noSignIn = "no_sign_in"
    /// A manual entry without the `manual` flag, or a test voucher without the `test` flag.
    case flagsMissing = "flags_missing"
}

/// What the county looks up to judge an event.
public protocol AuditFacts {
    /// A voucher signing key of the county.
    func signingKey(_ kid: KeyID) throws -> SigningKeyEntry?
    /// A voucher as issued.
    func issuedVoucher(_ id: UInt64) throws -> IssuedVoucher?
    /// A class and its site.
    func classInfo(_ id: UInt32) throws -> (ClassInfo, site: String)?
    /// The earliest time of a counted sign-in of a voucher in a session in a device's log, already held.
    func heldSignIn(device: String, voucher: UInt64, day: String, session: Int, before: Int64) throws -> Int64?
}

/// The county's second look at each attendance event a device sends (upload or USB stick):
/// does the voucher code verify under a county key valid that day, do the voucher, class and
/// site match the event and the device, does the time lie inside the class's dates and the
/// session's published window, not in the future, and after the sign-in for a sign-out.
///
/// Only `scan` and `manual` events can be paid, so only they are judged; the rest are kept as
/// they came. An event that fails is stored with its reasons and never counted.
public struct EventAudit {
    /// How far past the county's clock an event may lie when it arrives: 15 minutes.
    public static let futureSkewMs: Int64 = 15 * 60_000

    let facts: any AuditFacts
    /// Codes already verified in this process (text → ok), so each voucher's signature is
    /// checked once, not at every one of its scans.
    let verified: VerifiedCodes

    /// Sign-ins seen earlier in the batch being judged: `voucher|day|session` → earliest ms.
    var batchSignIns: [String: Int64] = [:]
    /// What was looked up for this batch (a batch names few vouchers and classes many times).
    var vouchers: [UInt64: IssuedVoucher?] = [:]
    var classes: [UInt32: (ClassInfo, site: String)?] = [:]
    var keys: [KeyID: SigningKeyEntry?] = [:]

    /// An audit over the county's facts.
    public init(facts: any AuditFacts, verified: VerifiedCodes) {
        self.facts = facts
        self.verified = verified
    }

    /// The reasons to hold an event apart; empty when it may be counted.
    /// - Parameters:
    ///   - site: the sending device's site.
    ///   - receivedMs: the county's clock when the event arrived.
    public mutating func reasons(for e: WireEvent, site: String, receivedMs: Int64) throws -> [QuarantineReason] {
        guard e.kind == EventKind.scan.rawValue || e.kind == EventKind.manual.rawValue,
            let voucherID = e.voucher_id, let classID = e.class_id, let dayText = e.class_day, let day = ClassDay(iso: dayText),
            let sessionIndex = e.session_index, let direction = e.direction
        else { return [] }
        var out: [QuarantineReason] = []
        let flags = Set(e.flags.split(separator: ",").map(String.init))
        if e.kind == EventKind.manual.rawValue, !flags.contains(EventFlag.manual.rawValue) { out.append(.flagsMissing) }

        let issued = try vouchers[voucherID] ?? facts.issuedVoucher(voucherID)
        vouchers[voucherID] = issued
        if e.kind == EventKind.scan.rawValue {
            out += try codeReasons(e.code, voucherID: voucherID, classID: classID, day: day, issued: issued, flags: flags)
        }
        guard let issued else { return unique(out + [.unknownVoucher]) }
        if issued.classID != classID { out.append(.wrongClass) }
        let held = try classes[classID] ?? facts.classInfo(classID)
        classes[classID] = held
        guard let (info, classSite) = held else { return unique(out + [.wrongClass]) }
        if classSite != site { out.append(.wrongSite) }
        if day < issued.validFrom || day > issued.validTo { out.append(.outsideVoucherDates) }
        if day < info.startDate || day > info.endDate { out.append(.outsideClassDates) }
        if let revoked = issued.revokedAt, revoked.milliseconds <= e.wall_ms { out.append(.revoked) }
        let scannedSignIn = e.kind == EventKind.scan.rawValue && direction == Direction.signIn.rawValue
        if !inWindow(e, info: info, day: day, session: sessionIndex, scannedSignIn: scannedSignIn) {
            out.append(.outsideSession)
        }
        if e.wall_ms > receivedMs.addingClamped(EventAudit.futureSkewMs) { out.append(.future) }

        let key = "\(voucherID)|\(dayText)|\(sessionIndex)"
        if direction == Direction.signIn.rawValue {
            if out.isEmpty { batchSignIns[key] = min(batchSignIns[key] ?? e.wall_ms, e.wall_ms) }
        } else {
            // The sign-in may be under a voucher this one replaced (a reissue mid-session): the
            // station closes the person's sign-in whichever of their cards signs out.
            var vouchers = [voucherID]
            var next = issued.replaces
            while let id = next, vouchers.count < 100 {
                vouchers.append(id)
                next = try facts.issuedVoucher(id)?.replaces
            }
            var held: Int64? = nil
            for v in vouchers where held == nil {
                held = try batchSignIns["\(v)|\(dayText)|\(sessionIndex)"].flatMap { $0 < e.wall_ms ? $0 : nil }
                    ?? facts.heldSignIn(device: e.device_id, voucher: v, day: dayText, session: sessionIndex, before: e.wall_ms)
            }
            if held == nil { out.append(.noSignIn) }
        }
        return unique(out)
    }

    /// What is wrong with a scan's code: it must be the code the county issued for this voucher
    /// and class, signed by a county key valid on the day.
    mutating func codeReasons(
        _ text: String?, voucherID: UInt64, classID: UInt32, day: ClassDay, issued: IssuedVoucher?, flags: Set<String>
    ) throws -> [QuarantineReason] {
        guard let text else { return [.codeMissing] }
        guard let code = try? VoucherCode(text: text) else { return [.codeMalformed] }
        var out: [QuarantineReason] = []
        if code.body.voucherID != voucherID || code.body.classID != classID || (issued.map { $0.code != text } ?? false) {
            out.append(.codeMismatch)
        }
        if code.body.isTest, !flags.contains(EventFlag.test.rawValue) { out.append(.flagsMissing) }
        let entry = try keys[code.body.kid] ?? facts.signingKey(code.body.kid)
        keys[code.body.kid] = entry
        guard let key = entry else { return out + [.unknownKey] }
        if !key.isValid(on: day) { out.append(.keyNotValid) }
        if !verified.contains(text) {
            guard let raw = key.rawPublicKey, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
                code.verify(with: publicKey)
            else { return out + [.badSignature] }
            verified.insert(text)
        }
        return out
    }

    /// Whether the time lies in the session's window on the day, in China's time as the county
    /// published it: from the opening (start − the class's early minutes) to the closing (end +
    /// the class's late minutes); a scanned sign-in no later than the end, as the station allows.
    func inWindow(_ e: WireEvent, info: ClassInfo, day: ClassDay, session: Int, scannedSignIn: Bool) -> Bool {
        guard session < info.sessions.count else { return false }
        let w = info.sessions[session]
        let end = day.at(w.end, utcOffset: UTCOffset.china)
        let from = day.at(w.start, utcOffset: UTCOffset.china).adding(minutes: -info.rules.signInOpensBefore)
        let to = scannedSignIn ? end : end.adding(minutes: info.rules.signOutClosesAfter)
        return (from.milliseconds...to.milliseconds).contains(e.wall_ms)
    }

    func unique(_ reasons: [QuarantineReason]) -> [QuarantineReason] {
        var seen: Set<QuarantineReason> = []
        return reasons.filter { seen.insert($0).inserted }
    }
}

/// Voucher codes whose signature verified, shared by every upload the process handles. Bounded:
/// emptied when it reaches ``limit`` (a county has tens of thousands of vouchers a year).
public final class VerifiedCodes: Sendable {
    private let codes = Mutex<Set<String>>([])
    /// Most codes kept.
    public let limit: Int

    /// An empty set.
    public init(limit: Int = 200_000) { self.limit = limit }

    func contains(_ code: String) -> Bool { codes.withLock { $0.contains(code) } }

    func insert(_ code: String) {
        codes.withLock {
            if $0.count >= limit { $0.removeAll(keepingCapacity: true) }
            $0.insert(code)
        }
    }
}
