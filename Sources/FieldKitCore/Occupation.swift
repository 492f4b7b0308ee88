/// A trade (工种) in the national occupation classification, coded `d-dd-dd-dd` (`4-10-01-02`).
///
/// On the voucher it travels as the digits read as one integer (4100102), which fits in 3 bytes.
public struct OccupationCode: Hashable, Sendable, CustomStringConvertible {
    /// The seven digits as one integer, 0...9_999_999.
    public var value: UInt32

    /// Wraps the integer form; nil when it has more than seven digits.
    public init?(value: UInt32) {
        guard value <= 9_999_999 else { return nil }
        self.value = value
    }

    /// Parses `d-dd-dd-dd`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].count == 1, parts[1...].allSatisfy({ $0.count == 2 }),
            parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let v = UInt32(parts.joined())
        else { return nil }
        self.value = v
    }

    /// `d-dd-dd-dd`.
    public var description: String {
        let s = Array(String(value).leftPadded(to: 7))
        return "\(s[0])-\(s[1])\(s[2])-\(s[3])\(s[4])-\(s[5])\(s[6])"
    }
}

// MARK: - Codable

extension OccupationCode: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = OccupationCode(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an occupation code like 4-10-01-02")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A vocational skill level (职业技能等级). 1 is the highest.
public enum SkillLevel: UInt8, Codable, Sendable, CaseIterable {
    /// No level (e.g. a course without certification).
    case none = 0
    /// 一级 / 高级技师, senior technician.
    case seniorTechnician = 1
    /// 二级 / 技师, technician.
    case technician = 2
    /// 三级 / 高级工, senior worker.
    case senior = 3
    /// 四级 / 中级工, intermediate worker.
    case intermediate = 4
    /// 五级 / 初级工, junior worker.
    case junior = 5

    /// English name.
    public var name: String {
        switch self {
        case .none: "no level"
        case .seniorTechnician: "level 1 (senior technician)"
        case .technician: "level 2 (technician)"
        case .senior: "level 3 (senior)"
        case .intermediate: "level 4 (intermediate)"
        case .junior: "level 5 (junior)"
        }
    }
}
