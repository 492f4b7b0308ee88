import Crypto
import FieldKitCore
import FoundationEssentials
import Testing

@Suite("Enrollment files: signed by the county root key, read bounded")
struct EnrollmentFileTests {
    let root = Curve25519.Signing.PrivateKey()

    @Test("a code file verifies with its county's root key only, and not once a field changed")
    func codeFile() throws {
        let file = try EnrollmentCodeFile(code: "4821-0937-5512", site: "S01", county: "141023", expiresMs: 1_800_000_000_000, rootKey: root)
        #expect(file.verify(with: root.publicKey))
        #expect(!file.verify(with: Curve25519.Signing.PrivateKey().publicKey))
        for change in [\EnrollmentCodeFile.code, \.site, \.county] {
            var changed = file
            changed[keyPath: change] += "1"
            #expect(!changed.verify(with: root.publicKey))
        }
        var later = file
        later.expires_ms += 1
        #expect(!later.verify(with: root.publicKey))
        let bytes = try EnrollmentFile.encode(file)
        #expect(try EnrollmentFile.decode(EnrollmentCodeFile.self, bytes: bytes, path: "c", format: EnrollmentCodeFile.formatName) == file)
    }

    @Test("an answer verifies only with the key it names; changing the device breaks it")
    func answerFile() throws {
        let answer = EnrollResponse(
            device: "S01-0a1b2c3d", site: "S01", county: "141023", county_public_key: Base64.encode(root.publicKey.rawRepresentation))
        let file = try EnrollmentAnswerFile(answer: answer, rootKey: root)
        #expect(file.verify(with: root.publicKey))
        var moved = file
        moved.answer.device = "S01-00000000"
        #expect(!moved.verify(with: root.publicKey))
        // Signed by another key that names itself: not this county.
        let other = Curve25519.Signing.PrivateKey()
        var forged = answer
        forged.county_public_key = Base64.encode(other.publicKey.rawRepresentation)
        #expect(!(try EnrollmentAnswerFile(answer: forged, rootKey: other)).verify(with: root.publicKey))
    }

    @Test("decode: too large, not JSON, another kind of file — each refused with its own error")
    func decodeRefusals() throws {
        let answer = try EnrollmentFile.encode(
            EnrollmentAnswerFile(
                answer: EnrollResponse(device: "d", site: "S01", county: "1", county_public_key: "k"), rootKey: root))
        #expect(throws: EnrollmentFileError.tooLarge(path: "f", bytes: EnrollmentFile.maxBytes + 1)) {
            try EnrollmentFile.decode(
                EnrollmentAnswerFile.self, bytes: Array(repeating: 0x20, count: EnrollmentFile.maxBytes + 1), path: "f",
                format: EnrollmentAnswerFile.formatName)
        }
        for bytes in [[0xFF, 0x00], Array("[]".utf8), answer] {
            #expect(throws: EnrollmentFileError.notEnrollmentFile(path: "f", expected: EnrollmentCodeFile.formatName)) {
                try EnrollmentFile.decode(EnrollmentCodeFile.self, bytes: bytes, path: "f", format: EnrollmentCodeFile.formatName)
            }
        }
    }
}
