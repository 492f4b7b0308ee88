import CCurl
import FoundationEssentials

/// One HTTP request, as the sync client builds it.
public struct HTTPRequest: Sendable {
    /// The method, case-sensitive: `GET`, `HEAD`, `POST`, `PUT` or any other token (sent as is).
    public var method: String
    /// An absolute `http://` or `https://` URL.
    public var url: String
    /// Extra request headers in the order given. An empty value sends the header empty.
    public var headers: [(name: String, value: String)]
    /// The body, any bytes. `POST`, `PUT` and `PATCH` always send one (`Content-Length: 0` when
    /// empty); other methods only when it is not empty.
    public var body: [UInt8]

    /// A request; headers and body default to none.
    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// What the server answered: any status, 4xx and 5xx included (they are not errors here).
public struct HTTPResponse: Sendable {
    /// The status code of the final response (a redirect is never followed, so a 302 stays a 302).
    public var status: Int
    /// The final response's headers, names lower-cased; when a name repeats, the last value wins.
    public var headers: [String: String]
    /// The body, exactly as received (no content decoding is asked for).
    public var body: [UInt8]

    /// A response; for tests and fakes of the transport.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        self.body = body
    }

    /// The value of a header, looked up case-insensitively.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a request got no response. A response with an error status is not one of these.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The exchange failed: no connection, DNS, TLS, reset, timeout, stalled link, or a response
    /// cut short. `code` is libcurl's `CURLcode`; `message` is its text plus the error buffer's
    /// detail. Worth retrying later.
    case transport(url: String, code: Int, message: String)
    /// The response body grew past the client's limit, so the transfer was abandoned.
    case responseTooLarge(url: String, limit: Int)
    /// Not an absolute `http://` or `https://` URL libcurl can parse.
    case badURL(String)
    /// The method or a header cannot be sent as given (not a token, or a line break in a value);
    /// a bug in the caller, never worth retrying.
    case badRequest(url: String, reason: String)

    /// English technical text naming the URL; the caller words it for users.
    public var description: String {
        switch self {
        case .transport(let url, let code, let message):
            "\(url): \(message) (curl error \(code))"
        case .responseTooLarge(let url, let limit):
            "\(url): response larger than \(limit) bytes, transfer abandoned"
        case .badURL(let url):
            "not an absolute http:// or https:// URL: \"\(url)\""
        case .badRequest(let url, let reason):
            "\(url): request not sent: \(reason)"
        }
    }
}

/// A blocking HTTP client on one libcurl easy handle.
///
/// The handle is reused across calls so libcurl keeps connections, DNS answers and TLS sessions
/// alive between the requests of one sync. Proxies come from the environment as libcurl reads
/// them (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`; not `HTTP_PROXY`). Redirects are
/// never followed: a captive portal's 302 must reach the caller as a 302.
///
/// Not thread-safe: use one client per thread or task. Each `send` blocks for at most the total
/// timeout.
public final class HTTPClient {
    /// Seconds allowed to connect (TCP and TLS); 0 means libcurl's default of 300.
    public let connectTimeout: Int
    /// Seconds allowed for a whole request; 0 means no limit.
    public let timeout: Int
    /// Seconds below 1 byte/s after which a transfer fails, so a dead link fails instead of
    /// hanging until `timeout`; 0 turns the check off.
    public let lowSpeedSeconds: Int
    /// The largest response body accepted, in bytes.
    public let maxResponseBytes: Int
    /// The CA certificates trusted for HTTPS (PEM file), or nil for the system store.
    public let caBundle: String?

    /// libcurl's process-wide setup, done once (a static let is initialised exactly once, safely).
    private static let globalInit: CURLcode = fk_curl_global_init()

    /// The easy handle (`CURL *`); nil only when libcurl could not allocate one yet.
    private var handle: UnsafeMutableRawPointer?
    /// Where libcurl writes the detail of its last error (CURLOPT_ERRORBUFFER).
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// A client; nothing is connected until the first `send`.
    /// - Parameters:
    ///   - connectTimeout: Seconds allowed to connect.
    ///   - timeout: Seconds allowed for a whole request.
    ///   - lowSpeedSeconds: Seconds of less than 1 byte/s before a transfer is abandoned.
    ///   - maxResponseBytes: The largest response body accepted.
    ///   - caBundle: A PEM file of trusted CAs; when nil, `FIELDKIT_CA_BUNDLE` from the
    ///     environment, and when that is unset or empty, the system store.
    public init(
        connectTimeout: Int = 10,
        timeout: Int = 60,
        lowSpeedSeconds: Int = 20,
        maxResponseBytes: Int = 16 << 20,
        caBundle: String? = nil
    ) {
        self.connectTimeout = max(0, connectTimeout)
        self.timeout = max(0, timeout)
        self.lowSpeedSeconds = max(0, lowSpeedSeconds)
        self.maxResponseBytes = max(0, maxResponseBytes)
        let fromEnvironment = ProcessInfo.processInfo.environment["FIELDKIT_CA_BUNDLE"]
        self.caBundle = [caBundle, fromEnvironment].compactMap { $0 }.first { !$0.isEmpty }
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        _ = Self.globalInit
        handle = fk_curl_easy_init()
    }

    deinit {
        if let handle { fk_curl_easy_cleanup(handle) }
        errorBuffer.deallocate()
    }

    /// Sends a request and waits for the whole response.
    /// - Returns: The final response, whatever its status.
    /// - Throws: ``HTTPClientError/badURL(_:)`` or ``HTTPClientError/badRequest(url:reason:)``
    ///   before anything is sent; ``HTTPClientError/transport(url:code:message:)`` when there is no
    ///   complete response (a body cut short included); ``HTTPClientError/responseTooLarge(url:limit:)``
    ///   past `maxResponseBytes`.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let url = request.url
        guard fk_curl_available() != 0 else {
            throw .transport(
                url: url, code: Int(CURLE_FAILED_INIT.rawValue),
                message: "libcurl.so.4 is not installed (Debian: apt-get install libcurl4)")
        }
        try Self.checkURL(url)
        let lines = try Self.headerLines(request)
        if handle == nil { handle = fk_curl_easy_init() }
        guard let handle else {
            throw .transport(url: url, code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed")
        }

        // Every option from scratch; live connections, DNS and TLS session caches survive a reset.
        fk_curl_easy_reset(handle)
        var list: UnsafeMutablePointer<curl_slist>?
        defer {
            _ = fk_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
            fk_curl_slist_free_all(list)
        }
        for line in lines {
            guard let longer = fk_curl_slist_append(list, line) else {
                throw .transport(url: url, code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_slist_append failed")
            }
            list = longer
        }

        let transfer = Transfer(limit: maxResponseBytes)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        errorBuffer[0] = 0
        var options: [(String, CURLcode)] = [
            ("NOSIGNAL", fk_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)),
            ("URL", fk_curl_setopt_str(handle, CURLOPT_URL, url)),
            ("PROTOCOLS_STR", fk_curl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, "http,https")),
            ("FOLLOWLOCATION", fk_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)),
            ("CONNECTTIMEOUT", fk_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, connectTimeout)),
            ("TIMEOUT", fk_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeout)),
            ("LOW_SPEED_LIMIT", fk_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, lowSpeedSeconds > 0 ? 1 : 0)),
            ("LOW_SPEED_TIME", fk_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, lowSpeedSeconds)),
            // Refuses up front a body whose Content-Length is already too big; the write callback
            // enforces the same limit on bodies of unknown length.
            ("MAXFILESIZE_LARGE", fk_curl_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxResponseBytes))),
            ("ERRORBUFFER", fk_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer)),
            ("HTTPHEADER", fk_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)),
            ("WRITEDATA", fk_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, context)),
            ("HEADERDATA", fk_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, context)),
            (
                "WRITEFUNCTION",
                fk_curl_setopt_write_callback(handle) { data, size, count, context in
                    Transfer.from(context).receiveBody(data, size * count)
                }
            ),
            (
                "HEADERFUNCTION",
                fk_curl_setopt_header_callback(handle) { data, size, count, context in
                    Transfer.from(context).receiveHeader(data, size * count)
                }
            ),
        ]
        if let caBundle {
            options.append(("CAINFO", fk_curl_setopt_str(handle, CURLOPT_CAINFO, caBundle)))
        }
        let sendsBody = ["POST", "PUT", "PATCH"].contains(request.method) || !request.body.isEmpty
        switch request.method {
        case "GET" where !sendsBody:
            options.append(("HTTPGET", fk_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)))
        case "HEAD" where !sendsBody:
            options.append(("NOBODY", fk_curl_setopt_long(handle, CURLOPT_NOBODY, 1)))
        case "POST":
            options.append(("POST", fk_curl_setopt_long(handle, CURLOPT_POST, 1)))
        default:
            options.append(("CUSTOMREQUEST", fk_curl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method)))
        }
        if let (name, code) = options.first(where: { $0.1 != CURLE_OK }) {
            throw .transport(url: url, code: Int(code.rawValue), message: "CURLOPT_\(name): \(Self.words(code))")
        }

        let code: CURLcode = withExtendedLifetime(transfer) {
            guard sendsBody else { return fk_curl_easy_perform(handle) }
            return request.body.withUnsafeBytes { bytes in
                // libcurl keeps this pointer (no copy) until perform returns. Never NULL: with a
                // NULL POSTFIELDS libcurl would read the body from stdin through its default
                // read callback.
                let start = bytes.baseAddress ?? UnsafeRawPointer(Self.noBytes.utf8Start)
                let set = fk_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                guard set == CURLE_OK else { return set }
                let pointer = fk_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: start))
                guard pointer == CURLE_OK else { return pointer }
                return fk_curl_easy_perform(handle)
            }
        }

        if transfer.tooLarge || code == CURLE_FILESIZE_EXCEEDED {
            throw .responseTooLarge(url: url, limit: maxResponseBytes)
        }
        guard code == CURLE_OK else {
            var message = Self.words(code)
            let detail = trimmed(String(cString: errorBuffer)[...])
            if !detail.isEmpty && detail != message { message += ": " + detail }
            throw .transport(url: url, code: Int(code.rawValue), message: message)
        }
        var status = 0
        _ = fk_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: transfer.headers, body: transfer.body)
    }

    // MARK: - Checks before sending

    /// What POSTFIELDS points at for an empty body.
    private static let noBytes: StaticString = ""

    /// The characters of an HTTP token (RFC 9110), which methods and header names must be.
    private static let tokenCharacters = Set(
        "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8
    )

    /// libcurl's text for a code.
    private static func words(_ code: CURLcode) -> String { String(cString: fk_curl_easy_strerror(code)) }

    /// Throws unless libcurl's own parser takes the URL as absolute, with an http or https scheme.
    private static func checkURL(_ url: String) throws(HTTPClientError) {
        guard !url.utf8.contains(0) else { throw .badURL(url) }
        guard let parsed = fk_curl_url() else {
            throw .transport(url: url, code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_url failed")
        }
        defer { fk_curl_url_cleanup(parsed) }
        guard fk_curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK else { throw .badURL(url) }
        var scheme: UnsafeMutablePointer<CChar>?
        guard fk_curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK, let scheme else { throw .badURL(url) }
        defer { fk_curl_free(scheme) }
        guard ["http", "https"].contains(String(cString: scheme).lowercased()) else { throw .badURL(url) }
    }

    /// The header lines for libcurl: the caller's, then `Expect:` (no 100-continue round trip
    /// before a large body) and, for a body without a type, `Content-Type:` (not libcurl's
    /// default `application/x-www-form-urlencoded`); an empty value after the colon removes a
    /// header libcurl would add.
    private static func headerLines(_ request: HTTPRequest) throws(HTTPClientError) -> [String] {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(tokenCharacters.contains) else {
            throw .badRequest(url: request.url, reason: "method \"\(request.method)\" is not an HTTP token")
        }
        var lines: [String] = []
        for (name, value) in request.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(tokenCharacters.contains) else {
                throw .badRequest(url: request.url, reason: "header name \"\(name)\" is not an HTTP token")
            }
            guard !value.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) else {
                throw .badRequest(url: request.url, reason: "header \(name) has a line break or NUL in its value")
            }
            // "Name;" is libcurl's way to send a header with an empty value ("Name:" would remove it).
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        let names = Set(request.headers.map { $0.name.lowercased() })
        if !names.contains("expect") { lines.append("Expect:") }
        if !names.contains("content-type") { lines.append("Content-Type:") }
        return lines
    }
}

// MARK: - Transfer

/// What the callbacks of one `send` collect; libcurl gets it as an unretained pointer.
private final class Transfer {
    /// The body limit.
    let limit: Int
    /// The body so far.
    var body: [UInt8] = []
    /// The current response's headers (reset when a new status line starts).
    var headers: [String: String] = [:]
    /// The name of the last header, for an obsolete folded continuation line.
    var lastName: String?
    /// Whether the body outgrew the limit.
    var tooLarge = false

    init(limit: Int) { self.limit = limit }

    /// The transfer behind a callback's user pointer.
    static func from(_ context: UnsafeMutableRawPointer?) -> Transfer {
        Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    }

    /// Takes a chunk of body; returning less than `count` makes libcurl abort the transfer.
    func receiveBody(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        guard count > 0, let data else { return count }
        guard body.count + count <= limit else {
            tooLarge = true
            return 0
        }
        body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
        return count
    }

    /// Takes one header line, CRLF included. A status line (the final response's, or a 1xx or
    /// proxy CONNECT answer before it) starts the set over.
    func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        guard count > 0, let data else { return count }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers = [:]
            lastName = nil
        } else if line.first == " " || line.first == "\t" {
            if let lastName, let previous = headers[lastName] {
                headers[lastName] = previous + " " + trimmed(line[...])
            }
        } else if let colon = line.firstIndex(of: ":") {
            let name = trimmed(line[..<colon]).lowercased()
            headers[name] = trimmed(line[line.index(after: colon)...])
            lastName = name
        }
        return count
    }
}

/// The text without the spaces, tabs, CRs and LFs around it (HTTP's whitespace; no ICU needed).
private func trimmed(_ text: Substring) -> String {
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
    var text = text
    while let first = text.first, blank(first) { text.removeFirst() }
    while let last = text.last, blank(last) { text.removeLast() }
    return String(text)
}
