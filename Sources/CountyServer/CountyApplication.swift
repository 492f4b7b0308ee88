import CountyKit
import Crypto
import FieldKitCore
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging

/// Limits that keep one county server up when peers misbehave (see the SyncProtocol article).
public struct ServerLimits: Sendable {
    /// Open connections in all; more wait in the kernel's queue, using nothing of the server.
    public var maxConnections = 512
    /// Open connections from one address; more are closed at once.
    public var maxConnectionsPerPeer = 32
    /// A connection that sends nothing, or not a whole header, for this long is closed.
    public var idleTimeout: Duration = .seconds(15)
    /// A body must arrive within this grace plus one second per ``minimumBodyRate`` bytes.
    public var bodyGrace: Duration = .seconds(60)
    /// Bytes per second a body must average after the grace.
    public var minimumBodyRate = 4096

    /// The defaults.
    public init() {}

    /// How long a body of this many bytes may take.
    func bodyDeadline(bytes: Int) -> Duration { bodyGrace + .seconds(max(0, bytes) / max(1, minimumBodyRate)) }
}

/// Builds the county's HTTP application over a store. `fieldkit-county serve` and the tests
/// both call this. The API is written down in `openapi.yaml` beside this file.
/// - Parameters:
///   - onRunning: called with the bound port once the server listens (port 0 picks a free one).
public func buildApplication<Store: CountyStore>(
    service: SyncService<Store>, host: String = "127.0.0.1", port: Int, limits: ServerLimits = ServerLimits(),
    throttle: EnrollmentThrottle = EnrollmentThrottle(), logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let peers = PeerConnections(limit: limits.maxConnectionsPerPeer)
    return Application(
        router: buildRouter(service: service, limits: limits, throttle: throttle, logger: logger),
        server: .http1(configuration: .init(
            additionalChannelHandlers: [PeerConnectionLimit(peers: peers)],
            idleTimeout: .seconds(limits.idleTimeout.components.seconds))),
        configuration: ApplicationConfiguration(
            address: .hostname(host, port: port), serverName: "fieldkit-county",
            availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
        logger: logger)
}

/// What a handler knows of a request besides the request: the peer's address.
public struct CountyRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's part.
    public var coreContext: CoreRequestContextStorage
    /// The connected peer, when there is one (not in router tests).
    public let remoteAddress: SocketAddress?

    /// A context for a request on a channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's address for throttling: its IP, or `local` without one.
    var peer: String { remoteAddress?.ipAddress ?? "local" }
}

/// Runs the checks made before a body is read. A refusal asks the client to close the
/// connection, so that it stops sending what it announced (what still comes is read and dropped,
/// never kept; a peer that stalls is closed by the idle timeout).
func beforeBody<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch var problem as Problem {
        problem.closeConnection = true
        throw problem
    }
}

/// The routes, for tests that drive the router without a socket.
public func buildRouter<Store: CountyStore>(
    service: SyncService<Store>, limits: ServerLimits = ServerLimits(), throttle: EnrollmentThrottle = EnrollmentThrottle(),
    logger: Logger
) -> Router<CountyRequestContext> {
    let router = Router(context: CountyRequestContext.self)
    router.get("/v1/health") { _, _ in json(["status": "ok"]) }
    router.get("/openapi.yaml") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/yaml"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: openAPIDocument)))
    }
    router.post(RouterPath(SyncWire.enrollPath)) { request, context in
        await answer(logger) {
            let now = Int64(Date().timeIntervalSince1970)
            try await beforeBody {
                if let wait = throttle.wait(peer: context.peer, code: nil, now: now) { throw Problem.tooManyAttempts(wait) }
                try checkLength(request, limit: 64 << 10)
            }
            var request = request
            let body = try await readBody(&request, limit: 64 << 10, deadline: limits.bodyGrace)
            var code: String?
            do {
                let enroll: EnrollRequest
                do { enroll = try JSONDecoder().decode(EnrollRequest.self, from: Data(body)) } catch {
                    throw Problem("invalid-request", status: 422, title: "The body is not an enrollment request", detail: "\(error)")
                }
                code = CountyOffice.codeHash(enroll.code)
                if let wait = throttle.wait(peer: context.peer, code: code, now: now) { throw Problem.tooManyAttempts(wait) }
                return try encoded(await service.enroll(enroll))
            } catch let problem as Problem where problem.name != Problem.tooManyAttemptsName {
                throttle.failed(peer: context.peer, code: code, now: now)
                throw problem
            }
        }
    }
    router.post("/v1/devices/:device/events") { request, context in
        await answer(logger) {
            let device = context.parameters.get("device") ?? ""
            let c = credentials(request)
            // Who is sending, before a byte of the body is read.
            let ticket = try await beforeBody {
                try checkLength(request, limit: service.maxBodyBytes)
                return try service.enter(device: await service.admit(c).0.id)
            }
            defer { ticket.leave() }
            var request = request
            let declared = request.headers[.contentLength].flatMap(Int.init) ?? service.maxBodyBytes
            let body = try await readBody(&request, limit: service.maxBodyBytes, deadline: limits.bodyDeadline(bytes: declared))
            return try encoded(await service.receive(path: device, c, body: body))
        }
    }
    router.get("/v1/devices/:device/high-water") { request, context in
        await answer(logger) {
            let device = context.parameters.get("device") ?? ""
            let (record, deviceMs) = try await service.authenticate(
                method: "GET", path: SyncWire.highWaterPath(device: device), credentials(request), body: [])
            guard record.id == device else {
                throw Problem("bad-request", status: 400, title: "The path names another device", detail: "\(device) ≠ \(record.id)")
            }
            return try encoded(await service.highWater(device: record.id, deviceMs: deviceMs))
        }
    }
    router.get("/v1/sites/:site/bundle") { request, context in
        await answer(logger) {
            let site = context.parameters.get("site") ?? ""
            let (device, _) = try await service.authenticate(
                method: "GET", path: SyncWire.bundlePath(site: site), credentials(request), body: [])
            guard device.site == site else {
                throw Problem("wrong-site", status: 403, title: "This device belongs to another site", detail: "\(device.id) is of \(device.site)")
            }
            let (sequence, file) = try await service.bundle(site: site)
            let etag = "\"\(sequence)\""
            if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: [.eTag: etag]) }
            return Response(
                status: .ok, headers: [.contentType: "application/json", .eTag: etag],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: file)))
        }
    }
    return router
}

/// The signed headers of a request.
func credentials(_ request: Request) -> SyncCredentials {
    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return request.headers.first { $0.name.canonicalName == lower }?.value
    }
    return .init(
        device: header(SyncWire.Header.device), time: header(SyncWire.Header.time),
        idempotencyKey: header(SyncWire.Header.idempotencyKey), signature: header(SyncWire.Header.signature))
}

/// Reads a body up to a limit (more is a 413 problem) within a deadline (later is a 408
/// problem: a body trickled in to hold the server's memory).
func readBody(_ request: inout Request, limit: Int, deadline: Duration) async throws -> [UInt8] {
    try checkLength(request, limit: limit)
    let body = request.body
    do {
        return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                let buffer = try await body.collect(upTo: limit)
                return Array(buffer.readableBytesView)
            }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let bytes = first else {
                var problem = Problem("timeout", status: 408, title: "The request body came too slowly", detail: "it did not arrive within \(deadline)")
                problem.closeConnection = true
                throw problem
            }
            return bytes
        }
    } catch let problem as Problem {
        throw problem
    } catch let error as HTTPError where error.status == .contentTooLarge {
        throw Problem("too-large", status: 413, title: "The request is too large", detail: "at most \(limit) bytes")
    } catch {
        // The connection broke mid-body (a rural link does): nothing was stored.
        throw Problem("incomplete-request", status: 400, title: "The request body was cut off", detail: "\(error)")
    }
}

/// A body announced larger than the limit is a 413 problem.
func checkLength(_ request: Request, limit: Int) throws {
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
        throw Problem("too-large", status: 413, title: "The request is too large", detail: "\(length) bytes, at most \(limit)")
    }
}

/// Runs a handler; a ``Problem`` becomes `application/problem+json`, anything else a 500 problem.
func answer(_ logger: Logger, _ body: () async throws -> Response) async -> Response {
    do { return try await body() } catch let problem as Problem {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if problem.status == 503 || problem.status == 429 { headers[.retryAfter] = String(problem.retryAfter ?? 1) }
        if problem.closeConnection { headers[.connection] = "close" }
        if problem.status >= 500 { logger.info("refused", metadata: ["problem": "\(problem.name)"]) }
        return Response(
            status: HTTPResponse.Status(code: problem.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: (try? SyncWire.encoder().encode(problem)) ?? Data())))
    } catch {
        logger.error("request failed", metadata: ["error": "\(error)"])
        let problem = Problem("internal", status: 500, title: "The county server failed", detail: "try again later")
        return Response(
            status: .internalServerError, headers: [.contentType: "application/problem+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: (try? SyncWire.encoder().encode(problem)) ?? Data())))
    }
}

/// A JSON response.
func encoded(_ value: some Encodable) throws -> Response {
    Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: try SyncWire.encoder().encode(value))))
}

func json(_ value: [String: String]) -> Response { (try? encoded(value)) ?? Response(status: .internalServerError) }
