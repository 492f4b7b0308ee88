import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

/// A device's statement that it was restored from a backup (its `restored` event).
public struct Restoration: Sendable, Encodable, Equatable {
    /// The device.
    public var device: String
    /// The `restored` event's number.
    public var seq: Int64
    /// The backup's last event: the chain goes on from it.
    public var base_seq: Int64
    /// What the county held when the device asked: events after it, made before the restore,
    /// may be lost.
    public var county_seq: Int64
    /// When the device restored (its clock).
    public var time: Timestamp

    /// A statement.
    public init(device: String, seq: Int64, base_seq: Int64, county_seq: Int64, time: Timestamp) {
        self.device = device
        self.seq = seq
        self.base_seq = base_seq
        self.county_seq = county_seq
        self.time = time
    }

    /// Whether the county held events the backup lacked (the numbers jump).
    public var hasGap: Bool { county_seq > base_seq }
}

extension CountyOffice {
    /// Every restore a device declared, oldest first (all devices when nil).
    public func restorations(device: String? = nil) throws -> [Restoration] {
        try db.query(
            """
            SELECT device_id, seq, base_seq, county_seq, wall_ms FROM restorations
            WHERE ?1 IS NULL OR device_id = ?1 ORDER BY device_id, seq
            """, [.string(device)]
        ) { Restoration(device: $0.text(0) ?? "", seq: $0.int64(1), base_seq: $0.int64(2), county_seq: $0.int64(3), time: Timestamp(milliseconds: $0.int64(4))) }
    }

    /// The county's high-water for a device: a receipt, signed by the root key, for the last
    /// event it holds. A restored station needs it before its log may go on.
    /// - Throws: ``CountyError/unknownDevice(_:)``.
    public func highWater(device id: String, deviceMs: Int64 = 0) throws -> Receipt {
        guard let device = try device(id) else { throw CountyError.unknownDevice(id) }
        return try signReceipt(
            device: device.id, ackedSeq: device.headSeq,
            headHash: device.headSeq == 0 ? SiteEvent.genesisHash : device.headHash, deviceMs: deviceMs)
    }
}
