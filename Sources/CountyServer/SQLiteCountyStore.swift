import CountyKit
import Dispatch
import FieldKitCore
import Logging

/// The county store on the county home's SQLite file (the embedded default).
///
/// One connection, used on one serial queue of its own: every call waits there for its turn
/// (SQLite has one writer at a time anyway) and no call blocks a thread of Swift's cooperative
/// pool. Every upload is one `BEGIN IMMEDIATE` transaction (``CountyOffice``'s ``CountyLedger``),
/// so a crash mid-commit leaves all of a batch or none of it, and `UNIQUE(device_id, seq)`
/// makes a second copy impossible.
public final class SQLiteCountyStore: CountyStore, @unchecked Sendable {
    // Unchecked: `office` is touched only on `queue`.
    let office: CountyOffice
    let queue = DispatchQueue(label: "fieldkit-county.sqlite")
    let logger: Logger
    /// Voucher codes whose signature verified, across uploads.
    let verified = VerifiedCodes()

    /// Opens the store of a county home. The office is the store's from now on: nothing else
    /// should use it while the store is in use.
    public init(office: CountyOffice, logger: Logger = Logger(label: "fieldkit-county", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.office = office
        self.logger = logger
    }

    /// Runs `body` on the store's queue; the calling task waits without holding a thread.
    func onQueue<T: Sendable>(_ body: @escaping @Sendable (CountyOffice) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(self.office) }) }
        }
    }

    public func enroll(_ request: EnrollRequest) async throws -> EnrollResponse {
        let logger = logger
        return try await onQueue { office in try office.enroll(request, in: office, logger: logger) }
    }

    public func device(_ id: String) async throws -> DeviceRecord? {
        try await onQueue { office in try office.device(id) }
    }

    public func ingest(_ batch: EventBatch, idempotencyKey: String, bodySHA256: String, deviceMs: Int64) async throws -> Receipt {
        let (logger, verified) = (logger, verified)
        return try await onQueue { office in
            try office.ingest(
                batch, idempotencyKey: idempotencyKey, bodySHA256: bodySHA256, deviceMs: deviceMs, in: office, verified: verified,
                logger: logger)
        }
    }

    public func highWater(device: String, deviceMs: Int64) async throws -> Receipt {
        try await onQueue { office in try office.highWater(device: device, deviceMs: deviceMs) }
    }

    public func bundle(site: String) async throws -> (sequence: Int64, file: [UInt8]) {
        try await onQueue { office in try office.currentBundle(site: site) }
    }
}
