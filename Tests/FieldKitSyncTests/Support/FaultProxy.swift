// A fault-injecting HTTP/1.1 reverse proxy for the sync tests: the site's client talks to it on
// 127.0.0.1, it forwards to the county server on another loopback port and, with a set
// probability, does to a request what a rural link does to it.
//
// Plain blocking sockets on plain threads, on purpose: the tests block Swift concurrency's
// cooperative threads, so nothing here may wait for one.

import Foundation
import Glibc

/// What can go wrong on the way between a site and the county.
///
/// Each case is something a flaky rural link, a tired middlebox or a captive portal really does;
/// the sync client must end with the county holding every event exactly once whichever of them it
/// meets.
enum Fault: String, CaseIterable, Sendable {
    /// Close the client connection without forwarding anything (the request is read first, so the
    /// client sees a clean close and no answer).
    case drop
    /// Wait 0.2–1.0 s, then forward normally.
    case delay
    /// Forward the request head and only part of the body upstream, then close both sides: the
    /// server sees a cut-off request, the client gets no answer.
    case resetMidBody
    /// Forward the whole request twice upstream, one after the other, each on its own upstream
    /// connection; answer the client with the second response.
    case duplicate
    /// Answer `500 Internal Server Error` without forwarding.
    case serverError
    /// Answer `503 Service Unavailable` with `Retry-After: 1` without forwarding.
    case unavailable
    /// Forward, read the upstream answer, then answer the client `502 Bad Gateway`: the server
    /// committed and the client never learns it.
    case lostAnswer
    /// Forward, then send the client only the first half of the response bytes and close.
    case truncateResponse
    /// Answer `200 OK` with an HTML login page without forwarding: captive portals lie.
    case captivePortal
}

/// A socket call that failed while a ``FaultProxy`` was being set up.
struct FaultProxySetupError: Error, CustomStringConvertible {
    /// The call that failed, with what it was asked, e.g. `bind(127.0.0.1:0)`.
    var call: String
    /// `errno` right after the call.
    var code: Int32

    var description: String {
        "fault proxy: \(call) failed: \(String(cString: strerror(code))) (errno \(code)); "
            + "is the process out of file descriptors?"
    }
}

/// A reverse proxy on 127.0.0.1 that forwards HTTP/1.1 to a loopback upstream and injects
/// ``Fault``s at a given rate.
///
/// How it talks:
/// - One thread accepts; each client connection gets its own thread. Clients may keep their
///   connection alive and send one request after another on it (`Connection: close` from the
///   client, or HTTP/1.0 without `keep-alive`, ends it after the answer). Faults that close
///   (`drop`, `resetMidBody`, `truncateResponse`) and malformed requests end it too.
/// - Requests are read whole (head, then `Content-Length` bytes; `Transfer-Encoding: chunked`
///   is answered `501` and the connection closed). `Expect: 100-continue` is answered
///   `100 Continue` by the proxy, so a client never waits for it.
/// - Every forwarded request gets a fresh upstream connection with `Connection: close` forced;
///   the answer is read by its `Content-Length` (or to EOF) and passed back with the client's
///   `Connection` header and, when the upstream sent neither a length nor chunks, a
///   `Content-Length`, so the client can always tell where it ends. An upstream that cannot be
///   reached or answers short gives the client `502`.
/// - Every socket has 30 s send and receive timeouts, sends use `MSG_NOSIGNAL`, all descriptors
///   are close-on-exec (tests spawn children), and a peer that vanishes only ends its own thread.
///
/// The fault for each request is drawn from a seeded SplitMix64 generator: with probability
/// ``rate`` one of `faults`, uniformly. Which request gets which fault depends on thread timing
/// when several clients run at once; the statistics do not.
final class FaultProxy: @unchecked Sendable {
    /// The port the proxy listens on (127.0.0.1), chosen by the kernel.
    let port: Int
    /// The loopback port requests are forwarded to.
    let upstreamPort: Int
    /// The faults drawn from, as given (an empty list passes everything through).
    let faults: [Fault]

    /// The threads hold this, never the proxy, so dropping the proxy stops it.
    private let core: ProxyCore

    /// Starts listening on 127.0.0.1 (port chosen by the kernel) and accepting on a thread of
    /// its own.
    ///
    /// - Parameters:
    ///   - upstreamPort: where requests go, on 127.0.0.1.
    ///   - rate: the probability that a request meets a fault, clamped to 0...1.
    ///   - seed: seeds the generator that picks faults and delays.
    ///   - faults: the faults to pick from, uniformly.
    /// - Throws: ``FaultProxySetupError`` when the listening socket cannot be set up.
    init(upstreamPort: Int, rate: Double, seed: UInt64, faults: [Fault] = Fault.allCases) throws {
        let (listener, port) = try Sockets.listen()
        self.port = port
        self.upstreamPort = upstreamPort
        self.faults = faults
        core = ProxyCore(listener: listener, upstreamPort: upstreamPort, rate: rate, seed: seed, faults: faults)
        core.startAccepting()
    }

    deinit {
        core.stop()
    }

    /// The probability that a request meets a fault; 0 passes everything through. Safe to change
    /// while requests are in flight (each request reads it once).
    var rate: Double {
        get { core.rate }
        set { core.rate = newValue }
    }

    /// How many times each fault has been injected so far (faults never injected are absent).
    func counts() -> [Fault: Int] {
        core.counts()
    }

    /// How many requests the proxy has read a well-formed head of, faulted or not.
    var requests: Int {
        core.requests
    }

    /// How many connection threads are running now (0 after ``stop()``): lets tests see that
    /// none is left behind.
    var activeConnections: Int {
        core.activeConnections
    }

    /// Stops accepting, lets requests in flight finish (idle keep-alive connections are closed
    /// at once; after a 5 s grace whatever is still running has its sockets shut down) and waits
    /// for every thread of the proxy to end. Idempotent; `deinit` calls it too.
    func stop() {
        core.stop()
    }
}

// The pieces below are nested in FaultProxy so their names cannot clash with the test target's.
extension FaultProxy {
    // MARK: - The shared state and the threads

    /// Everything the accepting and connection threads share.
    fileprivate final class ProxyCore: @unchecked Sendable {
        let upstreamPort: Int
        let faults: [Fault]

        /// Closed only by `stop()`, after the accepting thread has ended.
        private let listener: Int32

        /// Guards every `var` below; `changed` is signalled whenever a thread ends.
        private let changed = NSCondition()
        private var currentRate: Double
        private var random: SplitMix64
        private var injected: [Fault: Int] = [:]
        private var requestCount = 0
        private var stopping = false
        /// Set once stop's grace is over: every registered socket is shut down, and so is any
        /// registered later.
        private var forcing = false
        private var stopped = false
        private var accepting = false
        private var connections = 0
        /// Open sockets of connection threads (clients and upstreams), so stop can shut them down.
        private var sockets: Set<Int32> = []
        /// Serialises `stop()` so a second caller waits until the first one is done.
        private let stopLock = NSLock()

        /// How long an idle keep-alive client connection is kept.
        static let idleTimeout: Double = 30
        /// How long stop waits for requests in flight before shutting their sockets down.
        static let stopGrace: Double = 5

        init(listener: Int32, upstreamPort: Int, rate: Double, seed: UInt64, faults: [Fault]) {
            self.listener = listener
            self.upstreamPort = upstreamPort
            self.faults = faults
            currentRate = ProxyCore.clamp(rate)
            random = SplitMix64(seed: seed)
        }

        private static func clamp(_ rate: Double) -> Double {
            rate.isNaN ? 0 : min(max(rate, 0), 1)
        }

        var rate: Double {
            get { locked { currentRate } }
            set { locked { currentRate = ProxyCore.clamp(newValue) } }
        }

        func counts() -> [Fault: Int] {
            locked { injected }
        }

        var requests: Int {
            locked { requestCount }
        }

        var activeConnections: Int {
            locked { connections }
        }

        var isStopping: Bool {
            locked { stopping }
        }

        private func locked<T>(_ body: () -> T) -> T {
            changed.lock()
            defer { changed.unlock() }
            return body()
        }

        // MARK: Fault choice

        /// Counts a request whose head was read.
        func countRequest() {
            locked { requestCount += 1 }
        }

        /// Draws a request's fault, if any. A delay's length is drawn with it.
        func drawFault() -> (fault: Fault?, delay: Double) {
            locked {
                guard !faults.isEmpty, currentRate > 0, random.nextUnit() < currentRate else { return (nil, 0) }
                let fault = faults[Int(random.next() % UInt64(faults.count))]
                injected[fault, default: 0] += 1
                let delay = fault == .delay ? 0.2 + 0.8 * random.nextUnit() : 0
                return (fault, delay)
            }
        }

        // MARK: Socket registry

        /// Records a connection thread's socket; shuts it down at once when stop has given up waiting.
        func register(_ fd: Int32) {
            locked {
                sockets.insert(fd)
                if forcing { _ = shutdown(fd, Int32(SHUT_RDWR)) }
            }
        }

        /// Forgets and closes a socket (under the lock, so stop never shuts down a reused number).
        func close(_ fd: Int32) {
            locked {
                sockets.remove(fd)
                _ = Glibc.close(fd)
            }
        }

        // MARK: Threads

        func startAccepting() {
            locked { accepting = true }
            let thread = Thread { [self] in acceptLoop() }
            thread.name = "FaultProxy accept"
            thread.start()
        }

        private func acceptLoop() {
            defer {
                locked {
                    accepting = false
                    changed.broadcast()
                }
            }
            while !isStopping {
                var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                let polled = poll(&ready, 1, 100)
                if polled <= 0 { continue }  // timeout or EINTR: look at the stop flag again
                let client = Sockets.accept(listener)
                if client < 0 {
                    switch errno {
                    case EINTR, EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO: break
                    default: usleep(10_000)  // EMFILE and friends: do not spin
                    }
                    continue
                }
                Sockets.configure(client)
                let admitted: Bool = locked {
                    guard !stopping else { return false }
                    connections += 1
                    sockets.insert(client)
                    return true
                }
                guard admitted else {
                    _ = Glibc.close(client)
                    break
                }
                let thread = Thread { [self] in
                    defer {
                        locked {
                            connections -= 1
                            changed.broadcast()
                        }
                    }
                    var connection = ClientConnection(core: self, fd: client)
                    connection.serve()
                    close(client)
                }
                thread.name = "FaultProxy connection"
                thread.start()
            }
        }

        func stop() {
            stopLock.lock()
            defer { stopLock.unlock() }
            changed.lock()
            defer { changed.unlock() }
            guard !stopped else { return }
            stopping = true
            while accepting { changed.wait() }
            _ = Glibc.close(listener)
            let grace = Date(timeIntervalSinceNow: ProxyCore.stopGrace)
            while connections > 0, changed.wait(until: grace) {}
            if connections > 0 {
                forcing = true
                for fd in sockets { _ = shutdown(fd, Int32(SHUT_RDWR)) }
                // Shut-down sockets fail every call at once; the bound only guards against the unforeseen.
                let last = Date(timeIntervalSinceNow: 30)
                while connections > 0, changed.wait(until: last) {}
            }
            stopped = true
        }
    }

    // MARK: - One client connection

    /// Serves the requests of one client connection, one after the other.
    fileprivate struct ClientConnection {
        let core: ProxyCore
        var client: Peer

        /// Heads past this are answered 431; bodies past `maxBody` 413.
        static let maxHead = 64 * 1024
        static let maxBody = 64 * 1024 * 1024

        /// Headers that only concern one hop, never forwarded as they came.
        static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "expect", "te", "upgrade"]

        init(core: ProxyCore, fd: Int32) {
            self.core = core
            client = Peer(fd: fd)
        }

        mutating func serve() {
            while waitForRequest() {
                guard serveOne() else { return }
            }
        }

        /// Waits for the first byte of the next request, giving up when the proxy stops, the client
        /// closes or stays idle too long.
        private mutating func waitForRequest() -> Bool {
            if !client.pending.isEmpty { return true }
            let idleUntil = Date(timeIntervalSinceNow: ProxyCore.idleTimeout)
            while true {
                if core.isStopping || Date() >= idleUntil { return false }
                var ready = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
                let polled = poll(&ready, 1, 100)
                if polled > 0 { return true }
                if polled < 0 && errno != EINTR { return false }
            }
        }

        /// Reads and answers one request. Returns whether the connection stays open for another.
        private mutating func serveOne() -> Bool {
            let headBytes: [UInt8]
            do {
                guard let bytes = try client.readHead(limit: ClientConnection.maxHead) else { return false }
                headBytes = bytes
            } catch IOFailure.tooLarge {
                client.send(Responses.simple(431, "Request Header Fields Too Large", keepAlive: false))
                return false
            } catch {
                return false
            }
            guard let head = MessageHead(headBytes), let request = RequestLine(head.startLine) else {
                client.send(Responses.simple(400, "Bad Request", keepAlive: false))
                return false
            }
            core.countRequest()
            // Any transfer coding (in practice chunked) is refused: the proxy reads bodies by length only.
            if head.first("transfer-encoding") != nil {
                client.send(Responses.simple(501, "Not Implemented", keepAlive: false))
                return false
            }
            let length: Int
            switch head.bodyLength(max: ClientConnection.maxBody) {
            case .length(let value): length = value
            case .malformed:
                client.send(Responses.simple(400, "Bad Request", keepAlive: false))
                return false
            case .tooLarge:
                client.send(Responses.simple(413, "Content Too Large", keepAlive: false))
                return false
            }
            if head.hasToken("expect", "100-continue") {
                guard client.send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return false }
            }
            let body: [UInt8]
            do {
                body = try client.read(count: length)
            } catch {
                return false
            }
            let (fault, delay) = core.drawFault()
            let keepAlive = request.wantsKeepAlive(head) && !core.isStopping
            let forwarded = Forwarding.request(head, body: body)
            let isHead = request.method == "HEAD"

            switch fault {
            case nil:
                return answer(exchange(forwarded, isHead: isHead), keepAlive: keepAlive)
            case .delay:
                Thread.sleep(forTimeInterval: delay)
                return answer(exchange(forwarded, isHead: isHead), keepAlive: keepAlive)
            case .drop:
                return false
            case .resetMidBody:
                cutOff(head: forwarded.head, body: body)
                return false
            case .duplicate:
                _ = exchange(forwarded, isHead: isHead)
                return answer(exchange(forwarded, isHead: isHead), keepAlive: keepAlive)
            case .serverError:
                return client.send(Responses.simple(500, "Internal Server Error", keepAlive: keepAlive)) && keepAlive
            case .unavailable:
                let response = Responses.simple(
                    503,
                    "Service Unavailable",
                    extra: [("Retry-After", "1")],
                    keepAlive: keepAlive
                )
                return client.send(response) && keepAlive
            case .lostAnswer:
                _ = exchange(forwarded, isHead: isHead)
                return client.send(Responses.simple(502, "Bad Gateway", keepAlive: keepAlive)) && keepAlive
            case .truncateResponse:
                guard let response = exchange(forwarded, isHead: isHead) else {
                    return client.send(Responses.simple(502, "Bad Gateway", keepAlive: keepAlive)) && keepAlive
                }
                let bytes = response.forClient(keepAlive: false)
                client.send(Array(bytes[..<(bytes.count / 2)]))
                return false
            case .captivePortal:
                let response = Responses.simple(
                    200,
                    "OK",
                    contentType: "text/html",
                    body: Array("<html>Wi-Fi login</html>".utf8),
                    keepAlive: keepAlive
                )
                return client.send(response) && keepAlive
            }
        }

        /// Sends the upstream's answer, or 502 when there was none. Returns whether to go on.
        private mutating func answer(_ response: UpstreamResponse?, keepAlive: Bool) -> Bool {
            guard let response else {
                return client.send(Responses.simple(502, "Bad Gateway", keepAlive: keepAlive)) && keepAlive
            }
            return client.send(response.forClient(keepAlive: keepAlive)) && keepAlive
        }

        /// One request on a fresh upstream connection; nil when the upstream cannot be reached, fails
        /// or answers short.
        private func exchange(_ request: Forwarding.Request, isHead: Bool) -> UpstreamResponse? {
            guard let fd = Sockets.connect(port: core.upstreamPort, core: core) else { return nil }
            defer { core.close(fd) }
            var upstream = Peer(fd: fd)
            guard upstream.send(request.head + request.body) else { return nil }
            return try? upstream.readResponse(
                isHead: isHead,
                maxHead: ClientConnection.maxHead,
                maxBody: ClientConnection.maxBody
            )
        }

        /// Sends the head and half the body upstream (half the head when there is no body) and
        /// closes: the server sees a request that never ends.
        private func cutOff(head: [UInt8], body: [UInt8]) {
            guard let fd = Sockets.connect(port: core.upstreamPort, core: core) else { return }
            defer { core.close(fd) }
            let upstream = Peer(fd: fd)
            if body.isEmpty {
                upstream.send(Array(head[..<(head.count / 2)]))
            } else {
                upstream.send(head + body[..<(body.count / 2)])
            }
        }
    }

    // MARK: - HTTP messages

    /// The start line and header fields of a request or response, kept byte for byte (Latin-1).
    fileprivate struct MessageHead {
        var startLine: String
        var fields: [(name: String, value: String)]

        /// Parses a head without its final CRLFCRLF; nil when it is not HTTP/1.1 shaped.
        init?(_ bytes: [UInt8]) {
            var lines: [String] = []
            var start = 0
            var i = 0
            while i < bytes.count {
                if bytes[i] == 13, i + 1 < bytes.count, bytes[i + 1] == 10 {
                    lines.append(MessageHead.latin1(bytes[start..<i]))
                    i += 2
                    start = i
                } else {
                    i += 1
                }
            }
            lines.append(MessageHead.latin1(bytes[start..<bytes.count]))
            guard let first = lines.first, !first.isEmpty else { return nil }
            startLine = first
            fields = []
            for line in lines.dropFirst() {
                // Folded lines (obsolete) and lines without a colon are refused, as RFC 9112 allows.
                guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                    line.first != " ", line.first != "\t"
                else { return nil }
                let name = String(line[..<colon])
                guard !name.contains(" "), !name.contains("\t") else { return nil }
                let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
                fields.append((name, value))
            }
        }

        static func latin1(_ bytes: ArraySlice<UInt8>) -> String {
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
            return String(scalars)
        }

        static func bytes(_ text: String) -> [UInt8] {
            text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
        }

        func values(_ name: String) -> [String] {
            fields.filter { $0.name.lowercased() == name }.map(\.value)
        }

        func first(_ name: String) -> String? {
            values(name).first
        }

        /// Whether a comma-separated header (any of its lines) lists `token`, ignoring case.
        func hasToken(_ name: String, _ token: String) -> Bool {
            tokens(name).contains(token)
        }

        func tokens(_ name: String) -> [String] {
            values(name).flatMap { $0.split(separator: ",") }.map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t")).lowercased()
            }
        }

        /// What `Content-Length` says.
        enum BodyLength {
            case length(Int)
            /// Not digits, or several values that differ.
            case malformed
            /// Past the limit asked for.
            case tooLarge
        }

        /// The body length by `Content-Length`: 0 without the header.
        func bodyLength(max: Int) -> BodyLength {
            let all = values("content-length")
                .flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t")) }
            guard let value = all.first else { return .length(0) }
            guard all.allSatisfy({ $0 == value }), !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber })
            else { return .malformed }
            guard value.count <= 18, let length = Int(value), length <= max else { return .tooLarge }
            return .length(length)
        }

        /// The head as bytes, CRLFCRLF included, without the fields named in `dropping` (lower case)
        /// and with `adding` at the end.
        func serialized(dropping: Set<String>, adding: [(String, String)] = []) -> [UInt8] {
            var text = startLine + "\r\n"
            for field in fields where !dropping.contains(field.name.lowercased()) {
                text += field.name + ": " + field.value + "\r\n"
            }
            for (name, value) in adding {
                text += name + ": " + value + "\r\n"
            }
            text += "\r\n"
            return MessageHead.bytes(text)
        }
    }

    /// `METHOD target HTTP/1.x`.
    fileprivate struct RequestLine {
        var method: String
        var version: String

        init?(_ line: String) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].hasPrefix("HTTP/1.") else {
                return nil
            }
            method = String(parts[0])
            version = String(parts[2])
        }

        /// HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 closes unless told `keep-alive`.
        func wantsKeepAlive(_ head: MessageHead) -> Bool {
            let tokens = head.tokens("connection")
            if tokens.contains("close") { return false }
            return version == "HTTP/1.0" ? tokens.contains("keep-alive") : true
        }
    }

    /// What goes upstream.
    fileprivate enum Forwarding {
        struct Request {
            var head: [UInt8]
            var body: [UInt8]
        }

        /// The client's request with its hop-by-hop headers (and any the `Connection` header names)
        /// replaced by `Connection: close`, so the upstream ends each answer by closing.
        static func request(_ head: MessageHead, body: [UInt8]) -> Request {
            let named = Set(head.tokens("connection"))
            let bytes = head.serialized(
                dropping: ClientConnection.hopByHop.union(named),
                adding: [("Connection", "close")]
            )
            return Request(head: bytes, body: body)
        }
    }

    /// A complete answer from the upstream.
    fileprivate struct UpstreamResponse {
        var head: MessageHead
        var body: [UInt8]
        /// Chunked bodies pass through as they came; the client reads their framing.
        var chunked: Bool
        /// False for answers to HEAD and for 204 and 304, which never have a body.
        var mayHaveBody: Bool
        var hadLength: Bool

        /// The answer as the client gets it: its `Connection` header ours, and a `Content-Length`
        /// when the upstream ended the body by closing.
        func forClient(keepAlive: Bool) -> [UInt8] {
            var adding = [("Connection", keepAlive ? "keep-alive" : "close")]
            if mayHaveBody, !chunked, !hadLength { adding.append(("Content-Length", String(body.count))) }
            let named = Set(head.tokens("connection"))
            return head.serialized(dropping: Set(["connection", "keep-alive"]).union(named), adding: adding) + body
        }
    }

    /// Answers the proxy makes itself.
    fileprivate enum Responses {
        static func simple(
            _ status: Int,
            _ reason: String,
            contentType: String = "text/plain",
            body: [UInt8]? = nil,
            extra: [(String, String)] = [],
            keepAlive: Bool
        ) -> [UInt8] {
            let body = body ?? Array("\(status) \(reason) (fault proxy)\n".utf8)
            var text = "HTTP/1.1 \(status) \(reason)\r\n"
            text += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
            for (name, value) in extra { text += "\(name): \(value)\r\n" }
            text += "Connection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
            return Array(text.utf8) + body
        }
    }

    // MARK: - Sockets

    /// Why reading from a peer stopped short.
    fileprivate enum IOFailure: Error {
        /// The peer closed before the message was complete.
        case closed
        /// A receive failed or timed out.
        case failed
        /// The message is larger than the proxy accepts.
        case tooLarge
        /// The upstream's answer does not parse.
        case malformed
    }

    /// A connected socket and the bytes read from it but not used yet.
    fileprivate struct Peer {
        let fd: Int32
        var pending: [UInt8] = []

        /// Reads once more into `pending`; false at EOF. Throws when the read fails or times out.
        mutating func fill() throws -> Bool {
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    pending.append(contentsOf: chunk[..<count])
                    return true
                }
                if count == 0 { return false }
                if errno == EINTR { continue }
                throw IOFailure.failed
            }
        }

        /// The next head (without its CRLFCRLF) with leading empty lines skipped; nil when the peer
        /// closed cleanly before sending anything.
        mutating func readHead(limit: Int) throws -> [UInt8]? {
            var scanned = 0
            while true {
                while pending.count >= 2, pending[0] == 13, pending[1] == 10 {
                    pending.removeFirst(2)
                    scanned = 0
                }
                if let end = Peer.headEnd(pending, from: scanned) {
                    let head = Array(pending[..<(end - 4)])
                    pending.removeFirst(end)
                    return head
                }
                scanned = max(0, pending.count - 3)
                if pending.count > limit { throw IOFailure.tooLarge }
                if try !fill() {
                    if pending.isEmpty || pending.allSatisfy({ $0 == 13 || $0 == 10 }) { return nil }
                    throw IOFailure.closed
                }
            }
        }

        /// Exactly `count` bytes.
        mutating func read(count: Int) throws -> [UInt8] {
            while pending.count < count {
                if try !fill() { throw IOFailure.closed }
            }
            let bytes = Array(pending[..<count])
            pending.removeFirst(count)
            return bytes
        }

        /// An upstream answer, read by its length or to EOF; interim 1xx answers are skipped.
        mutating func readResponse(isHead: Bool, maxHead: Int, maxBody: Int) throws -> UpstreamResponse {
            while true {
                guard let headBytes = try readHead(limit: maxHead), let head = MessageHead(headBytes) else {
                    throw IOFailure.closed
                }
                let parts = head.startLine.split(separator: " ", maxSplits: 2)
                guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                    throw IOFailure.malformed
                }
                if status >= 100 && status < 200 && status != 101 { continue }
                let mayHaveBody = !isHead && status != 204 && status != 304 && !(status >= 100 && status < 200)
                let chunked = head.first("transfer-encoding") != nil
                let hasLength = head.first("content-length") != nil
                var body: [UInt8] = []
                if mayHaveBody {
                    if !chunked, hasLength {
                        guard case .length(let length) = head.bodyLength(max: maxBody) else {
                            throw IOFailure.malformed
                        }
                        body = try read(count: length)
                    } else {
                        while try fill() {
                            if pending.count > maxBody { throw IOFailure.tooLarge }
                        }
                        body = pending
                        pending = []
                    }
                }
                return UpstreamResponse(
                    head: head,
                    body: body,
                    chunked: chunked,
                    mayHaveBody: mayHaveBody,
                    hadLength: hasLength
                )
            }
        }

        /// Sends everything, retrying short writes and EINTR; false when the peer is gone or stuck.
        @discardableResult
        func send(_ bytes: [UInt8]) -> Bool {
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

        /// The index just past the first CRLFCRLF at or after `from`.
        static func headEnd(_ bytes: [UInt8], from: Int) -> Int? {
            var i = from
            while i + 3 < bytes.count {
                if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 13, bytes[i + 3] == 10 { return i + 4 }
                i += 1
            }
            return nil
        }
    }

    /// Socket setup shared by the listener, accepted clients and upstream connections.
    fileprivate enum Sockets {
        /// Send and receive timeout of every connection: a stuck peer costs a thread 30 s, not forever.
        static let timeout = timeval(tv_sec: 30, tv_usec: 0)

        /// A non-blocking listener on 127.0.0.1 with a kernel-chosen port.
        static func listen() throws -> (fd: Int32, port: Int) {
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            let fd = socket(AF_INET, type, 0)
            guard fd >= 0 else { throw FaultProxySetupError(call: "socket(AF_INET)", code: errno) }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = loopback(port: 0)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else {
                let code = errno
                close(fd)
                throw FaultProxySetupError(call: "bind(127.0.0.1:0)", code: code)
            }
            guard Glibc.listen(fd, 128) == 0 else {
                let code = errno
                close(fd)
                throw FaultProxySetupError(call: "listen", code: code)
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else {
                let code = errno
                close(fd)
                throw FaultProxySetupError(call: "getsockname", code: code)
            }
            return (fd, Int(UInt16(bigEndian: address.sin_port)))
        }

        /// The next connection on `listener`, close-on-exec from the start when glibc's `accept4` is
        /// there (Swift's Glibc module does not export it), else set right after.
        static func accept(_ listener: Int32) -> Int32 {
            if let accept4 {
                return accept4(listener, nil, nil, Int32(SOCK_CLOEXEC.rawValue))
            }
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return fd
        }

        private typealias Accept4 =
            @convention(c) (
                Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32
            ) -> Int32

        private static let accept4: Accept4? = {
            guard let symbol = dlsym(nil, "accept4") else { return nil }
            return unsafeBitCast(symbol, to: Accept4.self)
        }()

        /// Timeouts and no Nagle delay on a connected socket.
        static func configure(_ fd: Int32) {
            var time = timeout
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }

        /// A fresh, registered connection to 127.0.0.1:`port`; nil when it cannot be made (the
        /// send timeout bounds the connect too, on Linux).
        static func connect(port: Int, core: ProxyCore) -> Int32? {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return nil }
            core.register(fd)
            configure(fd)
            var address = loopback(port: port)
            var result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if result != 0 && errno == EINTR {
                // The connect goes on in the background: wait for it, then ask how it ended.
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                while true {
                    let polled = poll(&ready, 1, 30_000)
                    if polled < 0 && errno == EINTR { continue }
                    if polled == 1 {
                        var error: Int32 = 0
                        var length = socklen_t(MemoryLayout<Int32>.size)
                        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                        result = error == 0 ? 0 : -1
                    }
                    break
                }
            }
            guard result == 0 else {
                core.close(fd)
                return nil
            }
            return fd
        }

        static func loopback(port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            return address
        }
    }

    // MARK: - Randomness

    /// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough to pick faults.
    fileprivate struct SplitMix64 {
        var state: UInt64

        init(seed: UInt64) {
            state = seed
        }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// Uniform in [0, 1).
        mutating func nextUnit() -> Double {
            Double(next() >> 11) * 0x1.0p-53
        }
    }
}
