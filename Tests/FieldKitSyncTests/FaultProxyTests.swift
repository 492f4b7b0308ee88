// The fault proxy itself, before the sync tests lean on it: each fault does what it says, a
// clean proxy changes nothing, and thousands of faulted requests leave no thread or descriptor
// behind. Upstream and client are in this file, on plain sockets and threads, in process.

import Foundation
import Glibc
import Testing

/// The proxy the sync tests put between the site and the county, checked on its own.
@Suite("Fault proxy", .serialized)
struct FaultProxyTests {
    // MARK: - Each fault at rate 1

    @Test("drop: the client's connection closes with no answer, nothing goes upstream")
    func drop() throws {
        let (upstream, proxy) = try Self.start(.drop)
        defer { Self.stop(proxy, upstream) }

        let outcome = try Self.post(port: proxy.port, body: Self.payload(300))

        #expect(outcome == .noResponse)
        #expect(proxy.counts() == [.drop: 1])
        #expect(proxy.requests == 1)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(upstream.tally == EchoServer.Tally())
    }

    @Test("delay: the answer comes, 0.2 to 1 s late")
    func delay() throws {
        let (upstream, proxy) = try Self.start(.delay)
        defer { Self.stop(proxy, upstream) }
        let body = Self.payload(500)

        let start = Date()
        let outcome = try Self.post(port: proxy.port, body: body)
        let elapsed = Date().timeIntervalSince(start)

        #expect(outcome.echoed == body)
        #expect(elapsed >= 0.2)
        #expect(elapsed < 2)
        #expect(proxy.counts() == [.delay: 1])
        #expect(upstream.tally == EchoServer.Tally(received: 1, complete: 1))
    }

    @Test("resetMidBody: the server sees a cut-off body, the client no answer")
    func resetMidBody() throws {
        let (upstream, proxy) = try Self.start(.resetMidBody)
        defer { Self.stop(proxy, upstream) }

        let outcome = try Self.post(port: proxy.port, body: Self.payload(1000))

        #expect(outcome == .noResponse)
        #expect(proxy.counts() == [.resetMidBody: 1])
        #expect(upstream.waitFor { $0.incomplete == 1 })
        #expect(upstream.tally == EchoServer.Tally(received: 1, complete: 0, incomplete: 1))
    }

    @Test("duplicate: the server gets the request twice, the client one answer")
    func duplicate() throws {
        let (upstream, proxy) = try Self.start(.duplicate)
        defer { Self.stop(proxy, upstream) }
        let body = Self.payload(700)

        let outcome = try Self.post(port: proxy.port, body: body)

        #expect(outcome.echoed == body)
        #expect(proxy.counts() == [.duplicate: 1])
        #expect(upstream.tally == EchoServer.Tally(received: 2, complete: 2))
        #expect(upstream.connections == 2)
    }

    @Test("serverError: 500 from the proxy, nothing upstream")
    func serverError() throws {
        let (upstream, proxy) = try Self.start(.serverError)
        defer { Self.stop(proxy, upstream) }

        let outcome = try Self.post(port: proxy.port, body: Self.payload(10))

        #expect(outcome.status == 500)
        #expect(proxy.counts() == [.serverError: 1])
        #expect(upstream.tally == EchoServer.Tally())
    }

    @Test("unavailable: 503 with Retry-After: 1, nothing upstream")
    func unavailable() throws {
        let (upstream, proxy) = try Self.start(.unavailable)
        defer { Self.stop(proxy, upstream) }

        let outcome = try Self.post(port: proxy.port, body: Self.payload(10))

        #expect(outcome.status == 503)
        #expect(outcome.header("retry-after") == "1")
        #expect(upstream.tally == EchoServer.Tally())
    }

    @Test("lostAnswer: the server committed, the client got 502")
    func lostAnswer() throws {
        let (upstream, proxy) = try Self.start(.lostAnswer)
        defer { Self.stop(proxy, upstream) }

        let outcome = try Self.post(port: proxy.port, body: Self.payload(200))

        #expect(outcome.status == 502)
        #expect(proxy.counts() == [.lostAnswer: 1])
        #expect(upstream.tally == EchoServer.Tally(received: 1, complete: 1))
    }

    @Test("truncateResponse: fewer body bytes than Content-Length, then EOF")
    func truncateResponse() throws {
        let (upstream, proxy) = try Self.start(.truncateResponse)
        defer { Self.stop(proxy, upstream) }

        let outcome = try Self.post(port: proxy.port, body: Self.payload(4000))

        guard case .truncated(let status, let got, let expected) = outcome else {
            Issue.record("expected a truncated answer, got \(outcome)")
            return
        }
        #expect(status == 200)
        #expect(expected == 4000)
        #expect(got < expected)
        #expect(proxy.counts() == [.truncateResponse: 1])
        #expect(upstream.tally == EchoServer.Tally(received: 1, complete: 1))
    }

    @Test("captivePortal: 200 and a login page, nothing upstream")
    func captivePortal() throws {
        let (upstream, proxy) = try Self.start(.captivePortal)
        defer { Self.stop(proxy, upstream) }

        let outcome = try Self.post(port: proxy.port, body: Self.payload(50))

        #expect(outcome.status == 200)
        #expect(outcome.header("content-type") == "text/html")
        #expect(outcome.body.map { String(decoding: $0, as: UTF8.self) } == "<html>Wi-Fi login</html>")
        #expect(upstream.tally == EchoServer.Tally())
    }

    // MARK: - Passing through

    @Test("rate 0: 1000 requests, 10 to a keep-alive connection, come back unchanged")
    func passThrough() throws {
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 0, seed: 1)
        defer { Self.stop(proxy, upstream) }
        var random = SeededBytes(seed: 7)

        for _ in 0..<100 {
            let connection = try TestConnection(port: proxy.port)
            for _ in 0..<10 {
                // Every byte value, sizes from empty to a few kilobytes.
                let body = random.bytes(count: Int(random.next() % 3000))
                let outcome = connection.exchange(Self.request(body: body))
                #expect(outcome.echoed == body)
                #expect(outcome.header("connection") == "keep-alive")
            }
        }

        #expect(proxy.requests == 1000)
        #expect(proxy.counts().isEmpty)
        #expect(upstream.tally == EchoServer.Tally(received: 1000, complete: 1000))
        #expect(upstream.connections == 1000)
        let forwarded = try #require(upstream.lastHead)
        #expect(
            forwarded.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("connection:") }
                == ["Connection: close"]
        )
    }

    @Test("an upstream answer without Content-Length reaches the client with one")
    func unframedAnswer() throws {
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 0, seed: 1)
        defer { Self.stop(proxy, upstream) }
        let connection = try TestConnection(port: proxy.port)

        let first = connection.exchange(Self.request(method: "GET", path: "/unframed", body: []))
        let second = connection.exchange(Self.request(body: Array("again".utf8)))

        #expect(first.status == 200)
        #expect(first.header("content-length") == String(EchoServer.unframedBody.utf8.count))
        #expect(first.body == Array(EchoServer.unframedBody.utf8))
        #expect(second.echoed == Array("again".utf8))
    }

    @Test("Expect: 100-continue is answered by the proxy and not forwarded")
    func expectContinue() throws {
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 0, seed: 1)
        defer { Self.stop(proxy, upstream) }
        let connection = try TestConnection(port: proxy.port)
        let body = Self.payload(2000)

        // Given a client that waits for 100 Continue before it sends the body
        connection.send(Self.request(body: body, extra: ["Expect: 100-continue"]).dropLast(body.count))
        let interim = connection.read()
        connection.send(Array(body))
        let final = connection.read()

        #expect(interim.status == 100)
        #expect(final.echoed == body)
        #expect(upstream.lastHead?.lowercased().contains("expect") == false)
    }

    @Test("a chunked request is refused with 501 and never forwarded")
    func chunkedRequest() throws {
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 0, seed: 1)
        defer { Self.stop(proxy, upstream) }
        let connection = try TestConnection(port: proxy.port)
        let request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"

        let outcome = connection.exchange(Array(request.utf8))

        #expect(outcome.status == 501)
        #expect(upstream.tally == EchoServer.Tally())
    }

    @Test("an upstream that is not there gives 502, and the proxy carries on")
    func upstreamDown() throws {
        let port = try Self.unusedPort()
        let proxy = try FaultProxy(upstreamPort: port, rate: 0, seed: 1)
        defer { proxy.stop() }
        let connection = try TestConnection(port: proxy.port)

        let first = connection.exchange(Self.request(body: Self.payload(10)))
        let second = connection.exchange(Self.request(body: Self.payload(10)))

        #expect(first.status == 502)
        #expect(second.status == 502)
        #expect(proxy.requests == 2)
    }

    @Test("rate can change while the proxy runs, and is clamped to 0...1")
    func changingRate() throws {
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 1, seed: 3, faults: [.serverError])
        defer { Self.stop(proxy, upstream) }
        let connection = try TestConnection(port: proxy.port)
        let body = Self.payload(20)

        let faulted = connection.exchange(Self.request(body: body))
        proxy.rate = 0
        let clean = connection.exchange(Self.request(body: body))
        proxy.rate = 7
        let clamped = proxy.rate

        #expect(faulted.status == 500)
        #expect(clean.echoed == body)
        #expect(clamped == 1)
    }

    @Test("stop closes idle keep-alive connections at once and is idempotent")
    func stopping() throws {
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 0, seed: 1)
        defer { upstream.stop() }
        let connection = try TestConnection(port: proxy.port)
        #expect(connection.exchange(Self.request(body: Self.payload(5))).status == 200)

        let start = Date()
        proxy.stop()
        let elapsed = Date().timeIntervalSince(start)
        proxy.stop()

        #expect(elapsed < 2)
        #expect(proxy.activeConnections == 0)
        #expect(connection.read() == .noResponse)
        #expect(throws: (any Error).self) { _ = try TestConnection(port: proxy.port) }
    }

    @Test("clients that hang up early, send garbage or pipeline leave the proxy serving")
    func hostileClients() throws {
        let descriptorsBefore = try Self.openDescriptors()
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 0, seed: 1)
        let body = Self.payload(100)
        let request = Self.request(body: body)
        let big = [UInt8](repeating: 0x5A, count: 4 << 20)

        for round in 0..<50 {
            // Connect and leave at once
            _ = try TestConnection(port: proxy.port)
            // Half a head, then gone
            try TestConnection(port: proxy.port).send(request.prefix(20))
            // A head promising 100 bytes, 10 of them, then gone
            try TestConnection(port: proxy.port).send(request.dropLast(90))
            // A request, gone before the answer: the proxy's sends meet a closed socket (a big answer
            // takes several sends, the later ones fail with EPIPE, which must not raise SIGPIPE)
            try TestConnection(port: proxy.port).send(round % 10 == 0 ? Self.request(body: big) : request)
            // Not HTTP at all
            let garbage = try TestConnection(port: proxy.port)
            #expect(garbage.exchange(Array("hello there\r\n\r\n".utf8)).status == 400, "round \(round)")
            // Two requests in one write, both answered in order
            let pipelined = try TestConnection(port: proxy.port)
            pipelined.send(request + Self.request(body: Array("second".utf8)))
            #expect(pipelined.read().echoed == body)
            #expect(pipelined.read().echoed == Array("second".utf8))
        }

        // The proxy still answers, and every connection thread ends on its own
        #expect(try Self.post(port: proxy.port, body: body).echoed == body)
        let quiet = Date(timeIntervalSinceNow: 5)
        while proxy.activeConnections > 0, Date() < quiet { Thread.sleep(forTimeInterval: 0.02) }
        #expect(proxy.activeConnections == 0)
        Self.stop(proxy, upstream)
        #expect(try Self.openDescriptors() <= descriptorsBefore + 16)
    }

    // MARK: - Under load

    @Test("2000 requests from 4 threads at rate 0.3: every fault accounted for, no leak")
    func mixedRun() throws {
        let descriptorsBefore = try Self.openDescriptors()
        let threadsBefore = try Self.threads()
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 0.3, seed: 2026)
        let outcomes = OutcomeTally()

        // When 4 clients each send 500 requests, reconnecting whenever a fault closed the connection
        let done = DispatchGroup()
        for client in 0..<4 {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                var random = SeededBytes(seed: UInt64(client) + 100)
                var connection: TestConnection?
                for _ in 0..<500 {
                    if connection == nil { connection = try? TestConnection(port: proxy.port) }
                    guard let open = connection else {
                        outcomes.add(.failed("connect"))
                        continue
                    }
                    let body = random.bytes(count: 1 + Int(random.next() % 2000))
                    let outcome = open.exchange(Self.request(body: body))
                    outcomes.add(outcome, sent: body)
                    if !outcome.keepsConnection { connection = nil }
                }
            }
            thread.start()
        }
        #expect(done.wait(timeout: .now() + 240) == .success)

        // Then every answer the clients saw is one the proxy says it caused
        let counts = proxy.counts()
        let faults = counts.values.reduce(0, +)
        let seen = outcomes.snapshot()
        func count(_ fault: Fault) -> Int { counts[fault] ?? 0 }
        #expect(proxy.requests == 2000)
        #expect((500...700).contains(faults), "\(faults) faults in 2000 requests at rate 0.3")
        #expect(Set(counts.keys) == Set(Fault.allCases))
        #expect(seen["echo"] == 2000 - faults + count(.delay) + count(.duplicate))
        #expect(seen["500"] ?? 0 == count(.serverError))
        #expect(seen["503"] ?? 0 == count(.unavailable))
        #expect(seen["502"] ?? 0 == count(.lostAnswer))
        #expect(seen["portal"] ?? 0 == count(.captivePortal))
        #expect(seen["no response"] ?? 0 == count(.drop) + count(.resetMidBody))
        #expect(seen["truncated"] ?? 0 == count(.truncateResponse))
        #expect(seen.keys.filter { $0.hasPrefix("other") || $0.hasPrefix("failed") }.isEmpty, "\(seen)")

        // And the upstream saw exactly the requests that were forwarded
        let forwardedWhole =
            2000 - faults + count(.delay) + 2 * count(.duplicate) + count(.lostAnswer)
            + count(.truncateResponse)
        #expect(upstream.waitFor { $0.incomplete == count(.resetMidBody) })
        #expect(
            upstream.tally
                == EchoServer.Tally(
                    received: forwardedWhole + count(.resetMidBody),
                    complete: forwardedWhole,
                    incomplete: count(.resetMidBody)
                )
        )

        // And nothing is left running or open
        proxy.stop()
        upstream.stop()
        #expect(proxy.activeConnections == 0)
        let descriptorsAfter = try Self.openDescriptors()
        // Slack for the suites running beside this one; a leak here would be hundreds.
        #expect(
            descriptorsAfter <= descriptorsBefore + 16,
            "\(descriptorsBefore) descriptors before, \(descriptorsAfter) after"
        )
        // A thread is gone from /proc a moment after it signalled that it was done.
        var threadsAfter = try Self.threads()
        let settled = Date(timeIntervalSinceNow: 2)
        while threadsAfter > threadsBefore + 8, Date() < settled {
            Thread.sleep(forTimeInterval: 0.05)
            threadsAfter = try Self.threads()
        }
        #expect(threadsAfter <= threadsBefore + 8, "\(threadsBefore) threads before, \(threadsAfter) after")
    }

    // MARK: - Helpers

    /// An upstream and a proxy in front of it that gives every request `fault`.
    static func start(_ fault: Fault) throws -> (EchoServer, FaultProxy) {
        let upstream = try EchoServer()
        let proxy = try FaultProxy(upstreamPort: upstream.port, rate: 1, seed: 42, faults: [fault])
        return (upstream, proxy)
    }

    /// Stops both, the proxy first.
    static func stop(_ proxy: FaultProxy, _ upstream: EchoServer) {
        proxy.stop()
        upstream.stop()
    }

    /// One request on a connection of its own.
    static func post(port: Int, body: [UInt8]) throws -> Outcome {
        let connection = try TestConnection(port: port)
        return connection.exchange(request(body: body))
    }

    /// A request as bytes; POSTs carry `body` with its `Content-Length`.
    static func request(
        method: String = "POST",
        path: String = "/echo",
        body: [UInt8],
        extra: [String] = []
    )
        -> [UInt8]
    {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        for line in extra { head += line + "\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    /// `count` bytes of a fixed pattern.
    static func payload(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    /// Threads of this process now.
    static func threads() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
    }

    /// Open file descriptors of this process now.
    static func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    /// A loopback port nobody listens on (bound, read, released).
    static func unusedPort() throws -> Int {
        let (fd, port) = try TestSocket.listen()
        close(fd)
        return port
    }
}

// The helpers are nested in the suite so their names cannot clash with the rest of the target.
extension FaultProxyTests {
    // MARK: - The client side

    /// What a client got for one request.
    enum Outcome: Equatable, CustomStringConvertible {
        /// A complete answer.
        case response(status: Int, headers: [String: String], body: [UInt8])
        /// A head promising `expected` body bytes, `got` of them, then EOF.
        case truncated(status: Int, got: Int, expected: Int)
        /// Part of a head, then EOF.
        case truncatedHead
        /// The connection closed before a single byte of answer.
        case noResponse
        /// Anything else: a reset, a timeout, a head that does not parse.
        case failed(String)

        /// The status of an answer that got as far as its head.
        var status: Int? {
            switch self {
            case .response(let status, _, _), .truncated(let status, _, _): status
            default: nil
            }
        }

        /// The body of a complete answer.
        var body: [UInt8]? {
            if case .response(_, _, let body) = self { body } else { nil }
        }

        /// The body of a 200 answer.
        var echoed: [UInt8]? {
            status == 200 ? body : nil
        }

        /// A header of a complete answer, by lower-case name.
        func header(_ name: String) -> String? {
            if case .response(_, let headers, _) = self { headers[name] } else { nil }
        }

        /// Whether the connection can carry another request.
        var keepsConnection: Bool {
            guard case .response = self else { return false }
            return header("connection")?.lowercased() != "close"
        }

        var description: String {
            switch self {
            case .response(let status, let headers, let body): "\(status) \(headers) \(body.count) bytes"
            case .truncated(let status, let got, let expected): "\(status) truncated: \(got) of \(expected) bytes"
            case .truncatedHead: "truncated inside the head"
            case .noResponse: "no response"
            case .failed(let why): "failed: \(why)"
            }
        }
    }

    /// A blocking HTTP/1.1 client connection with a 15 s receive timeout, so a proxy bug fails a test
    /// instead of hanging it.
    final class TestConnection {
        /// The connected socket, closed with the connection.
        let fd: Int32
        private var pending: [UInt8] = []

        /// Connects to 127.0.0.1:`port`.
        init(port: Int) throws {
            fd = try TestSocket.connect(port: port)
        }

        deinit {
            close(fd)
        }

        /// Sends bytes as they are (a failed send shows in the next read).
        func send<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
            _ = TestSocket.send(fd, Array(bytes))
        }

        /// Sends a request and reads its answer.
        func exchange(_ request: [UInt8]) -> Outcome {
            send(request)
            return read()
        }

        /// The next answer (a 100 Continue counts as one).
        func read() -> Outcome {
            var reader = TestSocket.Reader(fd: fd, pending: pending)
            defer { pending = reader.pending }
            let head: TestSocket.Head
            switch reader.readHead() {
            case .head(let parsed): head = parsed
            case .closed(let hadBytes): return hadBytes ? .truncatedHead : .noResponse
            case .failed(let why): return .failed(why)
            }
            let parts = head.startLine.split(separator: " ")
            guard parts.count >= 2, let status = Int(parts[1]) else { return .failed("status line \(head.startLine)") }
            if status == 100 { return .response(status: 100, headers: head.headers, body: []) }
            guard let length = head.headers["content-length"].flatMap({ Int($0) }) else {
                return .failed("no Content-Length")
            }
            switch reader.readBody(count: length) {
            case .body(let body): return .response(status: status, headers: head.headers, body: body)
            case .short(let got): return .truncated(status: status, got: got, expected: length)
            case .failed(let why): return .failed(why)
            }
        }
    }

    /// What the clients of the mixed run saw, by kind.
    final class OutcomeTally: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [String: Int] = [:]

        /// Files an outcome under its kind: `echo` when the body came back as `sent`.
        func add(_ outcome: Outcome, sent: [UInt8] = []) {
            let kind: String
            switch outcome {
            case .response(200, let headers, _) where headers["content-type"] == "text/html": kind = "portal"
            case .response(200, _, let body) where body == sent: kind = "echo"
            case .response(let status, _, _) where [500, 502, 503].contains(status): kind = String(status)
            case .truncated, .truncatedHead: kind = "truncated"
            case .noResponse: kind = "no response"
            case .failed(let why): kind = "failed: \(why)"
            default: kind = "other: \(outcome)"
            }
            lock.lock()
            seen[kind, default: 0] += 1
            lock.unlock()
        }

        /// How many of each kind so far.
        func snapshot() -> [String: Int] {
            lock.lock()
            defer { lock.unlock() }
            return seen
        }
    }

    // MARK: - The upstream

    /// A tiny HTTP server on its own threads: `POST /echo` answers the body back, `GET /unframed`
    /// answers without a Content-Length and closes; every answer closes its connection. Counts
    /// what arrived.
    final class EchoServer: @unchecked Sendable {
        /// What the server received.
        struct Tally: Equatable, CustomStringConvertible {
            /// Requests whose head arrived.
            var received = 0
            /// Requests whose body arrived whole.
            var complete = 0
            /// Requests whose body was cut off by a closed connection.
            var incomplete = 0

            var description: String { "received \(received), complete \(complete), incomplete \(incomplete)" }
        }

        static let unframedBody = "no length here, read me to the end"

        /// Where it listens, on 127.0.0.1.
        let port: Int
        private let listener: Int32
        private let lock = NSCondition()
        private var counts = Tally()
        private var accepted = 0
        private var head: String?
        private var stopping = false
        private var threads = 0

        /// Starts listening and accepting on a thread of its own.
        init() throws {
            (listener, port) = try TestSocket.listen()
            threads = 1
            Thread { [self] in acceptLoop() }.start()
        }

        deinit {
            stop()
        }

        /// What arrived so far.
        var tally: Tally {
            lock.lock()
            defer { lock.unlock() }
            return counts
        }

        /// Connections accepted.
        var connections: Int {
            lock.lock()
            defer { lock.unlock() }
            return accepted
        }

        /// The head of the last request, as it arrived.
        var lastHead: String? {
            lock.lock()
            defer { lock.unlock() }
            return head
        }

        /// Waits up to 5 s for the tally to satisfy `condition`.
        func waitFor(_ condition: (Tally) -> Bool) -> Bool {
            let deadline = Date(timeIntervalSinceNow: 5)
            lock.lock()
            defer { lock.unlock() }
            while !condition(counts) {
                if !lock.wait(until: deadline) { return condition(counts) }
            }
            return true
        }

        /// Stops accepting and waits for the connection threads (each has a 15 s receive timeout).
        func stop() {
            lock.lock()
            defer { lock.unlock() }
            if stopping && threads == 0 { return }
            stopping = true
            while threads > 0 { lock.wait() }
            close(listener)
        }

        private func finished() {
            lock.lock()
            threads -= 1
            lock.broadcast()
            lock.unlock()
        }

        private func acceptLoop() {
            defer { finished() }
            while true {
                lock.lock()
                let stop = stopping
                lock.unlock()
                if stop { return }
                var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 50) > 0 else { continue }
                let client = accept(listener, nil, nil)
                guard client >= 0 else { continue }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                TestSocket.setTimeout(client)
                lock.lock()
                threads += 1
                accepted += 1
                lock.unlock()
                Thread { [self] in
                    defer { finished() }
                    serve(client)
                    close(client)
                }.start()
            }
        }

        private func serve(_ fd: Int32) {
            var reader = TestSocket.Reader(fd: fd)
            guard case .head(let head) = reader.readHead() else { return }
            let length = head.headers["content-length"].flatMap { Int($0) } ?? 0
            update {
                $0.received += 1
                self.head = head.text
            }
            let body: [UInt8]
            switch reader.readBody(count: length) {
            case .body(let bytes):
                body = bytes
                update { $0.complete += 1 }
            default:
                update { $0.incomplete += 1 }
                return
            }
            let path = head.startLine.split(separator: " ").dropFirst().first ?? ""
            switch path {
            case "/echo":
                let answer =
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
                _ = TestSocket.send(fd, Array(answer.utf8) + body)
            case "/unframed":
                let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                _ = TestSocket.send(fd, Array((answer + EchoServer.unframedBody).utf8))
            default:
                let answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                _ = TestSocket.send(fd, Array(answer.utf8))
            }
        }

        private func update(_ change: (inout Tally) -> Void) {
            lock.lock()
            change(&counts)
            lock.broadcast()
            lock.unlock()
        }
    }

    // MARK: - Sockets for the tests

    /// Blocking loopback sockets, kept apart from the proxy's so each side checks the other.
    enum TestSocket {
        /// A socket call that failed.
        struct Failure: Error, CustomStringConvertible {
            /// What was called.
            var call: String
            /// `errno` after it.
            var code: Int32

            var description: String { "\(call): \(String(cString: strerror(code)))" }
        }

        /// A head: its start line and its fields by lower-case name.
        struct Head {
            /// The head as it arrived, without the final CRLFCRLF.
            var text: String
            /// `POST /echo HTTP/1.1` or `HTTP/1.1 200 OK`.
            var startLine: String
            /// Field values by lower-case name (the last one wins).
            var headers: [String: String]
        }

        /// How reading a head ended.
        enum HeadResult {
            case head(Head)
            case closed(hadBytes: Bool)
            case failed(String)
        }

        /// How reading a body ended.
        enum BodyResult {
            case body([UInt8])
            case short(Int)
            case failed(String)
        }

        /// Reads heads and bodies from a socket, keeping what arrived early.
        struct Reader {
            let fd: Int32
            var pending: [UInt8] = []

            /// Reads more; nil at EOF, an error text when the read failed.
            mutating func fill() -> String?? {
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if count > 0 {
                        pending += chunk[..<count]
                        return .some(nil)
                    }
                    if count == 0 { return nil }
                    if errno == EINTR { continue }
                    return .some(String(cString: strerror(errno)))
                }
            }

            /// The next head.
            mutating func readHead() -> HeadResult {
                while true {
                    if let end = TestSocket.headEnd(pending) {
                        let text = String(decoding: pending[..<end], as: UTF8.self)
                        pending.removeFirst(end + 4)
                        var lines = text.components(separatedBy: "\r\n")
                        let startLine = lines.removeFirst()
                        var headers: [String: String] = [:]
                        for line in lines {
                            guard let colon = line.firstIndex(of: ":") else { continue }
                            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                                .trimmingCharacters(in: .whitespaces)
                        }
                        return .head(Head(text: text, startLine: startLine, headers: headers))
                    }
                    switch fill() {
                    case .none: return .closed(hadBytes: !pending.isEmpty)
                    case .some(.some(let why)): return .failed(why)
                    case .some(.none): continue
                    }
                }
            }

            /// Exactly `count` bytes, or how many came before EOF.
            mutating func readBody(count: Int) -> BodyResult {
                while pending.count < count {
                    switch fill() {
                    case .none: return .short(pending.count)
                    case .some(.some(let why)): return .failed(why)
                    case .some(.none): continue
                    }
                }
                let body = Array(pending[..<count])
                pending.removeFirst(count)
                return .body(body)
            }
        }

        /// Where the first CRLFCRLF starts.
        static func headEnd(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            for i in 0...(bytes.count - 4)
            where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13
                && bytes[i + 3] == 10
            {
                return i
            }
            return nil
        }

        /// 127.0.0.1:`port`.
        static func address(port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            return address
        }

        /// A listener on 127.0.0.1 with a kernel-chosen port.
        static func listen() throws -> (Int32, Int) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
            var address = address(port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && Glibc.listen(fd, 128) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            guard ok else {
                let code = errno
                close(fd)
                throw Failure(call: "bind/listen", code: code)
            }
            return (fd, Int(UInt16(bigEndian: address.sin_port)))
        }

        /// A connection to 127.0.0.1:`port` with 15 s timeouts.
        static func connect(port: Int) throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
            setTimeout(fd)
            var address = address(port: port)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard result == 0 else {
                let code = errno
                close(fd)
                throw Failure(call: "connect to 127.0.0.1:\(port)", code: code)
            }
            return fd
        }

        /// 15 s send and receive timeouts, so a bug fails a test instead of hanging it.
        static func setTimeout(_ fd: Int32) {
            var time = timeval(tv_sec: 15, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        }

        /// Sends everything; false when the peer is gone.
        static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let sent = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                    if sent > 0 {
                        offset += sent
                    } else if sent < 0 && errno == EINTR {
                        continue
                    } else {
                        return false
                    }
                }
                return true
            }
        }
    }

    /// SplitMix64 for test bodies: every byte value, reproducible.
    struct SeededBytes {
        var state: UInt64

        /// Starts the sequence at `seed`.
        init(seed: UInt64) {
            state = seed
        }

        /// The next 64 random bits.
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// `count` random bytes.
        mutating func bytes(count: Int) -> [UInt8] {
            (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
        }
    }
}
