import FieldKitCore
import FieldKitPrint
import FieldKitQR
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Decodes a PNG file with zbarimg (Debian zbar-tools); nil when it finds no code.
func zbarimg(_ path: String) throws -> String? {
    var pipe: [Int32] = [0, 0]
    guard Glibc.pipe(&pipe) == 0 else { return nil }
    _ = fcntl(pipe[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(pipe[1], F_SETFD, FD_CLOEXEC)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
    // zbar complains on stderr that there is no D-Bus; nothing to see.
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    // Other tests run at the same time: this child must not hold their descriptors (nor they this pipe).
    if let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        _ = unsafeBitCast(closeFrom, to: CloseFrom.self)(&actions, 3)
    }
    var pid: pid_t = 0
    let args = ["/usr/bin/zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path]
    var cargs = args.map { strdup($0) } + [nil]
    defer { cargs.forEach { free($0) } }
    guard posix_spawn(&pid, args[0], &actions, nil, &cargs, environ) == 0 else { return nil }
    close(pipe[1])
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(pipe[0], &buffer, buffer.count)
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    close(pipe[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let text = String(decoding: out, as: UTF8.self).trimmingWhitespace()
    return text.isEmpty ? nil : text
}

@Suite("QR codes")
struct QRCodeTests {
    /// The first valid VT1 vector's text.
    static let code: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let path = parts.joined(separator: "/") + "/Assets/vectors/vt1.json"
        let json = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data(), as: UTF8.self)
        return String(json.split(separator: "\"text\": \"").dropFirst().first?.prefix(247) ?? "")
    }()

    @Test("a voucher's 247 digits: numeric mode, version 8 at level Q, version 6 at level M")
    func versions() throws {
        #expect(try QRCode(QRCodeTests.code, level: .quartile).version == 8)
        #expect(try QRCode(QRCodeTests.code, level: .medium).version == 6)
    }

    @Test("the PNG decodes with zbarimg back to exactly the code", arguments: [QRCode.Level.quartile, .medium])
    func pngRoundTrip(level: QRCode.Level) throws {
        let qr = try QRCode(QRCodeTests.code, level: level)
        let path = "/tmp/fieldkit-qr-\(getpid())-\(level).png"
        let png = try qr.png(scale: 6)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = png.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(path) }
        #expect(try zbarimg(path) == QRCodeTests.code)
    }

    @Test("SVG and terminal renderings have the right size")
    func renderings() throws {
        let qr = try QRCode(QRCodeTests.code, level: .quartile)
        #expect(qr.svg(sizeCSS: "34mm").contains("viewBox=\"0 0 57 57\""))
        let lines = qr.terminalLines()
        #expect(lines.count == (qr.size + 4 + 1) / 2)
        #expect(lines.allSatisfy { $0.count == qr.size + 4 })
    }

    @Test("empty text is refused")
    func empty() { #expect(throws: QRCodeError.self) { try QRCode("", level: .low) } }
}

@Suite("Printed pages")
struct PrintedPagesTests {
    func cards(_ n: Int) -> [VoucherCard] {
        (0..<n).map {
            VoucherCard(
                voucherID: 1_000_001 + UInt64($0), name: "张<三>\($0)", idMasked: "1410**********123\($0 % 10)",
                className: "中式烹调师", trade: OccupationCode("4-03-02-01")!, level: 5,
                validFrom: ClassDay(iso: "2026-03-02")!, validTo: ClassDay(iso: "2026-03-31")!, code: QRCodeTests.code)
        }
    }

    @Test("8 cards a page, QR 36 mm, names escaped, labels in the chosen language")
    func cardsPage() throws {
        let html = try VoucherCardsPage.html(cards(9), localizer: Localizer(.zhHans))
        #expect(html.components(separatedBy: "<section class=\"page\">").count - 1 == 2)
        #expect(html.components(separatedBy: "class=\"card\"").count - 1 == 9)
        #expect(html.contains("width=\"36mm\"") && html.contains("张&lt;三&gt;0") && html.contains("五级/初级工"))
        #expect(try VoucherCardsPage.html(cards(1), localizer: Localizer(.en)).contains("level 5, junior worker"))
    }
}
