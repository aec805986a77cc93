/// Turns the bytes a client reads into responses (RFC 9112): interim 1xx responses are skipped; bodies
/// are framed by Content-Length, chunked coding, or the end of the connection (`finish()`).
/// Ambiguous framing is refused, as in requests.
public struct ResponseParser: Sendable {
    private enum Framing {
        case head
        case length(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        case untilClose
        case failed(HTTPParseError)
    }

    private let maxHeaderBytes: Int
    private let maxBodyBytes: Int
    private var buffer: [UInt8] = []
    private var consumed = 0
    private var scanner: HeadScanner
    private var framing = Framing.head
    /// The response whose body is being read.
    private var response = HTTPResponse(status: 0)

    public init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 4 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        scanner = Self.headScanner(maxHeaderBytes)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        discardConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        discardConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete response, or nil if more bytes are needed. After an error the parser only
    /// repeats it.
    public mutating func next() throws(HTTPParseError) -> HTTPResponse? {
        if case .failed(let error) = framing { throw error }
        do {
            return try advance()
        } catch {
            framing = .failed(error)
            throw error
        }
    }

    /// Call when the connection has ended: returns a buffered response, or the one whose body the end
    /// delimits; nil if nothing was pending; throws if a response was cut short.
    public mutating func finish() throws(HTTPParseError) -> HTTPResponse? {
        if let response = try next() { return response }
        let truncated: HTTPParseError
        switch framing {
        case .head:
            guard buffer.count > consumed else { return nil }
            truncated = .badRequest("connection closed in the middle of a response head")
        case .untilClose:
            return completeResponse()
        case .length, .chunked:
            truncated = .badRequest("connection closed before the response body was complete")
        case .failed(let error):
            throw error
        }
        framing = .failed(truncated)
        throw truncated
    }

    private mutating func advance() throws(HTTPParseError) -> HTTPResponse? {
        while true {
            switch framing {
            case .head:
                guard let head = try readHead() else { return nil }
                response = head
                // Interim responses precede the final one (RFC 9110 §15.2); we never ask to switch
                // protocols, so a 101 cannot be followed.
                if (100...199).contains(head.status) {
                    if head.status == 101 { throw .badRequest("unexpected 101 Switching Protocols") }
                    continue
                }
                framing = try Self.framing(
                    of: head, maxBodyBytes: maxBodyBytes, maxHeaderBytes: maxHeaderBytes)
            case .length(let remaining):
                let available = min(remaining, buffer.count - consumed)
                response.body.append(contentsOf: buffer[consumed..<(consumed + available)])
                consumed += available
                guard available == remaining else {
                    framing = .length(remaining: remaining - available)
                    return nil
                }
                return completeResponse()
            case .chunked(var decoder):
                framing = .head  // while `decoder` is mutated, so it is not copied
                consumed += try buffer.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
                    try decoder.decode(
                        UnsafeBufferPointer(rebasing: bytes[consumed...]), into: &response.body)
                }
                guard decoder.isComplete else {
                    framing = .chunked(decoder)
                    return nil
                }
                return completeResponse()
            case .untilClose:
                response.body.append(contentsOf: buffer[consumed...])
                consumed = buffer.count
                if response.body.count > maxBodyBytes {
                    throw HTTPParseError(status: 413, reason: "body longer than \(maxBodyBytes) bytes")
                }
                return nil
            case .failed(let error):
                throw error
            }
        }
    }

    private mutating func readHead() throws(HTTPParseError) -> HTTPResponse? {
        let head: HTTPResponse? = try buffer.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
            let unread = UnsafeBufferPointer(rebasing: bytes[consumed...])
            guard try scanner.scan(unread) else { return nil }
            let head = UnsafeBufferPointer(rebasing: unread[..<scanner.position])
            let status = try Self.status(UnsafeBufferPointer(rebasing: head[scanner.lines[0]]))
            return HTTPResponse(
                status: status, headers: try FieldLines.parse(head, lines: scanner.lines.dropFirst()))
        }
        guard let head else { return nil }
        consumed += scanner.position
        scanner = Self.headScanner(maxHeaderBytes)
        return head
    }

    /// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4); the reason is
    /// ignored, and a missing final space tolerated.
    private static func status(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int {
        guard line.count >= 12, line[8] == ASCII.space, line[9..<12].allSatisfy(ASCII.isDigit),
            line.count == 12 || line[12] == ASCII.space
        else {
            throw .badRequest("malformed status line")
        }
        _ = try RequestLine.versionMinor(line[..<8])
        guard line[12...].allSatisfy(ASCII.isFieldContent) else {
            throw .badRequest("control character in the reason phrase")
        }
        let status = line[9..<12].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard (100...599).contains(status) else { throw .badRequest("status code \(status) out of range") }
        return status
    }

    /// How the body is delimited (RFC 9112 §6.3), refusing Transfer-Encoding with Content-Length and any
    /// coding but plain "chunked". HEAD is never sent, so every response but 204 and 304 may have a body.
    private static func framing(
        of head: HTTPResponse, maxBodyBytes: Int, maxHeaderBytes: Int
    ) throws(HTTPParseError) -> Framing {
        if head.status == 204 || head.status == 304 { return .length(remaining: 0) }
        let contentLength = try FieldLines.contentLength(head.headers)
        if let codings = FieldLines.transferCodings(head.headers) {
            if contentLength != nil { throw .badRequest("both Content-Length and Transfer-Encoding") }
            guard codings.count == 1, codings[0].equalsIgnoringASCIICase("chunked") else {
                throw HTTPParseError(
                    status: 501, reason: "unsupported Transfer-Encoding \(codings.joined(separator: ", "))")
            }
            return .chunked(ChunkedBodyDecoder(maxBodyBytes: maxBodyBytes, maxTrailerBytes: maxHeaderBytes))
        }
        guard let contentLength else { return .untilClose }
        if contentLength > maxBodyBytes {
            throw HTTPParseError(status: 413, reason: "body longer than \(maxBodyBytes) bytes")
        }
        return .length(remaining: contentLength)
    }

    private mutating func completeResponse() -> HTTPResponse {
        let complete = response
        response = HTTPResponse(status: 0)
        framing = .head
        return complete
    }

    private static func headScanner(_ maxHeaderBytes: Int) -> HeadScanner {
        // The byte limit bounds the number of fields well enough for a client.
        HeadScanner(
            kind: .message,
            limits: .init(maxBytes: maxHeaderBytes, maxFieldLines: maxHeaderBytes, maxTargetLength: nil))
    }

    /// Drops consumed bytes once they are at least half the buffer (amortised linear copying).
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
