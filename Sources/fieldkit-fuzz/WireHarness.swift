import Crypto
import FieldKitCore
import FoundationEssentials

/// What the county does with an upload body or a USB transfer file before it stores anything:
/// JSON decode, the signed request message, the batch's shape (consecutive sequence numbers,
/// its range, one device), every event's hash and the chain between them. The fast JSON writer
/// the site uses must give back the same batch, byte for byte what the encoder writes.
enum WireHarness {
    static var decoder: WireDecoder { SyncWire.decoder() }

    static func run(_ data: [UInt8]) {
        if let batch = try? decoder.decode(EventBatch.self, from: data) { check(batch) }
        if let file = try? decoder.decode(TransferFile.self, from: data) { check(file) }
        if let receipt = try? decoder.decode(Receipt.self, from: data) {
            _ = receipt.verify(with: FixedKeys.root.publicKey)
            _ = receipt.message
        }
        if let problem = try? decoder.decode(Problem.self, from: data) { _ = problem.name }
    }

    static func check(_ file: TransferFile) {
        guard file.format == TransferFile.formatName, let body = Base64.decode(file.body) else { return }
        let message = SyncWire.requestMessage(
            method: "POST", path: SyncWire.eventsPath(device: file.device), device: file.device, time: file.time,
            idempotencyKey: file.idempotency_key, body: body)
        if let signature = Base64.decode(file.signature) { _ = FixedKeys.device.publicKey.isValidSignature(signature, for: message) }
        if let batch = try? decoder.decode(EventBatch.self, from: body) {
            _ = file.idempotency_key == batch.idempotencyKey
            check(batch)
        }
    }

    static func check(_ batch: EventBatch) {
        _ = batch.idempotencyKey
        // The shape the county requires, with overflow-checked arithmetic on the device's numbers.
        var consecutive = batch.from == batch.events.first?.seq && batch.to == batch.events.last?.seq
        for (a, b) in zip(batch.events, batch.events.dropFirst()) {
            let (next, overflow) = a.seq.addingReportingOverflow(1)
            consecutive = consecutive && !overflow && b.seq == next
        }
        _ = consecutive
        var previous: [UInt8]?
        for event in batch.events.prefix(5000) {
            _ = event.canonicalFields
            if event.hashMatches, let hash = hexBytes(event.hash) {
                _ = previous == hexBytes(event.prev_hash)
                previous = hash
            } else {
                previous = nil
            }
            // What the county derives from a stored event to show it (`fieldkit-county attendance`).
            if let day = event.class_day { _ = ClassDay(iso: day)?.description }
            let time = Timestamp(milliseconds: event.wall_ms)
            _ = time.description
            _ = time.localDescription()
        }
        // The site's fast writer: decodes to the same batch, and is what the encoder writes.
        let json = batch.jsonBytes()
        let back = try? decoder.decode(EventBatch.self, from: json)
        expect(back == batch, "wire: jsonBytes() does not decode to the same batch")
        if let encoded = try? SyncWire.encoder().encode(batch) {
            expect(Array(encoded) == json, "wire: jsonBytes() differs from the encoder's bytes")
        }
    }
}
