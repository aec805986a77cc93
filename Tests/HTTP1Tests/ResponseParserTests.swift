import Testing

@testable import HTTP1

@Suite struct ResponseParserTests {
    @Test func readsAContentLengthBody() throws {
        let parsed = parseResponses(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        #expect(parsed.error == nil)
        let response = try #require(parsed.messages.first)
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.body == Array("{}".utf8))
    }

    @Test func readsResponsesOneAfterAnother() {
        let parsed = parseResponses(
            "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
                + "HTTP/1.0 404 \r\nContent-Length: 1\r\n\r\nx"
                + "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
        #expect(parsed.error == nil)
        #expect(parsed.messages.map(\.status) == [204, 304, 404, 200])
        #expect(parsed.messages.map(\.body.count) == [0, 0, 1, 0])
    }

    @Test func skipsInterimResponses() {
        let parsed = parseResponses(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
        )
        #expect(parsed.messages.map(\.status) == [201])
        #expect(parsed.messages.first?.headers["Link"] == nil)
    }

    @Test func refusesSwitchingProtocols() {
        #expect(parseResponses("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n").status == 400)
    }

    @Test func readsABodyDelimitedByTheEndOfTheConnection() throws {
        let parsed = parseResponses(
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", closing: true)
        #expect(parsed.error == nil)
        #expect(parsed.messages.map(\.body) == [Array("until the end".utf8)])
    }

    @Test func waitsForTheEndOfTheConnection() throws {
        var parser = ResponseParser()
        parser.append(Array("HTTP/1.1 200 OK\r\n\r\nabc".utf8))
        #expect(try parser.next() == nil)
        parser.append(Array("def".utf8))
        #expect(try parser.next() == nil)
        #expect(try parser.finish()?.body == Array("abcdef".utf8))
        #expect(try parser.finish() == nil)
    }

    @Test func finishReturnsABufferedResponseThenNothing() throws {
        var parser = ResponseParser()
        #expect(try parser.finish() == nil)
        parser.append(Array("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx".utf8))
        #expect(try parser.finish()?.body == [UInt8(ascii: "x")])
        #expect(try parser.finish() == nil)
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: x\r\n",
        "HTTP/1.1 200 OK\r\nContent-Le",
        "HTTP/1.1 2",
    ])
    func refusesATruncatedResponseAtTheEnd(input: String) {
        let parsed = parseResponses(input, closing: true)
        #expect(parsed.messages.isEmpty)
        #expect(parsed.status == 400)
    }

    @Test func finishRepeatsAnEarlierError() {
        var parser = ResponseParser()
        parser.append(Array("HTTP/1.1 200 OK\nX: y\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        #expect(throws: HTTPParseError.self) { try parser.finish() }
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", 400),
        ("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab", 400),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 501),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", 501),
        // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message makes its framing faulty.
        ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", 400),
        ("HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", 400),
        ("HTTP/1.1 200 OK\nContent-Length: 0\n\n", 400),
        ("HTTP/1.1 200 OK\r\nX: \u{0}\r\n\r\n", 400),
        ("HTTP/1.1 200 O\u{1}K\r\n\r\n", 400),
        ("HTTP/2 200 OK\r\n\r\n", 400),
        ("HTTP/2.0 200 OK\r\n\r\n", 505),
        ("http/1.1 200 OK\r\n\r\n", 400),
        ("HTTP/1.1 20 OK\r\n\r\n", 400),
        ("HTTP/1.1 2000 OK\r\n\r\n", 400),
        ("HTTP/1.1 099 Low\r\n\r\n", 400),
        ("HTTP/1.1 600 High\r\n\r\n", 400),
        ("HTTP/1.1  200 OK\r\n\r\n", 400),
        ("HTTP/1.1 200OK\r\n\r\n", 400),
        ("SSH-2.0-OpenSSH_9.6\r\n\r\n", 400),
    ])
    func refusesMalformedResponses(input: String, status: Int) {
        let parsed = parseResponses(input, closing: true)
        #expect(parsed.messages.isEmpty)
        #expect(parsed.status == status, "\(parsed.error?.description ?? "no error")")
    }

    @Test func enforcesItsLimits() {
        #expect(
            parseResponses("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", maxBodyBytes: 10).status == 413)
        #expect(
            parseResponses("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", maxBodyBytes: 10)
                .messages.count == 1)
        #expect(
            parseResponses("HTTP/1.1 200 OK\r\n\r\n0123456789a", closing: true, maxBodyBytes: 10).status
                == 413)
        #expect(
            parseResponses("HTTP/1.1 200 OK\r\n\r\n0123456789", closing: true, maxBodyBytes: 10).messages
                .count == 1)
        let long = "HTTP/1.1 200 OK\r\nX: \(String(repeating: "v", count: 100))\r\n\r\n"
        #expect(parseResponses(long, maxHeaderBytes: 64).status == 431)
    }

    /// Random bytes never make a response and never crash, at once or byte by byte.
    @Test func garbageNeverMakesAResponse() {
        var random = SplitMix64(state: 0xC0FFEE)
        let alphabet = Array(
            "HTTP/1.1 200 OK\r\n\t\0Content-Length: 5Transfer-Encoding: chunked;=0aF\u{7F}".utf8)
        for round in 0..<400 {
            let length = Int.random(in: 0..<200, using: &random)
            let bytes: [UInt8] = (0..<length).map { _ in
                round.isMultiple(of: 2)
                    ? UInt8.random(in: 0...255, using: &random) : alphabet.randomElement(using: &random)!
            }
            let whole = feedResponses([bytes], closing: false, parser: ResponseParser())
            let bytewise = feedResponses(bytes.map { [$0] }, closing: false, parser: ResponseParser())
            #expect(whole.messages.isEmpty, "round \(round)")
            #expect(whole.status == bytewise.status, "round \(round)")
        }
    }
}
