import FieldKitCore
import FieldKitLabel
import FieldKitQR
import FoundationEssentials
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Labelled phone PNG: the code with the name, voucher number and class under it")
struct LabelTests {
    static func lines(name: String) -> [LabelledCode.Line] {
        [
            LabelledCode.Line(name, pixelHeight: 44), LabelledCode.Line("券号 1000001", pixelHeight: 34),
            LabelledCode.Line("中式烹调师（班级编号 12）", pixelHeight: 28),
            LabelledCode.Line("培训日期 2026-03-02 至 2026-03-13", pixelHeight: 28),
        ]
    }

    /// Writes bytes to a fresh file and returns its path.
    static func write(_ bytes: [UInt8], _ tag: String) -> String {
        let path = "/tmp/fieldkit-label-\(getpid())-\(tag).png"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return path
    }

    /// Dark pixels in the rows below the code.
    static func inkBelow(_ image: GrayImage, code: QRCode, scale: Int) -> Int {
        let top = (code.size + 2 * QRCode.quietZone) * scale
        return image.pixels[(top * image.width)...].filter { $0 < 128 }.count
    }

    @Test("with a CJK font: zbarimg still reads the code; the name is drawn, and another name draws other pixels")
    func withFont() throws {
        let path = try #require(FontLocator.find(), "no CJK font installed (Scripts/bootstrap installs fonts-noto-cjk)")
        let font = try FontFace(path: path)
        #expect(font.covers("张三丰") && !font.familyName.isEmpty)
        if path.hasSuffix("NotoSansCJK-Regular.ttc") { #expect(font.familyName == "Noto Sans CJK SC") }
        let code = try QRCode(QRCodeTests.code, level: .quartile)
        let png = try LabelledCode.png(code: code, scale: 8, lines: Self.lines(name: "张三丰"), font: font, digits: "1000001")
        let file = Self.write(png, "font")
        defer { unlink(file) }
        #expect(try zbarimg(file) == QRCodeTests.code)

        let a = LabelledCode.image(code: code, scale: 8, lines: Self.lines(name: "张三丰"), font: font, digits: "1000001")
        let b = LabelledCode.image(code: code, scale: 8, lines: Self.lines(name: "李四"), font: font, digits: "1000001")
        let side = (code.size + 2 * QRCode.quietZone) * 8
        #expect(a.width == side && a.height > side + 100)
        #expect(Self.inkBelow(a, code: code, scale: 8) > 500)
        // The code is the same; only the name's rows differ.
        #expect(a.pixels[..<(side * side)] == b.pixels[..<(side * side)])
        #expect(a.pixels != b.pixels)
        // The name alone, drawn by the font, is what stands in the first label line.
        let name = font.render("张三丰", pixelHeight: 44)
        let nameInk = name.pixels.filter { $0 > 127 }.count
        let firstLine = a.pixels[(side * a.width)..<((side + name.height) * a.width)].filter { $0 < 128 }.count
        #expect(nameInk > 100 && abs(firstLine - nameInk) <= nameInk / 10, "\(firstLine) vs \(nameInk)")
    }

    @Test("a line too wide is drawn smaller, then cut, never past the image's edges")
    func longLine() throws {
        let font = try FontFace(path: try #require(FontLocator.find()))
        let code = try QRCode(QRCodeTests.code, level: .quartile)
        let long = [LabelledCode.Line(String(repeating: "很长的班级名称", count: 10), pixelHeight: 28)]
        let image = LabelledCode.image(code: code, scale: 8, lines: long, font: font, digits: "1")
        let side = (code.size + 2 * QRCode.quietZone) * 8
        // The quiet zone's columns at the edges stay white below the code too.
        for y in side..<image.height {
            #expect(image[0, y] == 255 && image[image.width - 1, y] == 255)
        }
    }

    @Test("without a font: the voucher number in the built-in digits, and the code still reads")
    func withoutFont() throws {
        let code = try QRCode(QRCodeTests.code, level: .quartile)
        let image = LabelledCode.image(code: code, scale: 8, lines: Self.lines(name: "张三丰"), font: nil, digits: "1000001")
        #expect(Self.inkBelow(image, code: code, scale: 8) > 200)
        let other = LabelledCode.image(code: code, scale: 8, lines: [], font: nil, digits: "1000002")
        #expect(image.pixels != other.pixels)
        let file = Self.write(try LabelledCode.png(code: code, scale: 8, lines: [], font: nil, digits: "1000001"), "digits")
        defer { unlink(file) }
        #expect(try zbarimg(file) == QRCodeTests.code)
        #expect(FontLocator.find(in: ["/nonexistent/font.ttc"]) == nil)
    }

    @Test("a font file that is not a font: a clear error naming it")
    func badFont() {
        #expect(throws: FontError.cannotOpen(path: "/etc/passwd", code: 2)) { try FontFace(path: "/etc/passwd") }
        #expect(FontError.cannotOpen(path: "/x.ttf", code: 1).description.contains("/x.ttf"))
    }
}
