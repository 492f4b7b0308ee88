import Crypto
import FieldKitCore
import FoundationEssentials

/// VT1: the text a scanner types (any Unicode: full-width digits, spaces, garbage) and the 100
/// bytes behind it. A decoded code must encode back to itself, verify (or not) without
/// trapping, and go through the whole scan decision; signed again with the fixed key as a
/// voucher of the fixed class, so the fuzzer's days and voucher number reach the date and
/// session arithmetic too.
enum VT1Harness {
    static func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        if let code = decode({ try VoucherCode(text: text) }) {
            expect(VoucherText.encode(code.bytes) == code.text, "vt1: text of the bytes differs")
            expect((try? VoucherCode(text: code.text)) == code, "vt1: \(code.text) does not decode to itself")
            exercise(code)
        }
        for bytes in [data, Array(data.prefix(VoucherCode.length))] {
            if let code = decode({ try VoucherCode(bytes: bytes) }) {
                expect(code.bytes == bytes, "vt1: bytes do not round trip")
                expect((try? VoucherCode(text: code.text)) == code, "vt1: text of decoded bytes does not decode")
                exercise(code)
            }
        }
    }

    /// Decodes, checking that a refusal is a ``VoucherCodeError`` with words.
    static func decode(_ body: () throws -> VoucherCode) -> VoucherCode? {
        do {
            return try body()
        } catch let error as VoucherCodeError {
            expect(!error.text(english).isEmpty, "vt1: \(error) has no words")
            return nil
        } catch {
            expect(false, "vt1: unexpected error \(error)")
            return nil
        }
    }

    /// Judges the code as scanned, then re-issued for the fixed class and key at three moments
    /// (each with another earlier record: none, signed in, signed out). Every judgement verifies
    /// a signature, the slow part, so there are four.
    static func exercise(_ code: VoucherCode) {
        _ = code.body.validFrom.description
        _ = code.body.validTo.description
        _ = code.body.trade.description
        let evaluator = ScanEvaluator(trust: FixedTrust())
        let body = code.body
        let start = FixedTrust.classInfo.startDate.at(LocalTime(minuteOfDay: 8 * 60 + 40))
        // The verify with the fixed key: inside the judgement when the key id is the fixed key's.
        if body.kid == FixedTrust.key.kid {
            _ = try? evaluator.evaluate(code, at: start) { _ in nil }
        } else {
            _ = code.verify(with: FixedKeys.signing.publicKey)
        }
        var reissued = body
        reissued.kid = FixedTrust.key.kid
        reissued.classID = FixedTrust.classInfo.id
        guard let signed = try? VoucherCode(signing: reissued, with: FixedKeys.signing) else { return }
        let moments = [
            body.validFrom.at(LocalTime(minuteOfDay: 8 * 60 + 25)), body.validTo.at(LocalTime(minuteOfDay: 16 * 60 + 59)), start,
        ]
        for (i, now) in moments.enumerated() {
            let earlier = [nil, SessionAttendance(signedInAt: now.adding(minutes: -3), signedOutAt: nil),
                           SessionAttendance(signedInAt: now.adding(minutes: -90), signedOutAt: now.adding(minutes: -1))][i]
            _ = try? evaluator.evaluate(signed, at: now) { _ in earlier }
        }
    }
}

/// The trust of the test vectors: the fixed signing key, class 12 in March 2026 with two
/// sessions, voucher 1000002 revoked.
struct FixedTrust: TrustLookup {
    static let key = SigningKeyEntry(
        kid: KeyID(of: FixedKeys.signing.publicKey), publicKey: Base64.encode(FixedKeys.signing.publicKey.rawRepresentation),
        validFrom: ClassDay(number: 0), validTo: nil, status: .active)
    static let classInfo = ClassInfo(
        id: 12, name: "中式烹调师（初级）", trade: fixed(OccupationCode(value: 4_030_201), "trade"), level: 5,
        location: "古县岳阳镇", startDate: fixed(ClassDay(iso: "2026-03-02"), "start"),
        endDate: fixed(ClassDay(iso: "2026-03-31"), "end"), sessions: fixed(SessionWindow.parseList("08:30-11:30,14:00-17:00"), "sessions"))

    var siteID: String { "S01" }
    func signingKey(_ kid: KeyID) throws -> SigningKeyEntry? { kid == FixedTrust.key.kid ? FixedTrust.key : nil }
    func classInfo(_ id: UInt32) throws -> ClassInfo? { id == 12 ? FixedTrust.classInfo : nil }
    func revocation(_ voucherID: UInt64) throws -> Revocation? {
        voucherID == 1_000_002 ? Revocation(voucherID: voucherID, revokedAt: Timestamp(milliseconds: 1_772_330_400_000), reason: "reissued") : nil
    }
}
