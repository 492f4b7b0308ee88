import CountyKit
import CountyServer
import Crypto
import FieldKitCore
import Foundation
import Hummingbird
import Logging
import Testing

/// A raw TCP connection to the server, to send what no polite client would.
/// Runs blocking work on a thread of its own: the server's handlers need the cooperative pool.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    func send(_ text: String) { _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) } }

    /// What the server sends until a whole response has come (head and Content-Length bytes),
    /// it closes the connection, or `seconds` pass; `closed` tells whether it closed. The limits are
    /// generous (15–20 s): a read returns as soon as the answer or the close comes, and in the full
    /// suite, on two loaded cores, an answer that is "at once" has been seen to take over 5 s.
    func read(seconds: Double, untilClosed: Bool = false) async throws -> (text: String, closed: Bool) {
        try await offThePool { self.readBlocking(seconds: seconds, untilClosed: untilClosed) }
    }

    func readBlocking(seconds: Double, untilClosed: Bool) -> (text: String, closed: Bool) {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return (String(decoding: out, as: UTF8.self), true) }
            out += buffer[0..<n]
            let text = String(decoding: out, as: UTF8.self)
            if !untilClosed, let head = text.range(of: "\r\n\r\n"),
                let length = text[..<head.lowerBound].split(separator: "\r\n")
                    .first(where: { $0.lowercased().hasPrefix("content-length:") })
                    .flatMap({ Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) }),
                text.utf8.count - text.utf8.distance(from: text.startIndex, to: head.upperBound) >= length
            {
                return (text, false)
            }
        }
        return (String(decoding: out, as: UTF8.self), false)
    }
}

/// The real server on a loopback port, with tight limits so the tests run in seconds.
struct LiveCounty {
    let county: County
    let port: Int
    let task: Task<Void, Never>

    init(limits: ServerLimits, maxInFlight: Int = 64) async throws {
        county = try County()
        let (stream, ready) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(
            service: SyncService(store: county.store, maxInFlight: maxInFlight), port: 0, limits: limits,
            logger: Logger(label: "county", factory: { _ in SwiftLogNoOpLogHandler() })
        ) { ready.yield($0) }
        task = Task { try? await app.runService() }
        var bound = 0
        for await p in stream {
            bound = p
            break
        }
        port = bound
    }

    /// A plain GET, as a good client would send it.
    func health() async throws -> Bool {
        let c = try RawConnection(port: port)
        c.send("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return try await c.read(seconds: 20).text.hasPrefix("HTTP/1.1 200")
    }

    /// Upload headers for a device, with a body announced but not (yet) sent.
    static func stalledUpload(device: String, length: Int = 4 << 20) -> String {
        "POST /v1/devices/\(device)/events HTTP/1.1\r\nHost: x\r\nFieldKit-Device: \(device)\r\nFieldKit-Time: 1772000000000\r\n"
            + "FieldKit-Signature: AAAA\r\nIdempotency-Key: \(device):1-1\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n"
    }
}

@Suite("County server limits, on a real socket", .serialized)
struct ServerLimitsTests {
    @Test("an unknown device announcing 4 MiB is answered 401 before a byte of the body is read")
    func authBeforeBody() async throws {
        let live = try await LiveCounty(limits: ServerLimits())
        defer { live.task.cancel() }
        let c = try RawConnection(port: live.port)
        c.send(LiveCounty.stalledUpload(device: "S01-0badc0de"))
        let answer = try await c.read(seconds: 20)
        #expect(answer.text.hasPrefix("HTTP/1.1 401") && answer.text.lowercased().contains("connection: close"), "\(answer.text.prefix(200))")
        #expect(answer.text.contains("unknown-device"))
        #expect(try await live.health())
    }

    @Test("a known device gets one upload place: a second stalled upload of the same device is 503 at once; stalled bodies time out (408)")
    func uploadPlaces() async throws {
        var limits = ServerLimits()
        limits.bodyGrace = .seconds(1)
        limits.minimumBodyRate = 1 << 30
        limits.idleTimeout = .seconds(30)
        let live = try await LiveCounty(limits: limits)
        defer { live.task.cancel() }
        let device = TestDevice(site: "S01")
        let code = try live.county.office.addDevice(site: "S01").code
        let pub = Base64.encode(device.key.publicKey.rawRepresentation)
        let sig = try device.key.signature(for: SyncWire.enrollMessage(code: code, site: "S01", device: device.id, publicKey: pub))
        _ = try await SyncService(store: live.county.store).enroll(
            EnrollRequest(code: code, site: "S01", device: device.id, public_key: pub, signature: Base64.encode(sig)))
        // Given one upload of the device whose body trickles
        let first = try RawConnection(port: live.port)
        first.send(LiveCounty.stalledUpload(device: device.id, length: 1 << 20))
        first.send("{\"dev")
        try await Task.sleep(for: .milliseconds(200))
        // When a second arrives while it holds the place: 503, without waiting for its body
        let second = try RawConnection(port: live.port)
        second.send(LiveCounty.stalledUpload(device: device.id))
        let busy = try await second.read(seconds: 15)
        #expect(busy.text.hasPrefix("HTTP/1.1 503") && busy.text.contains("Retry-After"), "\(busy.text.prefix(200))")
        // Then the first is cut off at its deadline (here 1 s), and its place is free again
        let slow = try await first.read(seconds: 15, untilClosed: true)
        #expect(slow.text.hasPrefix("HTTP/1.1 408") && slow.closed, "\(slow.text.prefix(200))")
        let third = try RawConnection(port: live.port)
        third.send(LiveCounty.stalledUpload(device: device.id, length: 2) + "{}")
        #expect(try await third.read(seconds: 15).text.hasPrefix("HTTP/1.1 401"))  // its place, then its (fake) signature
        #expect(try await live.health())
    }

    @Test("half-sent headers are closed by the idle timeout (slowloris); the server still serves")
    func slowloris() async throws {
        var limits = ServerLimits()
        limits.idleTimeout = .seconds(1)
        let live = try await LiveCounty(limits: limits)
        defer { live.task.cancel() }
        let c = try RawConnection(port: live.port)
        c.send("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        // Without the idle timeout the server would wait for the rest of the header for ever
        let result = try await c.read(seconds: 30, untilClosed: true)
        #expect(result.closed && result.text.isEmpty)
        #expect(try await live.health())
    }

    @Test("one address holds at most its share of connections; the others are closed at once; freed, it is served again")
    func perPeerCap() async throws {
        var limits = ServerLimits()
        limits.maxConnectionsPerPeer = 8
        limits.idleTimeout = .seconds(30)
        let live = try await LiveCounty(limits: limits)
        defer { live.task.cancel() }
        var held: [RawConnection] = []
        for _ in 0..<8 {
            let c = try RawConnection(port: live.port)
            c.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n")
            held.append(c)
        }
        try await Task.sleep(for: .milliseconds(300))
        let ninth = try RawConnection(port: live.port)
        ninth.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = try await ninth.read(seconds: 15, untilClosed: true)
        #expect(refused.closed && refused.text.isEmpty)
        held.removeAll()
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await live.health())
    }
}
