import FieldKitSync
import Foundation
import Testing

/// The libcurl client against a real HTTP server on the loopback interface: a small Python
/// script, one per test, killed when the test ends.
@Suite("HTTP client on libcurl", .enabled(if: LoopbackServer.python != nil, "needs python3"))
struct HTTPClientTests {
    /// The test's server.
    let server: LoopbackServer

    init() throws { server = try LoopbackServer() }

    /// libcurl's CURLE_OPERATION_TIMEDOUT (the test target does not import CCurl).
    static let timedOut = 28
    /// libcurl's CURLE_PARTIAL_FILE.
    static let partialFile = 18
    /// libcurl's CURLE_COULDNT_CONNECT.
    static let couldNotConnect = 7

    @Test("A POST body with all 256 byte values arrives unchanged")
    func binaryBody() throws {
        let body = (0...255).map { UInt8($0) }
        let response = try HTTPClient().send(HTTPRequest(method: "POST", url: server.url("/echo"), body: body))
        #expect(response.status == 200)
        let echo = try Echo(response)
        #expect(echo.method == "POST")
        #expect(echo.bodyLength == 256)
        #expect(echo.bodyHex == body.map { String(format: "%02x", $0) }.joined())
        #expect(echo.headers["content-length"] == "256")
        // Not libcurl's form-urlencoded default, and no 100-continue round trip.
        #expect(echo.headers["content-type"] == nil)
        #expect(echo.headers["expect"] == nil)
    }

    @Test("An empty POST or PUT body is sent as Content-Length 0", arguments: ["POST", "PUT"])
    func emptyBody(method: String) throws {
        let response = try HTTPClient().send(HTTPRequest(method: method, url: server.url("/echo")))
        let echo = try Echo(response)
        #expect(echo.method == method)
        #expect(echo.bodyLength == 0)
        #expect(echo.headers["content-length"] == "0")
    }

    @Test("GET and DELETE without a body send no Content-Length", arguments: ["GET", "DELETE"])
    func noBody(method: String) throws {
        let echo = try Echo(HTTPClient().send(HTTPRequest(method: method, url: server.url("/echo?x=1"))))
        #expect(echo.method == method)
        #expect(echo.target == "/echo?x=1")
        #expect(echo.headers["content-length"] == nil)
    }

    @Test("A 2 MB upload goes without Expect: 100-continue")
    func largeUpload() throws {
        let body = [UInt8](repeating: 0xA5, count: 2 << 20)
        let request = HTTPRequest(
            method: "PUT",
            url: server.url("/echo"),
            headers: [("Content-Type", "application/octet-stream")],
            body: body
        )
        let echo = try Echo(HTTPClient().send(request))
        #expect(echo.bodyLength == body.count)
        #expect(echo.headers["expect"] == nil)
        #expect(echo.headers["content-type"] == "application/octet-stream")
    }

    @Test("Request headers are sent and response headers are looked up case-insensitively")
    func headers() throws {
        let request = HTTPRequest(
            method: "GET",
            url: server.url("/echo"),
            headers: [("X-FieldKit-Test", "hello world"), ("Authorization", "Bearer abc"), ("X-Empty", "")]
        )
        let response = try HTTPClient().send(request)
        let echo = try Echo(response)
        #expect(echo.headers["x-fieldkit-test"] == "hello world")
        #expect(echo.headers["authorization"] == "Bearer abc")
        #expect(echo.headers["x-empty"] == "")
        #expect(response.header("X-REPLY") == "yes")
        #expect(response.header("x-reply") == "yes")
        #expect(response.headers["x-reply"] == "yes")
        #expect(response.header("x-dup") == "last")
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("x-missing") == nil)
    }

    @Test("A 503 comes back as a response with its Retry-After, not as an error")
    func serviceUnavailable() throws {
        let response = try HTTPClient().send(HTTPRequest(method: "POST", url: server.url("/status?code=503&retry=7")))
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "7")
        #expect(response.body == Array("busy".utf8))
    }

    @Test("A 302 is returned as is, never followed")
    func redirectNotFollowed() throws {
        let response = try HTTPClient().send(HTTPRequest(method: "GET", url: server.url("/redirect")))
        #expect(response.status == 302)
        #expect(response.header("location") == "http://portal.invalid/login")
        #expect(response.body == Array("moved".utf8))
    }

    @Test("Headers of an informational 103 before the response are dropped")
    func informationalResponse() throws {
        let response = try HTTPClient().send(HTTPRequest(method: "GET", url: server.url("/informational")))
        #expect(response.status == 200)
        #expect(response.header("x-final") == "1")
        #expect(response.header("x-early") == nil)
        #expect(response.header("link") == nil)
        #expect(response.body == Array("final".utf8))
    }

    @Test("A body cut short of its Content-Length is a transport error")
    func truncatedBody() throws {
        let url = server.url("/truncated")
        let error = #expect(throws: HTTPClientError.self) {
            try HTTPClient().send(HTTPRequest(method: "GET", url: url))
        }
        guard case .transport(let failedURL, let code, _) = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        #expect(code == Self.partialFile)
    }

    @Test("A server that never answers fails at the total timeout, and the client still works after")
    func totalTimeout() throws {
        let client = HTTPClient(timeout: 2)
        let start = ContinuousClock.now
        let error = #expect(throws: HTTPClientError.self) {
            try client.send(HTTPRequest(method: "GET", url: server.url("/stall")))
        }
        #expect(ContinuousClock.now - start < .seconds(6))
        guard case .transport(_, let code, let message) = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
        #expect(code == Self.timedOut)
        #expect(
            message.localizedCaseInsensitiveContains("timeout") || message.localizedCaseInsensitiveContains("timed out")
        )
        #expect(try client.send(HTTPRequest(method: "GET", url: server.url("/echo"))).status == 200)
    }

    @Test("A stalled link fails after the low-speed time, long before the total timeout")
    func lowSpeed() throws {
        let client = HTTPClient(timeout: 60, lowSpeedSeconds: 2)
        let start = ContinuousClock.now
        let error = #expect(throws: HTTPClientError.self) {
            try client.send(HTTPRequest(method: "GET", url: server.url("/stall")))
        }
        #expect(ContinuousClock.now - start < .seconds(8))
        guard case .transport(_, let code, _) = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
        #expect(code == Self.timedOut)
    }

    @Test("A closed port is a transport error that names the URL")
    func connectionRefused() throws {
        let url = server.url("/echo")
        server.stop()
        let error = #expect(throws: HTTPClientError.self) {
            try HTTPClient().send(HTTPRequest(method: "GET", url: url))
        }
        guard case .transport(let failedURL, let code, let message) = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        #expect(code == Self.couldNotConnect)
        #expect(!message.isEmpty)
        #expect(String(describing: error!).contains(url))
    }

    @Test(
        "A body over the limit is refused, whether or not its length is announced",
        arguments: ["/large?bytes=2000000", "/large?bytes=2000000&unknown=1"]
    )
    func responseTooLarge(path: String) throws {
        let url = server.url(path)
        let client = HTTPClient(maxResponseBytes: 1 << 20)
        #expect(throws: HTTPClientError.responseTooLarge(url: url, limit: 1 << 20)) {
            try client.send(HTTPRequest(method: "GET", url: url))
        }
        // The limit itself is allowed.
        let exact = try client.send(HTTPRequest(method: "GET", url: server.url("/large?bytes=\(1 << 20)&unknown=1")))
        #expect(exact.body.count == 1 << 20)
    }

    @Test("One client reuses its connection")
    func connectionReuse() throws {
        let client = HTTPClient()
        let first = try Echo(client.send(HTTPRequest(method: "POST", url: server.url("/echo"), body: [1, 2, 3])))
        let second = try Echo(client.send(HTTPRequest(method: "GET", url: server.url("/echo"))))
        #expect(second.method == "GET")
        #expect(second.bodyLength == 0)
        #expect(first.clientPort == second.clientPort)
    }

    @Test(
        "Anything but an absolute http or https URL is a bad URL",
        arguments: ["ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1/echo", "http://exa mple.org/", ""]
    )
    func badURL(url: String) {
        #expect(throws: HTTPClientError.badURL(url)) { try HTTPClient().send(HTTPRequest(method: "GET", url: url)) }
    }

    @Test("A line break in a header or a method that is not a token is refused before sending")
    func badRequest() {
        let url = server.url("/echo")
        let client = HTTPClient()
        let injected = HTTPRequest(method: "GET", url: url, headers: [("X-A", "1\r\nX-B: 2")])
        #expect(throws: HTTPClientError.self) { try client.send(injected) }
        #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(method: "GET /x", url: url)) }
        #expect(throws: HTTPClientError.self) {
            try client.send(HTTPRequest(method: "GET", url: url, headers: [("Bad Name", "x")]))
        }
    }
}

// MARK: - The server

/// What `/echo` saw of a request.
private struct Echo: Decodable {
    var method: String
    var target: String
    var headers: [String: String]
    var bodyLength: Int
    var bodyHex: String?
    var clientPort: Int

    init(_ response: HTTPResponse) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        self = try decoder.decode(Echo.self, from: Data(response.body))
    }
}

/// The county behind HTTPS: a certificate the system does not know, trusted through the CA bundle.
@Suite("HTTPS through libcurl", .enabled(if: LoopbackServer.python != nil && Spawn.find("openssl") != nil, "needs python3 and openssl"))
struct HTTPSTests {
    @Test("with the county's certificate as CA bundle the request goes through; without it, a clear transport error")
    func tls() throws {
        let dir = NSTemporaryDirectory() + "fk-tls-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let openssl = try Spawn(
            Spawn.find("openssl")!,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem",
                "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ], stdoutPath: dir + "/openssl.out", stderrPath: dir + "/openssl.err")
        #expect(openssl.wait(seconds: 60) == 0)
        let server = try LoopbackServer(tls: (dir + "/cert.pem", dir + "/key.pem"))
        let ok = try HTTPClient(caBundle: dir + "/cert.pem").send(HTTPRequest(method: "POST", url: server.url("/echo"), body: [1, 2, 3]))
        #expect(ok.status == 200)
        #expect(try Echo(ok).bodyLength == 3)
        #expect(throws: HTTPClientError.self) {
            try HTTPClient(caBundle: "/etc/ssl/certs/ca-certificates.crt").send(HTTPRequest(method: "GET", url: server.url("/echo")))
        }
    }
}

/// The Python HTTP server the tests talk to, on 127.0.0.1 and a port the system picks.
final class LoopbackServer {
    /// The Python interpreter, or nil when there is none.
    static let python: String? =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
        ? "/usr/bin/python3" : Spawn.find("python3")

    /// The running script.
    private let child: Spawn
    /// Its folder of output files.
    private let directory: String
    /// The port it listens on.
    let port: Int

    /// `https` when the server speaks TLS.
    let scheme: String

    /// Starts the server and waits (up to 15 s) for it to print its port; with `tls` (PEM
    /// certificate and key files) it speaks HTTPS.
    init(tls: (certificate: String, key: String)? = nil) throws {
        scheme = tls == nil ? "http" : "https"
        directory = NSTemporaryDirectory() + "fk-http-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let child = try Spawn(
            Self.python ?? "python3",
            ["-c", Self.script] + (tls.map { [$0.certificate, $0.key] } ?? []),
            stdoutPath: directory + "/stdout",
            stderrPath: directory + "/stderr"
        )
        let deadline = Date().addingTimeInterval(15)
        var port: Int?
        while port == nil {
            let out = child.output()
            if out.hasSuffix("\n") { port = Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if port == nil, child.wait(seconds: 0.05) != nil || Date() > deadline {
                child.stop()
                throw Spawn.Failed(description: "the test server did not start: \(child.errors())")
            }
        }
        self.child = child
        self.port = port!
    }

    /// A URL on the server.
    func url(_ path: String) -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    /// Kills the server now (its port is then closed).
    func stop() { child.stop() }

    deinit {
        child.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The server: prints its port, then serves the paths the tests use. It exits by itself when
    /// the test process goes away.
    static let script = #"""
        import http.server, json, os, threading, time
        from urllib.parse import urlsplit, parse_qs

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_any(self):
                parts = urlsplit(self.path)
                path, query = parts.path, parse_qs(parts.query)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if path == "/echo":
                    seen = {
                        "method": self.command,
                        "target": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body_length": len(body),
                        "body_hex": body.hex() if len(body) <= 65536 else None,
                        "client_port": self.client_address[1],
                    }
                    self.reply(200, json.dumps(seen).encode(), [
                        ("Content-Type", "application/json"), ("X-Reply", "yes"),
                        ("X-Dup", "first"), ("X-Dup", "last"),
                    ])
                elif path == "/status":
                    self.reply(int(query["code"][0]), b"busy", [("Retry-After", query.get("retry", ["1"])[0])])
                elif path == "/redirect":
                    self.reply(302, b"moved", [("Location", "http://portal.invalid/login")])
                elif path == "/informational":
                    self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nX-Early: 1\r\n\r\n")
                    self.reply(200, b"final", [("X-Final", "1")])
                elif path == "/truncated":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"0123456789")
                    self.wfile.flush()
                    self.close_connection = True
                elif path == "/stall":
                    time.sleep(30)
                    self.reply(200, b"late")
                elif path == "/large":
                    n = int(query["bytes"][0])
                    if "unknown" not in query:
                        self.reply(200, b"x" * n)
                        return
                    # No Content-Length: the body ends when the connection closes.
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    try:
                        while n > 0:
                            chunk = min(n, 65536)
                            self.wfile.write(b"x" * chunk)
                            n -= chunk
                    except OSError:
                        pass
                else:
                    self.reply(404, b"no such path")

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        def watch_parent(parent):
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)

        threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        import sys
        if len(sys.argv) >= 3:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[1], sys.argv[2])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#
}
