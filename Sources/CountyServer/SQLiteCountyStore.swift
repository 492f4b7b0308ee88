import CountyKit
import Crypto
import FieldKitCore
import Foundation
import Logging

/// The county store on the county home's SQLite file (the embedded default).
///
/// One connection, one writer at a time (SQLite's rule anyway): calls are serialised by a lock.
/// Every upload is one `BEGIN IMMEDIATE` transaction, so a crash mid-commit leaves either all of
/// a batch or none of it, and `UNIQUE(device_id, seq)` makes a second copy impossible.
public final class SQLiteCountyStore: CountyStore, @unchecked Sendable {
    let office: CountyOffice
    let lock = NSLock()
    let logger: Logger
    /// Voucher codes whose signature verified, across uploads.
    let verified = VerifiedCodes()

    /// Opens the store of a county home.
    public init(office: CountyOffice, logger: Logger = Logger(label: "fieldkit-county", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.office = office
        self.logger = logger
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - Enrollment

    public func enroll(_ request: EnrollRequest) throws -> EnrollResponse {
        try locked { try refused { try office.enroll(request, in: office, logger: logger) } }
    }

    public func device(_ id: String) throws -> DeviceRecord? { try locked { try office.device(id) } }

    public func highWater(device: String, deviceMs: Int64) throws -> Receipt {
        try locked { try office.highWater(device: device, deviceMs: deviceMs) }
    }

    public func bundle(site: String) throws -> (sequence: Int64, file: [UInt8]) {
        try locked { try office.currentBundle(site: site) }
    }

    // MARK: - Upload

    public func ingest(_ batch: EventBatch, idempotencyKey: String, bodySHA256: String, deviceMs: Int64) throws -> Receipt {
        try locked {
            try refused {
                try office.ingest(
                    batch, idempotencyKey: idempotencyKey, bodySHA256: bodySHA256, deviceMs: deviceMs, in: office, verified: verified,
                    logger: logger)
            }
        }
    }

    /// A refusal of the county's rules as the problem to answer.
    func refused<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let refusal as SyncRefusal { throw Problem(refusal) }
    }
}
