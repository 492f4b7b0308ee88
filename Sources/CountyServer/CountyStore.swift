import CountyKit
import FieldKitCore

/// Where the county keeps what devices send: an async repository in the county's own terms.
/// The HTTP handlers and the USB import (through ``SyncService``) are written against it;
/// ``SQLiteCountyStore`` is the embedded default, and a PostgreSQL store can be added beside it.
///
/// Its methods throw CountyKit's domain errors, never HTTP: ``SyncRefusal`` for what the
/// county's rules refuse, ``CountyError`` and the backend's own errors otherwise.
/// ``SyncService`` turns a refusal into its `application/problem+json`. The rules themselves
/// (conflicts, forks, gaps, idempotency, the audit) live in CountyKit: a store runs
/// ``CountyOffice/ingest(_:idempotencyKey:bodySHA256:deviceMs:in:verified:logger:)`` and
/// ``CountyOffice/enroll(_:in:logger:)`` over its ``CountyLedger``, so a new backend writes
/// storage primitives, not rules. A store runs blocking work on its own threads, never on Swift's
/// cooperative pool.
public protocol CountyStore: Sendable {
    /// Registers a device with a one-time code.
    /// - Throws: ``SyncRefusal`` `enrollmentCode`, `deviceIDTaken`, `keyTaken`.
    func enroll(_ request: EnrollRequest) async throws -> EnrollResponse

    /// A device, or nil.
    func device(_ id: String) async throws -> DeviceRecord?

    /// Stores a verified device's batch exactly once and answers with a signed receipt: the
    /// receipt stored for the same idempotency key and bytes, a new one after storing what was
    /// new, or a refusal with nothing stored.
    /// - Throws: ``SyncRefusal`` `unknownDevice`, `gap`, `tamperedEvent`, `brokenChain`, `differsFromHeld`.
    func ingest(_ batch: EventBatch, idempotencyKey: String, bodySHA256: String, deviceMs: Int64) async throws -> Receipt

    /// The county's high-water for a device (a restored station asks): a signed receipt for the
    /// last event held.
    /// - Throws: ``CountyError/unknownDevice(_:)``.
    func highWater(device: String, deviceMs: Int64) async throws -> Receipt

    /// The site's newest trust bundle: its sequence and file.
    func bundle(site: String) async throws -> (sequence: Int64, file: [UInt8])
}
