import CountyKit
import Crypto
import FieldKitCore
import Foundation
import Synchronization

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

    /// An enrollment: the device id must be the site and the key id of the key it registers,
    /// and the request signed by that key (proof of possession); then the code decides.
    /// - Throws: ``Problem``: `invalid-request`, `bad-signature`, `enrollment-code`, `device-exists`.
    public func enroll(_ enroll: EnrollRequest) async throws -> EnrollResponse {
        guard let raw = Base64.decode(enroll.public_key), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw Problem("invalid-request", status: 422, title: "The public key is not an Ed25519 key", detail: "send base64 of its 32 bytes")
        }
        guard DeviceID.isValidSite(enroll.site), enroll.device == DeviceID.make(site: enroll.site, key: key) else {
            throw Problem("invalid-request", status: 422, title: "The device id is not the site and key id",
                          detail: "a device id is SITE-<key id>; fieldkit init makes it")
        }
        guard let sig = Base64.decode(enroll.signature),
            key.isValidSignature(
                sig, for: SyncWire.enrollMessage(code: enroll.code, site: enroll.site, device: enroll.device, publicKey: enroll.public_key))
        else {
            throw Problem("bad-signature", status: 401, title: "The enrollment is not signed by the key it registers")
        }
        return try await answering { try await store.enroll(enroll) }
    }

    /// The first look at a request, before its body is read: the headers name a known, active
    /// device and state its clock as a time. Nothing of the body is read or kept for a request
    /// that fails here.
    /// - Throws: ``Problem``: `unauthenticated`, `bad-request`, `unknown-device`, `device-revoked`.
    public func admit(_ c: SyncCredentials) async throws -> (DeviceRecord, Int64) {
        guard let id = c.device, let timeText = c.time, c.signature != nil else {
            throw Problem("unauthenticated", status: 401, title: "The request is not signed",
                          detail: "send FieldKit-Device, FieldKit-Time and FieldKit-Signature")
        }
        guard id.utf8.count <= DeviceID.maxLength else { throw Problem.unknownDevice(String(id.prefix(DeviceID.maxLength)) + "…") }
        guard let time = Int64(timeText), (0...WireEvent.maxWallMs).contains(time) else {
            throw Problem("bad-request", status: 400, title: "FieldKit-Time is not a time",
                          detail: "FieldKit-Time '\(timeText.prefix(40))' is not milliseconds since 1970 between 0 and \(WireEvent.maxWallMs)")
        }
        guard let device = try await store.device(id) else { throw Problem.unknownDevice(id) }
        guard device.status == "active" else {
            throw Problem("device-revoked", status: 403, title: "This device was cut off by the county",
                          detail: "device \(id) may not send; ask the county")
        }
        return (device, time)
    }

    /// Checks that a known, active device signed exactly this request.
    /// - Returns: the device and its clock as stated.
    /// - Throws: ``Problem``: `unauthenticated`, `bad-request`, `unknown-device`, `device-revoked`, `bad-signature`.
    public func authenticate(method: String, path: String, _ c: SyncCredentials, body: [UInt8]) async throws -> (DeviceRecord, Int64) {
        let (device, time) = try await admit(c)
        guard let raw = Base64.decode(device.publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            let signature = c.signature.flatMap(Base64.decode),
            key.isValidSignature(
                signature,
                for: SyncWire.requestMessage(
                    method: method, path: path, device: device.id, time: time, idempotencyKey: c.idempotencyKey ?? "", body: body))
        else {
            throw Problem("bad-signature", status: 401, title: "The signature does not verify",
                          detail: "the request was not signed by device \(device.id), or was changed on the way")
        }
        return (device, time)
    }

    /// Takes one of the upload places: at most ``maxInFlight`` at once, one per device (a site
    /// uploads one batch at a time). Taken before the body is read, so stalled bodies cannot pile up.
    /// - Throws: ``Problem`` `overloaded` (503, Retry-After).
    public func enter(device: String) throws -> UploadTicket {
        guard inFlight.enter(device: device, limit: maxInFlight) else {
            throw Problem("overloaded", status: 503, title: "The county server is busy", detail: "retry after a second")
        }
        return UploadTicket(inFlight: inFlight, device: device)
    }

    /// An upload: authenticate, parse, check the batch, store once.
    /// - Throws: ``Problem`` with the status to answer.
    public func upload(path device: String, _ c: SyncCredentials, body: [UInt8]) async throws -> Receipt {
        guard body.count <= maxBodyBytes else {
            throw Problem("too-large", status: 413, title: "The batch is too large",
                          detail: "\(body.count) bytes, at most \(maxBodyBytes); send fewer events at once")
        }
        let ticket = try enter(device: c.device ?? "")
        defer { ticket.leave() }
        return try await receive(path: device, c, body: body)
    }

    /// An upload whose place is taken (``enter(device:)``): authenticate, parse, check, store once.
    public func receive(path device: String, _ c: SyncCredentials, body: [UInt8]) async throws -> Receipt {
        let (record, deviceMs) = try await authenticate(method: "POST", path: SyncWire.eventsPath(device: device), c, body: body)
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
        for e in batch.events {
            if let problem = e.shapeProblem {
                throw Problem("invalid-event", status: 422, title: "An event cannot have come from a fieldkit station", detail: problem)
            }
        }
        guard !batch.events.isEmpty, batch.device == record.id,
            batch.from == batch.events.first?.seq, batch.to == batch.events.last?.seq,
            zip(batch.events, batch.events.dropFirst()).allSatisfy({ $1.seq == $0.seq + 1 }),
            batch.events.allSatisfy({ $0.device_id == record.id })
        else {
            throw Problem("invalid-batch", status: 422, title: "The batch is not a run of this device's events",
                          detail: "events must be consecutive, from \(batch.from) to \(batch.to), all of device \(record.id)")
        }
        let key = c.idempotencyKey ?? ""
        guard key == batch.idempotencyKey else {
            throw Problem("invalid-batch", status: 422, title: "The Idempotency-Key does not match the batch",
                          detail: "expected \(batch.idempotencyKey)")
        }
        let digest = hexString(SHA256.hash(data: body))
        return try await answering { try await store.ingest(batch, idempotencyKey: key, bodySHA256: digest, deviceMs: deviceMs) }
    }

    /// A high-water receipt for an authenticated device.
    /// - Throws: ``Problem``, or the store's error (a 500).
    public func highWater(device: String, deviceMs: Int64) async throws -> Receipt {
        try await answering { try await store.highWater(device: device, deviceMs: deviceMs) }
    }

    /// A site's newest trust bundle.
    /// - Throws: ``Problem``, or the store's error (a 500).
    public func bundle(site: String) async throws -> (sequence: Int64, file: [UInt8]) {
        try await answering { try await store.bundle(site: site) }
    }

    /// Runs a store call; a refusal of the county's rules becomes the problem to answer.
    func answering<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let refusal as SyncRefusal { throw Problem(refusal) }
    }

    /// A USB transfer file: the same checks and the same exactly-once result as an upload.
    public func importTransfer(_ fileBytes: [UInt8]) async throws -> Receipt {
        guard let file = try? JSONDecoder().decode(TransferFile.self, from: Data(fileBytes)), file.format == TransferFile.formatName,
            let body = Base64.decode(file.body)
        else {
            throw Problem("invalid-transfer", status: 422, title: "This is not a fieldkit transfer file",
                          detail: "expected \(TransferFile.formatName)")
        }
        return try await upload(
            path: file.device,
            SyncCredentials(device: file.device, time: String(file.time), idempotencyKey: file.idempotency_key, signature: file.signature),
            body: body)
    }
}

/// One upload's place, given back when it ends.
public struct UploadTicket: Sendable {
    let inFlight: InFlight
    let device: String

    /// Gives the place back.
    public func leave() { inFlight.leave(device: device) }
}

/// Uploads in progress: how many, and for which devices.
final class InFlight: Sendable {
    private let state = Mutex<(count: Int, devices: Set<String>)>((0, []))

    func enter(device: String, limit: Int) -> Bool {
        state.withLock {
            guard $0.count < limit, !$0.devices.contains(device) else { return false }
            $0.count += 1
            $0.devices.insert(device)
            return true
        }
    }

    func leave(device: String) {
        state.withLock {
            $0.count -= 1
            $0.devices.remove(device)
        }
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
