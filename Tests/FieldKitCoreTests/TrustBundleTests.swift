import Crypto
import FoundationEssentials
import Testing

@testable import FieldKitCore

@Suite("Trust bundle")
struct TrustBundleTests {
    let vectors = try! loadVectors("trust-bundle.json", as: TrustBundleVectors.self)
    var root: Curve25519.Signing.PublicKey {
        try! Curve25519.Signing.PublicKey(rawRepresentation: Base64.decode(vectors.root_public_key_base64)!)
    }

    @Test("the vector file opens with the vector root key")
    func opens() throws {
        let signed = try SignedTrustBundle(fileBytes: Array(vectors.file.utf8))
        let bundle = try signed.open(rootKey: root)
        #expect(bundle.siteID == "S01")
        #expect(bundle.sequence == 3)
        #expect(bundle.classes.first?.sessions.count == 2)
        #expect(bundle.roster.first?.idMasked == "1101**********002X")
        #expect(bundle.revocations.first?.voucherID == 1_000_002)
        #expect(signed.signer.description == vectors.root_kid)
    }

    @Test("a bundle signed here opens and round-trips")
    func roundTrip() throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: bytesFromHex(vectors.root_key_seed_hex)!)
        let bundle = try SignedTrustBundle(fileBytes: Array(vectors.file.utf8)).open(rootKey: root)
        let again = try SignedTrustBundle(signing: bundle, with: key)
        let reread = try SignedTrustBundle(fileBytes: again.fileBytes).open(rootKey: root)
        #expect(reread == bundle)
    }

    @Test("bundles with duplicates, bad levels or overlapping sessions are invalid")
    func invalidContent() throws {
        let base = try SignedTrustBundle(fileBytes: Array(vectors.file.utf8)).open(rootKey: root)
        var b = base
        b.signingKeys.append(b.signingKeys[0])
        #expect(throws: TrustBundleError.self) { try b.validate() }
        b = base
        b.roster.append(b.roster[0])
        #expect(throws: TrustBundleError.self) { try b.validate() }
        b = base
        b.classes[0].level = 6
        #expect(throws: TrustBundleError.self) { try b.validate() }
        b = base
        b.classes[0].sessions = SessionWindow.parseList("14:00-17:00")! + SessionWindow.parseList("08:30-11:30")!
        #expect(throws: TrustBundleError.self) { try b.validate() }
        b = base
        b.classes[0].rules.minimumStay = -1
        #expect(throws: TrustBundleError.self) { try b.validate() }
        b = base
        b.revocations.append(b.revocations[0])
        #expect(throws: TrustBundleError.self) { try b.validate() }
        // A reissue names an older revoked voucher, once; not a live one, itself, or a newer one.
        let revokedID = base.revocations[0].voucherID
        let live = base.roster[0].voucherID
        for chain in [[live], [revokedID + 1_000_000], [revokedID, revokedID], Array(repeating: revokedID, count: 101)] {
            b = base
            b.roster.append(RosterEntry(voucherID: max(live, revokedID) + 10, classID: base.roster[0].classID, name: "乙", idMasked: "x", category: nil, replaces: chain))
            #expect(throws: TrustBundleError.self, "\(chain.prefix(3))") { try b.validate() }
        }
        b = base
        b.roster.append(RosterEntry(voucherID: max(live, revokedID) + 10, classID: base.roster[0].classID, name: "乙", idMasked: "x", category: nil, replaces: [revokedID]))
        #expect(throws: Never.self) { try b.validate() }
        #expect(throws: Never.self) { try base.validate() }
    }

    @Test("a changed payload, another root, or garbage is refused with a reason")
    func refusals() throws {
        let signed = try SignedTrustBundle(fileBytes: Array(vectors.file.utf8))
        var payload = signed.payload
        payload[payload.count / 2] ^= 1
        let altered = "{\"format\":\"fieldkit-trust-bundle/1\",\"signer\":\"\(signed.signer)\",\"payload\":\""
            + Base64.encode(payload) + "\",\"signature\":\"" + Base64.encode(signed.signature) + "\"}"
        #expect(throws: TrustBundleError.badSignature) {
            try SignedTrustBundle(fileBytes: Array(altered.utf8)).open(rootKey: root)
        }
        let other = Curve25519.Signing.PrivateKey().publicKey
        #expect(throws: TrustBundleError.self) { try signed.open(rootKey: other) }
        for garbage in ["", "{}", "not json", "{\"format\":\"x\"}", String(vectors.file.dropLast(10))] {
            #expect(throws: TrustBundleError.self) { try SignedTrustBundle(fileBytes: Array(garbage.utf8)) }
        }
    }
}

@Suite("Roster CSV")
struct RosterTests {
    @Test("BOM, header, quotes, category; CRLF")
    func parses() throws {
        let text = "\u{FEFF}姓名,身份证号,类别\r\n张三,11010519491231002X,农村转移劳动力\r\n\"李, 四\",110105194912310021\r\n"
        let fixed = text.replacing("110105194912310021", with: "11010519491231002X")
        #expect(throws: RosterError.self) { try Roster(bytes: Array(fixed.utf8)) }  // same ID twice
        let second = "11010119900307123" + String(IDNumber.checkCharacter(for: "11010119900307123"))
        let roster = try Roster(bytes: Array(text.replacing("110105194912310021", with: second).utf8))
        #expect(roster.rows.count == 2)
        #expect(roster.rows[1].name == "李, 四")
        #expect(roster.rows[0].category == "农村转移劳动力")
    }

    @Test("bad rows are all named with line numbers; nothing is half-read")
    func badRows() {
        let text = "张三,11010519491231002X\n李四,110105194912310021\n王五\n,11010519491231002X\n"
        do {
            _ = try Roster(bytes: Array(text.utf8))
            Issue.record("accepted")
        } catch let RosterError.badRows(problems) {
            #expect(problems.count == 3)
            #expect(problems[0].line == 2 && problems[0].description.hasPrefix("line 2"))
            #expect(problems.map(\.description).joined().contains("110105194912310021") == false)
            #expect(RosterError.badRows(problems).text(Localizer(.zhHans)).contains("第 2 行"))
        } catch { Issue.record("\(error)") }
    }

    @Test("GBK bytes are refused with advice")
    func notUTF8() {
        #expect(throws: RosterError.notUTF8) { try Roster(bytes: [0xD5, 0xC5, 0xC8, 0xFD, 0x2C]) }
    }
}
