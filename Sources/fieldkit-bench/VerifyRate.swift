// The Ed25519 verification rate of the library the station uses (swift-crypto), to compare
// with `openssl speed ed25519` on the same machine.
import Crypto
import FieldKitCore
import FoundationEssentials

/// What `verify-rate` prints.
struct VerifyRateReport: Encodable {
    /// Verifications per second of a signature over a `message_bytes`-byte message.
    var ed25519_verify_per_second: Double
    var message_bytes: Int
    var seconds: Double
    /// The same through `VoucherCode.verify` (the 42-byte VT1 message, including building it).
    var voucher_code_verify_per_second: Double
    var voucher_message_bytes: Int
}

/// Verifies one good signature in a loop for about `seconds`; returns verifications per second.
func verifyLoop(seconds limit: Double, _ verify: () -> Bool) throws -> Double {
    var done = 0
    let start = stopwatchNanos()
    var elapsed = 0.0
    repeat {
        for _ in 0..<256 {
            guard verify() else { throw BenchError("a good signature did not verify") }
        }
        done += 256
        elapsed = seconds(since: start)
    } while elapsed < limit
    return Double(done) / elapsed
}

func runVerifyRate(seconds limit: Double, messageBytes: Int) throws -> VerifyRateReport {
    let key = Curve25519.Signing.PrivateKey()
    let publicKey = key.publicKey
    let message = (0..<messageBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let signature = Array(try key.signature(for: message))
    progress("verifying Ed25519 signatures over \(messageBytes) bytes for \(limit) s")
    let rate = try verifyLoop(seconds: limit) { publicKey.isValidSignature(signature, for: message) }

    // A real voucher: the station's own call.
    let body = VoucherBody(
        kid: KeyID(of: publicKey), voucherID: 1_000_001, traineeRef: 0x0123_4567_89AB_CDEF, classID: 12,
        trade: OccupationCode("4-03-02-01")!, level: 5, validFrom: ClassDay(iso: "2026-03-02")!,
        validTo: ClassDay(iso: "2026-03-31")!, flags: 0)
    let code = try VoucherCode(signing: body, with: key)
    progress("verifying VT1 voucher codes for \(limit / 2) s")
    let codeRate = try verifyLoop(seconds: limit / 2) { code.verify(with: publicKey) }

    return VerifyRateReport(
        ed25519_verify_per_second: round1(rate), message_bytes: messageBytes, seconds: limit,
        voucher_code_verify_per_second: round1(codeRate),
        voucher_message_bytes: VoucherCode.signingDomain.count + VoucherBody.length)
}
