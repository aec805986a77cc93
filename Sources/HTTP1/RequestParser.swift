/// Turns the bytes of a connection into requests (RFC 9112), strictly: this parser faces the internet,
/// so whatever another parser might read differently is refused. Request bodies are framed by
/// Content-Length or by the chunked coding alone (RFC 9112 §6.1, §7.1); any other transfer coding is
/// answered 501.
public struct RequestParser: Sendable {
    public struct Limits: Sendable {
        /// Request line plus header fields, CRLFs included; over → 431.
        public var maxHeaderBytes: Int = 16 * 1024
        /// Header fields; over → 431.
        public var maxHeaderCount: Int = 100
        /// The request-target; over → 414.
        public var maxTargetLength: Int = 8 * 1024
        /// A Content-Length over this is refused with 413 before any of the body is read; a chunked
        /// body as soon as its decoded bytes would exceed it.
        public var maxBodyBytes: Int = 64 * 1024

        public init() {}
    }

    private enum State {
        case head
        case body(HTTPRequest, length: Int)
        case chunkedBody(HTTPRequest, ChunkedBodyDecoder)
        case failed(HTTPParseError)
    }

    private let limits: Limits
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already returned as requests; dropped lazily, in `append`.
    private var consumed = 0
    private var scanner: HeadScanner
    /// The 414 rule over the start line while it arrives.
    private var targetLimit: RequestLine.TargetLimit
    private var state = State.head
    /// The request whose body is awaited asked for `100 Continue` and has not been offered it yet.
    private var continueOwed = false

    public init(limits: Limits = Limits()) {
        self.limits = limits
        scanner = HeadScanner(
            kind: .message,
            limits: .init(maxBytes: limits.maxHeaderBytes, maxFieldLines: limits.maxHeaderCount))
        targetLimit = RequestLine.TargetLimit(maxLength: limits.maxTargetLength)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        discardConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        discardConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    /// Whether a request has started: bytes are buffered or a body is awaited (for header and body
    /// deadlines).
    public var hasBufferedBytes: Bool {
        switch state {
        case .body, .chunkedBody: return true
        case .head, .failed: return buffer.count > consumed
        }
    }

    /// The head of the request whose body is awaited, once, if it asked for `Expect: 100-continue`
    /// (RFC 9110 §10.1.1): the server then answers `100 Continue`, or a final status if it refuses the
    /// request on its head alone.
    public mutating func takeContinueExpectation() -> HTTPRequest? {
        guard continueOwed else { return nil }
        continueOwed = false
        switch state {
        case .body(let request, _), .chunkedBody(let request, _): return request
        case .head, .failed: return nil
        }
    }

    /// The next complete request, or nil if more bytes are needed. Bytes after it stay buffered for the
    /// next call (pipelining). After an error the parser only repeats it: the connection must answer
    /// with the error's status and close.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        if case .failed(let error) = state { throw error }
        do {
            return try advance()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func advance() throws(HTTPParseError) -> HTTPRequest? {
        switch state {
        case .head:
            guard let (received, framing) = try readHead() else { return nil }
            var request = received
            switch framing {
            case .unframed, .length(0):
                return request
            case .length(let length):
                // Usually the body came in with the head: the request need not wait in `state` (a copy
                // in and a copy out of the enum, for every callback).
                if takeBody(length, into: &request) { return request }
                state = .body(request, length: length)
            case .chunked:
                state = .chunkedBody(
                    request,
                    ChunkedBodyDecoder(
                        maxBodyBytes: limits.maxBodyBytes, maxTrailerBytes: limits.maxHeaderBytes))
                if let complete = try decodeChunks() { return complete }
            }
            continueOwed = Self.expectsContinue(request)
            return nil
        case .body(var request, let length):
            guard takeBody(length, into: &request) else { return nil }
            state = .head
            continueOwed = false
            return request
        case .chunkedBody:
            guard let complete = try decodeChunks() else { return nil }
            continueOwed = false
            return complete
        case .failed(let error):
            throw error
        }
    }

    /// Decodes the buffered part of a chunked body; the request once its last chunk and trailers are in.
    private mutating func decodeChunks() throws(HTTPParseError) -> HTTPRequest? {
        guard case .chunkedBody(var request, var decoder) = state else { return nil }
        state = .head  // while `request` and `decoder` are mutated, so neither is copied
        consumed += try buffer.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
            try decoder.decode(UnsafeBufferPointer(rebasing: bytes[consumed...]), into: &request.body)
        }
        guard decoder.isComplete else {
            state = .chunkedBody(request, decoder)
            return nil
        }
        return request
    }

    /// `Expect: 100-continue` from an HTTP/1.1 client (an HTTP/1.0 one's is ignored, RFC 9110 §10.1.1).
    private static func expectsContinue(_ request: HTTPRequest) -> Bool {
        request.versionMinor >= 1
            && request.headers.values("Expect").flatMap(ASCII.listElements).contains {
                $0.equalsIgnoringASCIICase("100-continue")
            }
    }

    /// Moves the body out of the buffer into `request` once all `length` bytes are there.
    private mutating func takeBody(_ length: Int, into request: inout HTTPRequest) -> Bool {
        guard buffer.count - consumed >= length else { return false }
        request.body = buffer.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(rebasing: $0[consumed..<(consumed + length)]))
        }
        consumed += length
        return true
    }

    private mutating func readHead() throws(HTTPParseError) -> (HTTPRequest, BodyFraming)? {
        let head: (HTTPRequest, BodyFraming)? = try buffer.withUnsafeBufferPointer {
            bytes throws(HTTPParseError) in
            let unread = UnsafeBufferPointer(rebasing: bytes[consumed...])
            let complete: Bool
            do throws(HTTPParseError) {
                complete = try scanner.scan(unread)
            } catch {
                // A head too long because of its target is a 414, not a 431.
                if case .headerSectionTooLarge = error {
                    try Self.checkTargetLength(unread, scanner: scanner, limit: &targetLimit)
                }
                throw error
            }
            guard complete else {
                try Self.checkTargetLength(unread, scanner: scanner, limit: &targetLimit)
                return nil
            }
            return try Self.request(
                from: UnsafeBufferPointer(rebasing: unread[..<scanner.position]),
                lines: scanner.lines, limits: limits)
        }
        guard let head else { return nil }
        consumed += scanner.position
        scanner.reset()
        targetLimit = RequestLine.TargetLimit(maxLength: limits.maxTargetLength)
        return head
    }

    /// The target limit over the start line so far, complete or not.
    private static func checkTargetLength(
        _ head: UnsafeBufferPointer<UInt8>, scanner: HeadScanner, limit: inout RequestLine.TargetLimit
    ) throws(HTTPParseError) {
        let line = scanner.lines.first ?? scanner.lineStart..<scanner.position
        try limit.check(UnsafeBufferPointer(rebasing: head[line]))
    }

    private static func request(
        from head: UnsafeBufferPointer<UInt8>, lines: [Range<Int>], limits: Limits
    ) throws(HTTPParseError) -> (HTTPRequest, BodyFraming) {
        let line = try RequestLine(
            parsing: UnsafeBufferPointer(rebasing: head[lines[0]]), maxTargetLength: limits.maxTargetLength)
        let headers = try FieldLines.parse(head, lines: lines.dropFirst())
        try checkHost(headers, versionMinor: line.versionMinor)
        let (path, query) = HTTPRequest.components(of: line.target)
        let decodedQuery = try query.map(QueryDecoding.decode) ?? []
        let framing = try BodyFraming(
            headers, versionMinor: line.versionMinor, maxBodyBytes: limits.maxBodyBytes)
        let request = HTTPRequest(
            method: line.method, target: line.target, path: String(path), query: decodedQuery,
            versionMinor: line.versionMinor, headers: headers, body: [])
        return (request, framing)
    }

    /// RFC 9112 §3.2: a 400 for an HTTP/1.1 request without Host, for more than one Host, or for a Host
    /// that is not `uri-host [":" port]`.
    private static func checkHost(_ headers: ReceivedHeaders, versionMinor: Int) throws(HTTPParseError) {
        let hosts = headers.firstAndCount("Host")
        guard hosts.count <= 1 else { throw .repeatedHost }
        guard let host = hosts.first else {
            if versionMinor >= 1 { throw .missingHost }
            return
        }
        guard host.utf8.allSatisfy(isHostChar) else { throw .invalidHost }
    }

    /// unreserved / pct-encoded / sub-delims / ":" / "[" / "]" (RFC 3986 §3.2.2, §3.2.3).
    private static func isHostChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
            true
        default:
            false
        }
    }

    /// Drops returned requests' bytes once they are at least half the buffer, so pipelined input is
    /// copied a bounded number of times.
    private mutating func discardConsumedBytes() {
        if consumed == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            consumed = 0
        } else if consumed >= 4096 && consumed * 2 >= buffer.count {
            buffer.removeSubrange(..<consumed)
            consumed = 0
        }
    }
}
