import Testing

@testable import HTTP1

/// What a parser made of some input: the messages, the error that ended it, and what was left over.
struct Parsed<Message> {
    var messages: [Message] = []
    var error: HTTPParseError?
    var hasBufferedBytes = false

    var status: Int? { error?.status }
}

/// Feeds `input` to a request parser all at once and one byte at a time, expects both ways to yield the
/// same requests or the same error, and returns what the all-at-once parser made of it.
func parseRequests(
    _ input: String, limits: RequestParser.Limits = .init(), sourceLocation: SourceLocation = #_sourceLocation
) -> Parsed<HTTPRequest> {
    parseRequests(Array(input.utf8), limits: limits, sourceLocation: sourceLocation)
}

func parseRequests(
    _ input: [UInt8], limits: RequestParser.Limits = .init(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> Parsed<HTTPRequest> {
    let whole = feedRequests([input], limits: limits)
    let bytewise = feedRequests(input.map { [$0] }, limits: limits)
    #expect(whole.messages.map(summary) == bytewise.messages.map(summary), sourceLocation: sourceLocation)
    #expect(whole.status == bytewise.status, sourceLocation: sourceLocation)
    #expect(whole.hasBufferedBytes == bytewise.hasBufferedBytes, sourceLocation: sourceLocation)
    return whole
}

func feedRequests(_ chunks: [[UInt8]], limits: RequestParser.Limits = .init()) -> Parsed<HTTPRequest> {
    var parser = RequestParser(limits: limits)
    var parsed = Parsed<HTTPRequest>()
    feeding: for chunk in chunks {
        parser.append(chunk)
        do {
            while let request = try parser.next() { parsed.messages.append(request) }
        } catch {
            parsed.error = error
            break feeding
        }
    }
    parsed.hasBufferedBytes = parser.hasBufferedBytes
    return parsed
}

/// Feeds `input` to a response parser all at once and one byte at a time, then signals the end of the
/// connection (`finish()`) if `closing`; expects both ways to agree.
func parseResponses(
    _ input: String, closing: Bool = false, maxHeaderBytes: Int = 64 * 1024,
    maxBodyBytes: Int = 4 * 1024 * 1024,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Parsed<HTTPResponse> {
    let bytes = Array(input.utf8)
    let make = { ResponseParser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes) }
    let whole = feedResponses([bytes], closing: closing, parser: make())
    let bytewise = feedResponses(bytes.map { [$0] }, closing: closing, parser: make())
    #expect(whole.messages.map(summary) == bytewise.messages.map(summary), sourceLocation: sourceLocation)
    #expect(whole.status == bytewise.status, sourceLocation: sourceLocation)
    return whole
}

func feedResponses(_ chunks: [[UInt8]], closing: Bool, parser: ResponseParser) -> Parsed<HTTPResponse> {
    var parser = parser
    var parsed = Parsed<HTTPResponse>()
    do {
        for chunk in chunks {
            parser.append(chunk)
            while let response = try parser.next() { parsed.messages.append(response) }
        }
        if closing, let response = try parser.finish() { parsed.messages.append(response) }
    } catch {
        parsed.error = error
    }
    return parsed
}

func summary(_ request: HTTPRequest) -> String {
    let query = request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    return
        "\(request.method) \(request.target) path=\(request.path) query=\(query) 1.\(request.versionMinor) "
        + "\(summary(request.headers)) body=\(request.body) keepAlive=\(request.keepAlive)"
}

func summary(_ response: HTTPResponse) -> String {
    "\(response.status) \(summary(response.headers)) body=\(response.body)"
}

func summary(_ headers: some Sequence<(name: String, value: String)>) -> String {
    headers.map { "[\($0.name): \($0.value)]" }.joined()
}

/// A small deterministic generator (SplitMix64), so random tests fail the same way every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
