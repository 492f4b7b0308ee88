/// The 36 signed bytes of a VT1 voucher code (see the VT1 article in this target's catalog).
///
/// Holds no name and no ID number: the trainee appears only as an opaque county pseudonym.
public struct VoucherBody: Hashable, Sendable {
    /// The only format this version reads.
    public static let format: UInt8 = 0x01
    /// Encoded length in bytes.
    public static let length = 36

    /// Which county signing key signed this voucher.
    public var kid: KeyID
    /// Unique in the county.
    public var voucherID: UInt64
    /// The county's pseudonym for the trainee (see ``IDNumber/traineeRef(secret:)``).
    public var traineeRef: UInt64
    /// The class this voucher admits to.
    public var classID: UInt32
    /// The trade, as the occupation code's digits.
    public var trade: OccupationCode
    /// 1...5, or 0 for none.
    public var level: UInt8
    /// First valid local day.
    public var validFrom: ClassDay
    /// Last valid local day, inclusive.
    public var validTo: ClassDay
    /// Bit 0: a test voucher. Other bits are 0.
    public var flags: UInt8

    /// Bit 0 of ``flags``.
    public static let testFlag: UInt8 = 0x01

    /// Whether this is a test voucher (for drills; never counted for subsidy).
    public var isTest: Bool { flags & VoucherBody.testFlag != 0 }

    /// Builds a body from its fields.
    public init(
        kid: KeyID, voucherID: UInt64, traineeRef: UInt64, classID: UInt32, trade: OccupationCode, level: UInt8,
        validFrom: ClassDay, validTo: ClassDay, flags: UInt8 = 0
    ) {
        self.kid = kid
        self.voucherID = voucherID
        self.traineeRef = traineeRef
        self.classID = classID
        self.trade = trade
        self.level = level
        self.validFrom = validFrom
        self.validTo = validTo
        self.flags = flags
    }

    /// The 36 big-endian bytes.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(VoucherBody.length)
        out.append(VoucherBody.format)
        out.appendBigEndian(UInt64(kid.value), bytes: 4)
        out.appendBigEndian(voucherID, bytes: 8)
        out.appendBigEndian(traineeRef, bytes: 8)
        out.appendBigEndian(UInt64(classID), bytes: 4)
        out.appendBigEndian(UInt64(trade.value), bytes: 3)
        out.append(level)
        out.appendBigEndian(UInt64(UInt16(clamping: validFrom.number)), bytes: 2)
        out.appendBigEndian(UInt64(UInt16(clamping: validTo.number)), bytes: 2)
        out.append(flags)
        out.appendBigEndian(0, bytes: 2)
        return out
    }

    /// Reads 36 bytes.
    /// - Throws: ``VoucherCodeError`` for a wrong length, format, reserved bits, level or trade.
    public init(decoding bytes: [UInt8]) throws {
        guard bytes.count == VoucherBody.length else { throw VoucherCodeError.wrongByteLength(bytes.count) }
        guard bytes[0] == VoucherBody.format else { throw VoucherCodeError.unknownFormat(bytes[0]) }
        func int(_ at: Int, _ n: Int) -> UInt64 { bytes[at..<(at + n)].reduce(0) { $0 << 8 | UInt64($1) } }
        guard bytes[33] & ~VoucherBody.testFlag == 0, bytes[34] == 0, bytes[35] == 0 else {
            throw VoucherCodeError.reservedBitsSet
        }
        guard bytes[28] <= 5 else { throw VoucherCodeError.badLevel(bytes[28]) }
        guard let trade = OccupationCode(value: UInt32(int(25, 3))) else {
            throw VoucherCodeError.badTrade(UInt32(int(25, 3)))
        }
        self.kid = KeyID(UInt32(int(1, 4)))
        self.voucherID = int(5, 8)
        self.traineeRef = int(13, 8)
        self.classID = UInt32(int(21, 4))
        self.trade = trade
        self.level = bytes[28]
        self.validFrom = ClassDay(number: Int(int(29, 2)))
        self.validTo = ClassDay(number: Int(int(31, 2)))
        self.flags = bytes[33]
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt64, bytes n: Int) {
        for i in stride(from: n - 1, through: 0, by: -1) { append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}
