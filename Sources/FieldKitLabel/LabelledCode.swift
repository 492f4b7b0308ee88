import FieldKitQR

/// A QR code with words drawn under it: the phone image of a voucher, so the trainee showing
/// it and the instructor looking at it both see whose it is.
///
/// The code keeps its full quiet zone; the label starts below it. Lines too wide for the
/// image are drawn smaller, down to a floor, then cut with "…".
public enum LabelledCode {
    /// One line of the label.
    public struct Line: Sendable, Equatable {
        /// The words.
        public var text: String
        /// Height in pixels (ascender to descender).
        public var pixelHeight: Int

        /// Builds a line.
        public init(_ text: String, pixelHeight: Int) {
            self.text = text
            self.pixelHeight = pixelHeight
        }
    }

    /// The image: the code at `scale` pixels per module, then the lines, centred.
    /// - Parameters:
    ///   - font: the face to draw with; nil draws only `digits` (the voucher number) with the
    ///     built-in digit font.
    public static func image(code: QRCode, scale: Int, lines: [Line], font: FontFace?, digits: String) -> GrayImage {
        let (width, qrRows) = code.pixels(scale: scale)
        let margin = QRCode.quietZone * scale / 2
        var drawn: [GrayImage] = []
        if let font {
            drawn = lines.map { fitted($0, font: font, width: width - 2 * margin) }
        } else {
            drawn = [DigitFont.render(digits, dot: max(2, scale / 2))]
        }
        let gap = max(2, scale)
        let labelHeight = drawn.reduce(0) { $0 + $1.height + gap } + QRCode.quietZone * scale / 2
        var image = GrayImage(width: width, height: qrRows.count + labelHeight)
        for (y, row) in qrRows.enumerated() { image.pixels.replaceSubrange(y * width..<(y + 1) * width, with: row) }
        var y = qrRows.count
        for line in drawn {
            image.ink(line, atX: (width - line.width) / 2, y: y)
            y += line.height + gap
        }
        return image
    }

    /// The PNG of ``image(code:scale:lines:font:digits:)``.
    /// - Throws: ``PNGError`` when zlib fails.
    public static func png(code: QRCode, scale: Int, lines: [Line], font: FontFace?, digits: String) throws -> [UInt8] {
        let image = image(code: code, scale: scale, lines: lines, font: font, digits: digits)
        return try PNG.grayscale(width: image.width, rows: image.rows)
    }

    /// A line drawn as large as asked, or smaller until it fits, or cut.
    static func fitted(_ line: Line, font: FontFace, width: Int) -> GrayImage {
        let floor = max(10, line.pixelHeight * 2 / 3)
        var size = line.pixelHeight
        var image = font.render(line.text, pixelHeight: size)
        while image.width > width && size > floor {
            size -= 2
            image = font.render(line.text, pixelHeight: size)
        }
        var text = Array(line.text)
        while image.width > width && text.count > 1 {
            text.removeLast()
            image = font.render(String(text) + "…", pixelHeight: size)
        }
        return image
    }
}
