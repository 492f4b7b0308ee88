import CountyKit
import FieldKitCore

/// Where the county keeps what devices send. The HTTP handlers and the USB import are written
/// against this protocol; ``SQLiteCountyStore`` is the embedded default, and a PostgreSQL store
/// can be added beside it.
public protocol CountyStore: Sendable {
    /// Registers a device with a one-time code.
    /// - Throws: ``Problem`` (`enrollment-code`, `wrong-site`, `device-exists`).
    func enroll(_ request: EnrollRequest) throws -> EnrollResponse

    /// A device, or nil.
    func device(_ id: String) throws -> DeviceRecord?

    /// Stores a verified device's batch exactly once and answers with a signed receipt: the
    /// receipt stored for the same idempotency key and bytes, a new one after storing what was
    /// new, or a problem (`gap`, `fork`, `tampered-event`) with nothing stored.
    func ingest(_ batch: EventBatch, idempotencyKey: String, bodySHA256: String, deviceMs: Int64) throws -> Receipt

    /// The county's high-water for a device (a restored station asks): a signed receipt for the
    /// last event held.
    func highWater(device: String, deviceMs: Int64) throws -> Receipt

    /// The site's newest trust bundle: its sequence and file.
    func bundle(site: String) throws -> (sequence: Int64, file: [UInt8])
}
