import Foundation
import Testing

/// The committed fuzzing corpora (Tests/Fuzz/corpus), replayed through the ordinary build of
/// `fieldkit-fuzz`: every input that once crashed a parser stays fixed, without a sanitizer build
/// (Scripts/fuzz replays them with AddressSanitizer as well).
@Suite("Fuzz corpora")
struct FuzzCorpusTests {
    static let corpora: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fuzz/corpus"
    }()

    @Test("every committed input goes through its harness", arguments: ["vt1", "trust", "wire", "tar", "policy"])
    func replay(harness: String) throws {
        let folder = FuzzCorpusTests.corpora + "/" + harness
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
        #expect(inputs.contains { $0.hasPrefix("seed-") }, "no seeds in \(folder); run Tests/Fuzz/make-seeds")
        let r = try run("fieldkit-fuzz", [harness, folder], timeout: 600)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        #expect(r.stdout.contains("\(harness): \(inputs.count) inputs, no crash"), "\(r.stdout)")
    }

    @Test("a harness name is required")
    func usage() throws {
        let r = try run("fieldkit-fuzz", ["nonsense", "/dev/null"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("usage: fieldkit-fuzz vt1|trust|wire|tar|policy"))
    }
}
