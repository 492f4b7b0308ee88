import FieldKitCore
import FieldKitEvidence
import FoundationEssentials

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Evidence archives: the input is written to a file and verified as `fieldkit evidence verify
/// FILE.tar` does (extract every bag, then check it), then once more with its header checksums
/// set right. The file is removed after every input; the verifier removes its own extraction
/// folder.
enum TarHarness {
    /// A folder of this process's own (under `TMPDIR`, else /tmp), made on first use, removed at exit.
    static let folder: String = {
        let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/fieldkit-fuzz-tar-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { b in b.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) } }
        guard let made else {
            fputs("fieldkit-fuzz: cannot make a temporary folder: \(String(cString: strerror(errno)))\n", stderr)
            exit(73)
        }
        atexit { _ = rmdir(TarHarness.folder) }
        return made
    }()

    static func run(_ data: [UInt8]) {
        verify(data)
        // Every mutation of a header breaks its checksum, and the reader stops there; the same
        // input with its headers' checksums set right reaches the sizes, names and types.
        let repaired = checksumsRepaired(data)
        if repaired != data { verify(repaired) }
    }

    /// The input with the checksum of every 512-byte block that looks like a ustar header
    /// (`ustar` at 257) recomputed.
    static func checksumsRepaired(_ data: [UInt8]) -> [UInt8] {
        var out = data
        var at = 0
        while at + 512 <= out.count {
            if out[(at + 257)..<(at + 262)].elementsEqual("ustar".utf8) {
                for i in 148..<156 { out[at + i] = 0x20 }
                let sum = out[at..<(at + 512)].reduce(0) { $0 + Int($1) }
                let digits = Array(String(sum, radix: 8).utf8)
                let field = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 6 - digits.count)) + digits.suffix(6) + [0, 0x20]
                for (i, b) in field.enumerated() { out[at + 148 + i] = b }
            }
            at += 512
        }
        return out
    }

    static func verify(_ data: [UInt8]) {
        let path = folder + "/input.tar"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            fputs("fieldkit-fuzz: cannot write \(path): \(String(cString: strerror(errno)))\n", stderr)
            exit(73)
        }
        let written = data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress.map { $0 + done }, raw.count - done)
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        close(fd)
        defer { unlink(path) }
        guard written else {
            fputs("fieldkit-fuzz: cannot write \(path): \(String(cString: strerror(errno)))\n", stderr)
            exit(73)
        }
        do {
            for check in try BagVerifier.verify(path) {
                for finding in check.problems + check.notes { _ = english("evidence.\(finding.key)", finding.values) }
                _ = check.ok
            }
        } catch let error as any LocalizedFailure {
            expect(!error.text(english).isEmpty, "tar: \(error) has no words")
        } catch {
            expect(false, "tar: unexpected error \(error)")
        }
    }
}
