import FieldKitCore
import FieldKitEvidence
import FoundationEssentials

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Evidence archives: the input is written to a file and verified as `fieldkit evidence verify
/// FILE.tar` does (extract every bag, then check it). The file is removed after every input;
/// the verifier removes its own extraction folder.
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
