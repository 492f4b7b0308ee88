import CountyKit
import Crypto
import FieldKitCore
import Foundation
import Hummingbird
import Logging

/// Builds the county's HTTP application over a store. `fieldkit-county serve` and the tests
/// both call this. The API is written down in `openapi.yaml` beside this file.
/// - Parameters:
///   - onRunning: called with the bound port once the server listens (port 0 picks a free one).
public func buildApplication<Store: CountyStore>(
    service: SyncService<Store>, host: String = "127.0.0.1", port: Int, logger: Logger,
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(service: service, logger: logger),
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "fieldkit-county"),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
        logger: logger)
}

/// The routes, for tests that drive the router without a socket.
public func buildRouter<Store: CountyStore>(service: SyncService<Store>, logger: Logger) -> Router<BasicRequestContext> {
    let router = Router()
    router.get("/v1/health") { _, _ in json(["status": "ok"]) }
    router.get("/openapi.yaml") { _, _ in
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let data = try? Data(contentsOf: url)
        else { return Response(status: .notFound) }
        return Response(
            status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
    router.post(RouterPath(SyncWire.enrollPath)) { request, _ in
        await answer(logger) {
            var request = request
            let body = try await readBody(&request, limit: 64 << 10)
            let enroll: EnrollRequest
            do { enroll = try JSONDecoder().decode(EnrollRequest.self, from: Data(body)) } catch {
                throw Problem("invalid-request", status: 422, title: "The body is not an enrollment request", detail: "\(error)")
            }
            guard let raw = Base64.decode(enroll.public_key), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
                let sig = Base64.decode(enroll.signature),
                key.isValidSignature(
                    sig, for: SyncWire.enrollMessage(code: enroll.code, site: enroll.site, device: enroll.device, publicKey: enroll.public_key))
            else {
                throw Problem("bad-signature", status: 401, title: "The enrollment is not signed by the key it registers")
            }
            return try encoded(service.store.enroll(enroll))
        }
    }
    router.post("/v1/devices/:device/events") { request, context in
        await answer(logger) {
            var request = request
            let device = context.parameters.get("device") ?? ""
            let body = try await readBody(&request, limit: service.maxBodyBytes)
            let receipt = try service.upload(path: device, credentials(request), body: body)
            return try encoded(receipt)
        }
    }
    router.get("/v1/sites/:site/bundle") { request, context in
        await answer(logger) {
            let site = context.parameters.get("site") ?? ""
            let (device, _) = try service.authenticate(
                method: "GET", path: SyncWire.bundlePath(site: site), credentials(request), body: [])
            guard device.site == site else {
                throw Problem("wrong-site", status: 403, title: "This device belongs to another site", detail: "\(device.id) is of \(device.site)")
            }
            let (sequence, file) = try service.store.bundle(site: site)
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

/// Reads a body up to a limit; more is a 413 problem.
func readBody(_ request: inout Request, limit: Int) async throws -> [UInt8] {
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
        throw Problem("too-large", status: 413, title: "The request is too large", detail: "\(length) bytes, at most \(limit)")
    }
    do {
        let buffer = try await request.collectBody(upTo: limit)
        return Array(buffer.readableBytesView)
    } catch let error as HTTPError where error.status == .contentTooLarge {
        throw Problem("too-large", status: 413, title: "The request is too large", detail: "at most \(limit) bytes")
    } catch {
        // The connection broke mid-body (a rural link does): nothing was stored.
        throw Problem("incomplete-request", status: 400, title: "The request body was cut off", detail: "\(error)")
    }
}

/// Runs a handler; a ``Problem`` becomes `application/problem+json`, anything else a 500 problem.
func answer(_ logger: Logger, _ body: () async throws -> Response) async -> Response {
    do { return try await body() } catch let problem as Problem {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if problem.status == 503 || problem.status == 429 { headers[.retryAfter] = "1" }
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
