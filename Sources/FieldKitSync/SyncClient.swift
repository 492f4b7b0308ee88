import Crypto
import FieldKitCore
import FieldKitStore
import FoundationEssentials
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Sends the station's unacknowledged events to the county until a verified receipt covers
/// them all; fetches a newer trust bundle on the way.
///
/// Over a bad link: batches bounded in events and bytes; full-jitter exponential backoff that
/// honours Retry-After; the batch halves on 413; the cursor rewinds on a gap; a 200 counts only
/// when the county root key's signature on the receipt verifies. A retry reuses the idempotency
/// key of the batch's sequence range, so the county stores each event once whatever happens.
public final class SyncClient {
    /// How hard to try.
    public struct Policy: Sendable {
        /// Most events in one batch.
        public var batchEvents = 1000
        /// About this many bytes of JSON in one batch.
        public var batchBytes = 1 << 20
        /// The first backoff ceiling, in seconds; it doubles per failure.
        public var backoffBase = 0.5
        /// The largest backoff, in seconds.
        public var backoffCap = 30.0
        /// Failures in a row before giving up (this run; the next run starts again).
        public var maxFailures = 5

        /// The defaults.
        public init() {}
    }

    /// What a sync did.
    public struct Outcome: Sendable, Equatable {
        /// Events the county acknowledged in this run.
        public var acknowledged: Int64
        /// Everything up to here is held by the county.
        public var ackedSeq: Int64
        /// Requests sent (retries included).
        public var requests: Int
        /// The trust bundle sequence imported, when a newer one came.
        public var newBundle: Int64?
        /// Why the bundle could not be fetched this time (the events went through all the same).
        public var bundleError: String?
    }

    let station: Station
    let county: String
    let http: HTTPClient
    let policy: Policy
    let logger: Logger
    let pause: (Double) -> Void
    let words: Localizer
    var random = SystemRandomNumberGenerator()

    /// A client for a station and the county's base URL; `words` is the language the last
    /// error is kept in for `status`.
    public init(
        station: Station, county: String, http: HTTPClient = HTTPClient(), policy: Policy = Policy(),
        logger: Logger = Logger(label: "fieldkit", factory: { _ in SwiftLogNoOpLogHandler() }),
        words: Localizer = Localizer(.zhHans),
        pause: @escaping (Double) -> Void = { seconds in usleep(UInt32(max(0, min(seconds, 3600)) * 1_000_000)) }
    ) {
        self.words = words
        self.station = station
        self.county = county.hasSuffix("/") ? String(county.dropLast()) : county
        self.http = http
        self.policy = policy
        self.logger = logger
        self.pause = pause
    }

    // MARK: - Enrollment

    /// Registers this device with the county using a one-time code, and remembers the county.
    /// - Throws: ``SyncError``.
    public func enroll(code: String) throws -> EnrollResponse {
        let body = Array(try SyncWire.encoder().encode(try station.enrollRequest(code: code)))
        let url = county + SyncWire.enrollPath
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: body))
        } catch { throw SyncError.unreachable(url: county, detail: "\(error)") }
        guard response.status == 200 else { throw refusal(response) }
        guard let answer = try? JSONDecoder().decode(EnrollResponse.self, from: Data(response.body)) else {
            throw SyncError.notCounty(url: county)
        }
        guard answer.county_public_key == Base64.encode(station.rootKey.rawRepresentation) else { throw SyncError.wrongCounty }
        try station.setEnrolled(countyURL: county)
        logger.info("enrolled", metadata: ["device": "\(answer.device)"])
        return answer
    }

    // MARK: - Sync

    /// Sends every unacknowledged event and fetches a newer bundle.
    /// - Throws: ``SyncError``; the reason is also kept for `status`.
    public func sync() throws -> Outcome {
        let state = try station.syncState()
        if let why = state.stopped { throw SyncError.stopped(why) }
        do {
            // A restored log asks the county what it holds first, and goes on after it.
            if try station.restorePending() != nil { try continueRestore() }
            var outcome = try upload(from: try station.syncState().ackedSeq)
            // The events are what must reach the county; a bundle that does not come this time
            // comes next time (and the station warns when its bundle gets old).
            do { outcome.newBundle = try fetchBundle() } catch let error as SyncError {
                outcome.bundleError = error.text(words)
            }
            try station.noteSync(error: nil)
            return outcome
        } catch let error as SyncError {
            let stop: Bool = if case .fork = error { true } else { false }
            try station.noteSync(error: error.text(words), stop: stop)
            throw error
        }
    }

    /// After a restore: asks the county for its high-water for this device (a device-signed
    /// GET) and lets the station write its `restored` event after it.
    /// - Throws: ``SyncError``, or ``BackupError`` when the answer does not fit the backup.
    @discardableResult
    public func continueRestore() throws -> RestoreStatement {
        let path = SyncWire.highWaterPath(device: station.deviceID)
        let headers = try station.signRequest(method: "GET", path: path, idempotencyKey: "", body: [])
        let response: HTTPResponse
        do { response = try http.send(HTTPRequest(method: "GET", url: county + path, headers: headers)) } catch {
            throw SyncError.unreachable(url: county, detail: "\(error)")
        }
        guard response.status == 200 else {
            if (400..<500).contains(response.status) { throw refusal(response) }
            throw SyncError.unreachable(url: county, detail: "HTTP \(response.status)")
        }
        guard let receipt = try? JSONDecoder().decode(Receipt.self, from: Data(response.body)) else {
            throw SyncError.notCounty(url: county)
        }
        return try station.takeHighWater(receipt, source: county)
    }

    func upload(from acked: Int64) throws -> Outcome {
        var cursor = acked
        var ackedSeq = acked
        var batchLimit = policy.batchEvents
        var failures = 0
        var requests = 0
        var lastFailure = ""
        let path = SyncWire.eventsPath(device: station.deviceID)
        while let (batch, body) = try station.nextBatch(after: cursor, limit: batchLimit, maxBytes: policy.batchBytes) {
            requests += 1
            var headers = try station.signRequest(method: "POST", path: path, idempotencyKey: batch.idempotencyKey, body: body)
            headers.append(("Content-Type", "application/json"))
            var retryAfter: Double? = nil
            do {
                let response = try http.send(HTTPRequest(method: "POST", url: county + path, headers: headers, body: body))
                switch response.status {
                case 200:
                    guard let receipt = try? JSONDecoder().decode(Receipt.self, from: Data(response.body)) else {
                        lastFailure = "answer not from the county"
                        break
                    }
                    switch try station.takeReceipt(receipt) {
                    case .accepted(let seq):
                        ackedSeq = seq
                        cursor = seq
                        failures = 0
                        continue
                    case .badSignature, .otherDevice: lastFailure = "answer not from the county"
                    case .ahead(let seq): throw SyncError.fork(detail: "the county acknowledges event \(seq), which this device never wrote")
                    case .fork(let seq): throw SyncError.fork(detail: "event \(seq) differs")
                    }
                case 409:
                    let problem = try? JSONDecoder().decode(Problem.self, from: Data(response.body))
                    if problem?.name == "gap", let expected = problem?.expected_seq, expected >= 1 {
                        // The county holds less than this batch assumed: send from where it stands.
                        guard expected - 1 < batch.from else { throw SyncError.fork(detail: problem?.detail ?? "") }
                        cursor = expected - 1
                        continue
                    }
                    if problem?.name == "fork" { throw SyncError.fork(detail: problem?.detail ?? "") }
                    throw refusal(response)
                case 413:
                    guard batchLimit > 1 else { throw refusal(response) }
                    batchLimit = max(1, min(batchLimit, batch.events.count) / 2)
                    continue
                case 429, 503:
                    // Anyone on the way can answer this: a wait past 10 minutes (or not a number) is not taken.
                    retryAfter = response.header("Retry-After").flatMap(Double.init).map { $0.isFinite ? min(max($0, 0), 600) : 0 }
                    lastFailure = "county busy (\(response.status))"
                case 400 where (try? JSONDecoder().decode(Problem.self, from: Data(response.body)))?.name == "incomplete-request",
                    408:
                    // The body was cut off on the way, or came too slowly for the county: nothing was stored; send it again.
                    lastFailure = "the request was cut off or too slow on the way"
                case 400..<500:
                    throw refusal(response)
                default:
                    lastFailure = "HTTP \(response.status)"
                }
            } catch let error as HTTPClientError {
                lastFailure = "\(error)"
            }
            failures += 1
            guard failures < policy.maxFailures else {
                if lastFailure == "answer not from the county" { throw SyncError.notCounty(url: county) }
                throw SyncError.unreachable(url: county, detail: lastFailure)
            }
            let ceiling = min(policy.backoffCap, policy.backoffBase * Double(1 << min(failures, 20)))
            let wait = max(retryAfter ?? 0, Double.random(in: 0...ceiling, using: &random))
            logger.info("sync retry", metadata: ["failures": "\(failures)", "wait": "\(wait)", "why": "\(lastFailure)"])
            pause(wait)
        }
        return Outcome(acknowledged: ackedSeq - acked, ackedSeq: ackedSeq, requests: requests, newBundle: nil, bundleError: nil)
    }

    /// Fetches the site's trust bundle when the county has a newer one, and imports it.
    /// - Returns: the new sequence, or nil when the held one is current.
    func fetchBundle() throws -> Int64? {
        let path = SyncWire.bundlePath(site: station.siteID)
        var headers = try station.signRequest(method: "GET", path: path, idempotencyKey: "", body: [])
        let held = try station.heldTrust()?.sequence
        if let held { headers.append(("If-None-Match", "\"\(held)\"")) }
        let response: HTTPResponse
        do { response = try http.send(HTTPRequest(method: "GET", url: county + path, headers: headers)) } catch {
            throw SyncError.unreachable(url: county, detail: "\(error)")
        }
        switch response.status {
        case 304: return nil
        case 200:
            do {
                let imported = try station.importTrust(fileBytes: response.body)
                return imported.changed ? imported.sequence : nil
            } catch {
                // Older or equal bundles are refused by the import: nothing new.
                logger.info("bundle not imported", metadata: ["why": "\(error)"])
                return nil
            }
        case 400..<500: throw refusal(response)
        default: throw SyncError.unreachable(url: county, detail: "HTTP \(response.status)")
        }
    }

    /// The county's problem as a ``SyncError``; an answer that is not a problem is not the county.
    func refusal(_ response: HTTPResponse) -> SyncError {
        guard let problem = try? JSONDecoder().decode(Problem.self, from: Data(response.body)) else {
            return SyncError.notCounty(url: county)
        }
        return SyncError.refused(problem: problem.name, detail: problem.detail ?? problem.title)
    }
}
