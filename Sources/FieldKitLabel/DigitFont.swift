/// A 5×7 bitmap font of the ten digits: what a labelled PNG still shows (the voucher number)
/// on a machine without a Chinese font.
enum DigitFont {
    /// Seven rows of five bits per digit, most significant bit on the left.
    static let rows: [[UInt8]] = [
        [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],  // 0
        [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],  // 1
        [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],  // 2
        [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],  // 3
        [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],  // 4
        [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],  // 5
        [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],  // 6
        [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],  // 7
        [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],  // 8
        [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],  // 9
    ]

    /// The digits of a text as coverage, each dot `dot` pixels square, one dot between digits;
    /// anything that is not an ASCII digit is left out.
    static func render(_ text: String, dot: Int) -> GrayImage {
        let digits = text.unicodeScalars.compactMap { $0.value >= 48 && $0.value <= 57 ? Int($0.value - 48) : nil }
        guard !digits.isEmpty else { return GrayImage(width: 0, height: 0) }
        var image = GrayImage(width: (digits.count * 6 - 1) * dot, height: 7 * dot, fill: 0)
        for (i, d) in digits.enumerated() {
            for (row, bits) in rows[d].enumerated() {
                for col in 0..<5 where bits & (0x10 >> UInt8(col)) != 0 {
                    for dy in 0..<dot {
                        for dx in 0..<dot { image[(i * 6 + col) * dot + dx, row * dot + dy] = 255 }
                    }
                }
            }
        }
        return image
    }
}
