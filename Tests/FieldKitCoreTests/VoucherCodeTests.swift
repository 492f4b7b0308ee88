import Crypto
import FoundationEssentials
import Testing

@testable import FieldKitCore

@Suite("VT1 voucher code")
struct VoucherCodeTests {
    let vectors = try! loadVectors("vt1.json", as: VT1Vectors.self)

    var publicKey: Curve25519.Signing.PublicKey {
        try! Curve25519.Signing.PublicKey(rawRepresentation: Base64.decode(vectors.signing_public_key_base64)!)
    }

    @Test("valid vectors decode to their fields, verify, and re-encode to the same text")
    func validVectors() throws {
        #expect(KeyID(of: publicKey).description == vectors.kid)
        for v in vectors.valid {
            let code = try VoucherCode(text: v.text)
            let f = v.fields
            #expect(code.body.kid.description == f.kid, "\(v.name)")
            #expect(code.body.voucherID == f.voucher_id)
            #expect(code.body.traineeRef == f.trainee_ref)
            #expect(code.body.classID == f.class_id)
            #expect(code.body.trade.value == f.trade)
            #expect(code.body.level == f.level)
            #expect(code.body.validFrom.number == f.valid_from)
            #expect(code.body.validTo.number == f.valid_to)
            #expect(code.body.flags == f.flags)
            #expect(hexString(code.body.encoded) == v.body_hex)
            #expect(hexString(code.signature) == v.signature_hex)
            #expect(code.verify(with: publicKey), "\(v.name)")
            #expect(code.text == v.text)
        }
    }

    @Test("signing the vector fields with the vector key gives the vector code (Ed25519 is deterministic)")
    func signingMatches() throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: bytesFromHex(vectors.signing_key_seed_hex)!)
        for v in vectors.valid {
            let f = v.fields
            let body = VoucherBody(
                kid: KeyID(hex: f.kid)!, voucherID: f.voucher_id, traineeRef: f.trainee_ref, classID: f.class_id,
                trade: OccupationCode(value: f.trade)!, level: f.level, validFrom: ClassDay(number: f.valid_from),
                validTo: ClassDay(number: f.valid_to), flags: f.flags)
            let code = try VoucherCode(signing: body, with: key)
            #expect(code.verify(with: publicKey))
            #expect(hexString(code.body.encoded) == v.body_hex)
            #expect(code.text == v.text, "\(v.name)")
        }
    }

    @Test("scanner noise is normalised: full-width digits, CR LF, spaces")
    func normalisation() throws {
        for v in vectors.decodes {
            #expect(try VoucherCode(text: v.input).text == v.text, "\(v.name)")
        }
    }

    @Test("every malformed vector is refused with its error")
    func invalidVectors() {
        for v in vectors.invalid {
            do {
                _ = try VoucherCode(text: v.input)
                Issue.record("\(v.name) was accepted")
            } catch let error as VoucherCodeError {
                #expect(caseName(error) == v.error, "\(v.name): \(error)")
            } catch {
                Issue.record("\(v.name): unexpected \(error)")
            }
        }
    }

    @Test("altered codes decode but do not verify")
    func badSignatures() throws {
        for v in vectors.bad_signature {
            let code = try VoucherCode(text: v.text)
            #expect(!code.verify(with: publicKey), "\(v.name)")
        }
    }

    @Test("trainee_ref is HMAC-SHA-256 of the upper-cased ID number, first 8 bytes")
    func traineeRef() throws {
        let secret = SymmetricKey(data: bytesFromHex(vectors.pseudonym_secret_hex)!)
        let example = vectors.trainee_ref_example
        #expect(try IDNumber(example.id_number).traineeRef(secret: secret) == example.trainee_ref)
        #expect(try IDNumber(example.id_number.lowercased()).traineeRef(secret: secret) == example.trainee_ref)
    }

    @Test("the text is 247 digits and starts with 9601")
    func textShape() throws {
        let t = vectors.valid[0].text
        #expect(t.count == 247)
        #expect(t.hasPrefix("9601"))
        #expect(t.allSatisfy(\.isASCII) && t.allSatisfy(\.isNumber))
    }

    @Test("100k random and mutated inputs never crash and are each refused with an error or verify false")
    func fuzz() throws {
        var rng = SplitMix64(seed: 0x5EED)
        let base = Array(vectors.valid[0].text.unicodeScalars)
        var refused = 0
        var intact = 0
        for i in 0..<100_000 {
            var s = base
            switch i % 5 {
            case 0:  // random digits of random length
                s = (0..<Int(rng.next() % 300)).map { _ in Unicode.Scalar(UInt8(48 + rng.next() % 10)) }
            case 1:  // one digit changed
                let p = Int(rng.next() % UInt64(s.count))
                s[p] = Unicode.Scalar(UInt8(48 + rng.next() % 10))
            case 2:  // random scalar inserted
                let p = Int(rng.next() % UInt64(s.count))
                s.insert(Unicode.Scalar(UInt32(rng.next() % 0xD7FF)) ?? "x", at: p)
            case 3:  // truncated or doubled
                s = Array(s.prefix(Int(rng.next() % UInt64(s.count * 2))))
            default:  // random bytes as text
                let bytes = (0..<Int(rng.next() % 260)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                s = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: s)
            do {
                let code = try VoucherCode(text: text)
                if code.verify(with: publicKey) {
                    // Only a mutation that left the code as it was may verify (a digit replaced by
                    // itself, white space inserted, a "truncation" longer than the code).
                    #expect(code.text == vectors.valid[0].text)
                    intact += 1
                } else {
                    refused += 1
                }
            } catch is VoucherCodeError {
                refused += 1
            }
        }
        #expect(refused + intact == 100_000)
        #expect(refused > 80_000)
    }
}

/// The enum case name of an error, e.g. `wrongLength`.
func caseName(_ error: VoucherCodeError) -> String {
    switch error {
    case .wrongLength: "wrongLength"
    case .notDigits: "notDigits"
    case .wrongPrefix: "wrongPrefix"
    case .groupOutOfRange: "groupOutOfRange"
    case .tailOutOfRange: "tailOutOfRange"
    case .wrongByteLength: "wrongByteLength"
    case .unknownFormat: "unknownFormat"
    case .reservedBitsSet: "reservedBitsSet"
    case .badLevel: "badLevel"
    case .badTrade: "badTrade"
    }
}
