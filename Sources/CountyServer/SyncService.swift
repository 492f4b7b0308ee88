import CountyKit
import Crypto
import FieldKitCore
import Foundation

/// What the county does with a device's request, whether it came over HTTP or on a USB stick:
/// authenticate the device, check the body, store exactly once, answer with a receipt.
public struct SyncService<Store: CountyStore>: Sendable {
    /// Where events go.
    public let store: Store
    /// Largest body accepted (413 above).
    public var maxBodyBytes: Int
    /// Most events in one batch (413 above).
    public var maxEvents: Int
    /// Uploads in progress at once before answering 503 with Retry-After.
    public var maxInFlight: Int
    let inFlight = InFlight()

    /// A service over a store.
    public init(store: Store, maxBodyBytes: Int = 4 << 20, maxEvents: Int = 5000, maxInFlight: Int = 64) {
        self.store = store
        self.maxBodyBytes = maxBodyBytes
        self.maxEvents = maxEvents
        self.maxInFlight = maxInFlight
    }

    /// Checks that a known, active device signed exactly this request.
    /// - Returns: the device and its clock as stated.
    /// - Throws: ``Problem``: `unauthenticated`, `unknown-device`, `device-revoked`, `bad-signature`.
    public func authenticate(method: String, path: String, _ c: SyncCredentials, body: [UInt8]) throws -> (DeviceRecord, Int64) {
        guard let id = c.device, let timeText = c.time, let time = Int64(timeText), let sigText = c.signature else {
            throw Problem("unauthenticated", status: 401, title: "The request is not signed",
                          detail: "send FieldKit-Device, FieldKit-Time and FieldKit-Signature")
        }
        guard let device = try store.device(id) else { throw Problem.unknownDevice(id) }
        guard device.status == "active" else {
            throw Problem("device-revoked", status: 403, title: "This device was cut off by the county",
                          detail: "device \(id) may not send; ask the county")
        }
        guard let raw = Base64.decode(device.publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            let signature = Base64.decode(sigText),
            key.isValidSignature(
                signature,
                for: SyncWire.requestMessage(
                    method: method, path: path, device: id, time: time, idempotencyKey: c.idempotencyKey ?? "", body: body))
        else {
            throw Problem("bad-signature", status: 401, title: "The signature does not verify",
                          detail: "the request was not signed by device \(id), or was changed on the way")
        }
        return (device, time)
    }

    /// An upload: authenticate, parse, check the batch, store once.
    /// - Throws: ``Problem`` with the status to answer.
    public func upload(path device: String, _ c: SyncCredentials, body: [UInt8]) throws -> Receipt {
        guard body.count <= maxBodyBytes else {
            throw Problem("too-large", status: 413, title: "The batch is too large",
                          detail: "\(body.count) bytes, at most \(maxBodyBytes); send fewer events at once")
        }
        guard inFlight.enter(limit: maxInFlight) else {
            throw Problem("overloaded", status: 503, title: "The county server is busy", detail: "retry after a second")
        }
        defer { inFlight.leave() }
        let (record, deviceMs) = try authenticate(method: "POST", path: SyncWire.eventsPath(device: device), c, body: body)
        guard record.id == device else {
            throw Problem("bad-request", status: 400, title: "The path names another device", detail: "\(device) ≠ \(record.id)")
        }
        let batch: EventBatch
        do { batch = try JSONDecoder().decode(EventBatch.self, from: Data(body)) } catch {
            throw Problem("invalid-batch", status: 422, title: "The body is not an event batch", detail: "\(error)")
        }
        guard batch.events.count <= maxEvents else {
            throw Problem("too-large", status: 413, title: "The batch is too large",
                          detail: "\(batch.events.count) events, at most \(maxEvents); send fewer events at once")
        }
        guard !batch.events.isEmpty, batch.device == record.id,
            batch.from == batch.events.first?.seq, batch.to == batch.events.last?.seq,
            zip(batch.events, batch.events.dropFirst()).allSatisfy({ $1.seq == $0.seq + 1 }),
            batch.events.allSatisfy({ $0.device_id == record.id }), batch.from >= 1
        else {
            throw Problem("invalid-batch", status: 422, title: "The batch is not a run of this device's events",
                          detail: "events must be consecutive, from \(batch.from) to \(batch.to), all of device \(record.id)")
        }
        let key = c.idempotencyKey ?? ""
        guard key == batch.idempotencyKey else {
            throw Problem("invalid-batch", status: 422, title: "The Idempotency-Key does not match the batch",
                          detail: "expected \(batch.idempotencyKey)")
        }
        return try store.ingest(batch, idempotencyKey: key, bodySHA256: hexString(SHA256.hash(data: body)), deviceMs: deviceMs)
    }

    /// A USB transfer file: the same checks and the same exactly-once result as an upload.
    public func importTransfer(_ fileBytes: [UInt8]) throws -> Receipt {
        guard let file = try? JSONDecoder().decode(TransferFile.self, from: Data(fileBytes)), file.format == TransferFile.formatName,
            let body = Base64.decode(file.body)
        else {
            throw Problem("invalid-transfer", status: 422, title: "This is not a fieldkit transfer file",
                          detail: "expected \(TransferFile.formatName)")
        }
        return try upload(
            path: file.device,
            SyncCredentials(device: file.device, time: String(file.time), idempotencyKey: file.idempotency_key, signature: file.signature),
            body: body)
    }
}

/// Counts uploads in progress.
final class InFlight: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func enter(limit: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard count < limit else { return false }
        count += 1
        return true
    }

    func leave() {
        lock.lock()
        count -= 1
        lock.unlock()
    }
}

/// The signed headers of a request, as they arrived (any may be missing).
public struct SyncCredentials: Sendable {
    /// `FieldKit-Device`.
    public var device: String?
    /// `FieldKit-Time`.
    public var time: String?
    /// `Idempotency-Key`.
    public var idempotencyKey: String?
    /// `FieldKit-Signature`.
    public var signature: String?

    /// Credentials from header values.
    public init(device: String?, time: String?, idempotencyKey: String?, signature: String?) {
        self.device = device
        self.time = time
        self.idempotencyKey = idempotencyKey
        self.signature = signature
    }
}
