import Crypto
import FieldKitCore
import FoundationEssentials

/// Trust bundles, read twice:
/// 1. the input as the file `fieldkit trust import` reads (envelope, base64, root signature);
/// 2. the input as the payload JSON, signed by the fixed root key as the county would sign it, so
///    the content parse and its checks are reached (a fuzzer cannot forge the signature).
/// A bundle that opens must survive being written and read again unchanged, and must carry
/// scans of a voucher through the evaluator (its sessions, rules and dates are the fuzzer's).
enum TrustHarness {
    static func run(_ data: [UInt8]) {
        if let signed = attempt({ try SignedTrustBundle(fileBytes: data) }) {
            if let bundle = attempt({ try signed.open(rootKey: FixedKeys.root.publicKey) }) { exercise(bundle) }
        }
        guard let signature = try? FixedKeys.root.signature(for: SignedTrustBundle.signingDomain + data) else { return }
        let envelope = "{\"format\":\"\(SignedTrustBundle.formatName)\",\"signer\":\"\(KeyID(of: FixedKeys.root.publicKey))\","
            + "\"payload\":\"\(Base64.encode(data))\",\"signature\":\"\(Base64.encode(signature))\"}\n"
        let signed = attempt { try SignedTrustBundle(fileBytes: Array(envelope.utf8)) }
        expect(signed?.payload == data, "trust: a well-formed envelope did not carry its payload")
        if let signed, let bundle = attempt({ try signed.open(rootKey: FixedKeys.root.publicKey) }) { exercise(bundle) }
    }

    /// Runs a step that may refuse; a refusal must be a ``TrustBundleError`` with words.
    static func attempt<T>(_ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as TrustBundleError {
            expect(!error.text(english).isEmpty, "trust: \(error) has no words")
            return nil
        } catch {
            expect(false, "trust: unexpected error \(error)")
            return nil
        }
    }

    /// A bundle that opened: it must encode and decode to itself (what the county writes, the
    /// site reads back), and the fixed voucher is judged against up to two of its classes.
    static func exercise(_ bundle: TrustBundle) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let again = (try? encoder.encode(bundle)).flatMap { try? JSONDecoder().decode(TrustBundle.self, from: $0) }
        expect(again == bundle, "trust: a valid bundle does not survive being written and read again")
        _ = bundle.issuedAt.description
        _ = bundle.expiresAt.localDescription()
        for key in bundle.signingKeys.prefix(8) { _ = key.isValid(on: bundle.issuedAt.classDay()) }
        let evaluator = ScanEvaluator(trust: BundleTrust(bundle: bundle))
        for info in bundle.classes.prefix(2) {
            let body = VoucherBody(
                kid: KeyID(of: FixedKeys.signing.publicKey), voucherID: 1_000_001, traineeRef: 7, classID: info.id, trade: info.trade,
                level: info.level, validFrom: info.startDate, validTo: info.endDate)
            guard let code = try? VoucherCode(signing: body, with: FixedKeys.signing), let first = info.sessions.first,
                let last = info.sessions.last
            else { continue }
            let start = info.startDate.at(first.start)
            let signedIn = SessionAttendance(signedInAt: start, signedOutAt: nil)
            _ = try? evaluator.evaluate(code, at: start.adding(minutes: -info.rules.signInOpensBefore)) { _ in nil }
            _ = try? evaluator.evaluate(code, at: start.adding(minutes: info.rules.lateAfter + 1)) { _ in nil }
            _ = try? evaluator.evaluate(code, at: info.startDate.at(first.end)) { _ in signedIn }
            _ = try? evaluator.evaluate(code, at: info.endDate.at(last.end).adding(minutes: info.rules.signOutClosesAfter)) { _ in signedIn }
        }
    }
}

/// A bundle as the station's lookups see it once imported.
struct BundleTrust: TrustLookup {
    let bundle: TrustBundle
    var siteID: String { bundle.siteID }
    func signingKey(_ kid: KeyID) throws -> SigningKeyEntry? { bundle.signingKeys.first { $0.kid == kid } }
    func classInfo(_ id: UInt32) throws -> ClassInfo? { bundle.classes.first { $0.id == id } }
    func revocation(_ voucherID: UInt64) throws -> Revocation? { bundle.revocations.first { $0.voucherID == voucherID } }
}
