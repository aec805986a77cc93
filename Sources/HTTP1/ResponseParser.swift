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
        switch framing {
        case .head:
            guard buffer.count > consumed else { return nil }
        case .untilClose:
            return completeResponse()
        case .length, .chunked:
            break
        case .failed(let error):
            throw error
        }
        framing = .failed(.truncated)
        throw .truncated
    }

    private mutating func advance() throws(HTTPParseError) -> HTTPResponse? {
        while true {
            switch framing {
            case .head:
                guard let (status, versionMinor, headers) = try readHead() else { return nil }
                // Interim responses precede the final one (RFC 9110 §15.2); we never ask to switch
                // protocols, so a 101 cannot be followed.
                if (100...199).contains(status) {
                    if status == 101 { throw .unexpectedSwitchingProtocols }
                    continue
                }
                response = HTTPResponse(status: status, headers: HTTPHeaders(headers))
                // HEAD is never sent, so every response but 204 and 304 may have a body (RFC 9112 §6.3).
                switch status == 204 || status == 304
                    ? .length(0)
                    : try BodyFraming(headers, versionMinor: versionMinor, maxBodyBytes: maxBodyBytes)
                {
                case .length(let length): framing = .length(remaining: length)
                case .chunked:
                    framing = .chunked(
                        ChunkedBodyDecoder(maxBodyBytes: maxBodyBytes, maxTrailerBytes: maxHeaderBytes))
                case .unframed: framing = .untilClose
                }
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
                if response.body.count > maxBodyBytes { throw .bodyTooLarge(limit: maxBodyBytes) }
                return nil
            case .failed(let error):
                throw error
            }
        }
    }

    /// The next head's status, version and fields, or nil until it is complete.
    private mutating func readHead() throws(HTTPParseError) -> (
        status: Int, versionMinor: Int, ReceivedHeaders
    )? {
        let head: (Int, Int, ReceivedHeaders)? = try buffer.withUnsafeBufferPointer {
            bytes throws(HTTPParseError) in
            let unread = UnsafeBufferPointer(rebasing: bytes[consumed...])
            guard try scanner.scan(unread) else { return nil }
            let head = UnsafeBufferPointer(rebasing: unread[..<scanner.position])
            let (status, versionMinor) = try Self.statusLine(head[scanner.lines[0]])
            return (status, versionMinor, try FieldLines.parse(head, lines: scanner.lines.dropFirst()))
        }
        guard let head else { return nil }
        consumed += scanner.position
        scanner = Self.headScanner(maxHeaderBytes)
        return head
    }

    /// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4); the reason is
    /// ignored, and a missing final space tolerated.
    private static func statusLine(
        _ line: Slice<UnsafeBufferPointer<UInt8>>
    ) throws(HTTPParseError) -> (status: Int, versionMinor: Int) {
        let start = line.startIndex
        let code = line.dropFirst(9).prefix(3)
        guard line.count >= 12, line[start + 8] == ASCII.space, code.allSatisfy(ASCII.isDigit),
            line.count == 12 || line[start + 12] == ASCII.space
        else {
            throw .malformedStatusLine
        }
        let versionMinor = try HTTPVersion.minor(line.prefix(8))
        guard line.dropFirst(12).allSatisfy(ASCII.isFieldContent) else { throw .malformedStatusLine }
        let status = code.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard (100...599).contains(status) else { throw .malformedStatusLine }
        return (status, versionMinor)
    }

    private mutating func completeResponse() -> HTTPResponse {
        let complete = response
        response = HTTPResponse(status: 0)
        framing = .head
        return complete
    }

    private static func headScanner(_ maxHeaderBytes: Int) -> HeadScanner {
        // The byte limit bounds the number of fields well enough for a client.
        HeadScanner(kind: .message, limits: .init(maxBytes: maxHeaderBytes, maxFieldLines: maxHeaderBytes))
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
