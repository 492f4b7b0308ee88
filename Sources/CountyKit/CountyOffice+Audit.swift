import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FoundationEssentials

extension CountyOffice: AuditFacts {
    /// The earliest counted sign-in of a voucher in a session in a device's log before a time.
    public func heldSignIn(device: String, voucher: UInt64, day: String, session: Int, before: Int64) throws -> Int64? {
        try db.first(
            """
            SELECT min(wall_ms) FROM events
            WHERE voucher_id = ? AND class_day = ? AND session_index = ? AND device_id = ? AND direction = 'in'
              AND kind IN ('scan', 'manual') AND quarantine IS NULL AND wall_ms < ?
            """, [.integer(Int64(bitPattern: voucher)), .text(day), .integer(Int64(session)), .text(device), .integer(before)]
        ) { $0.optionalInt64(0) } ?? nil
    }
}
