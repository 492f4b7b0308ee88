/// The digits-only text form of a 100-byte voucher code.
///
/// `9601`, then 14 groups of 7 bytes, each a 17-digit zero-padded decimal of the big-endian
/// integer, then the last 2 bytes as a 5-digit zero-padded decimal: 247 digits.
public enum VoucherText {
    /// The four digits every VT1 text starts with.
    public static let prefix = "9601"
    /// Digits in a whole text.
    public static let length = 247

    /// Encodes 100 bytes. Precondition: `bytes.count == 100`.
    public static func encode(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == VoucherCode.length)
        var out = prefix
        out.reserveCapacity(length)
        for g in 0..<14 {
            let v = bytes[(g * 7)..<(g * 7 + 7)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            out += String(v).leftPadded(to: 17)
        }
        out += String(UInt16(bytes[98]) << 8 | UInt16(bytes[99])).leftPadded(to: 5)
        return out
    }

    /// Normalises what a scanner typed: full-width and other compatibility digits become
    /// ASCII (as NFKC would), white space (including CR, LF and the ideographic space) is dropped.
    /// - Throws: ``VoucherCodeError/notDigits(position:)`` at the first other character.
    public static func normalize(_ text: String) throws -> [UInt8] {
        var digits: [UInt8] = []
        digits.reserveCapacity(length)
        var position = 0
        for scalar in text.unicodeScalars {
            position += 1
            if scalar.value >= 48 && scalar.value <= 57 {
                digits.append(UInt8(scalar.value))
            } else if scalar.properties.isWhitespace || scalar.value == 0xFEFF {
                continue
            } else if let mapped = nfkcDigitScalars[scalar.value] {
                digits.append(contentsOf: mapped.utf8)
            } else {
                throw VoucherCodeError.notDigits(position: position)
            }
            // A runaway input (a stuck scanner) need not be read to its end to be refused.
            if digits.count > 4 * length { throw VoucherCodeError.wrongLength(digits.count) }
        }
        return digits
    }

    /// Decodes text to 100 bytes.
    /// - Throws: ``VoucherCodeError`` for wrong length, non-digits, wrong prefix or out-of-range groups.
    public static func decode(_ text: String) throws -> [UInt8] {
        let d = try normalize(text)
        guard d.count == length else { throw VoucherCodeError.wrongLength(d.count) }
        guard d[0..<4].elementsEqual(prefix.utf8) else {
            throw VoucherCodeError.wrongPrefix(String(decoding: d[0..<4], as: UTF8.self))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(VoucherCode.length)
        for g in 0..<14 {
            let start = 4 + g * 17
            let v = d[start..<(start + 17)].reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 48) }
            guard v < 1 << 56 else { throw VoucherCodeError.groupOutOfRange(index: g + 1) }
            bytes.appendBigEndian(v, bytes: 7)
        }
        let tail = d[242..<247].reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 48) }
        guard tail < 1 << 16 else { throw VoucherCodeError.tailOutOfRange }
        bytes.appendBigEndian(tail, bytes: 2)
        return bytes
    }
}
