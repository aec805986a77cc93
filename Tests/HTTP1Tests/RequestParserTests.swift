import Testing

@testable import HTTP1

@Suite struct RequestParserTests {
    @Test func parsesASimpleGet() throws {
        let parsed = parseRequests(
            "GET /v1/bindings?userId=u%2042 HTTP/1.1\r\nHost: localhost\r\nX-Trace-ID:  abc \r\n\r\n")
        #expect(parsed.error == nil)
        let request = try #require(parsed.messages.first)
        #expect(parsed.messages.count == 1)
        #expect(request.method == "GET")
        #expect(request.target == "/v1/bindings?userId=u%2042")
        #expect(request.path == "/v1/bindings")
        #expect(request.queryValue("userId") == "u 42")
        #expect(request.versionMinor == 1)
        #expect(summary(request.headers) == "[Host: localhost][X-Trace-ID: abc]")
        #expect(request.headers["x-trace-id"] == "abc")
        #expect(request.body.isEmpty)
        #expect(request.keepAlive)
        #expect(!parsed.hasBufferedBytes)
    }

    @Test func readsAContentLengthBody() throws {
        let parsed = parseRequests("POST /cb/t HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        let request = try #require(parsed.messages.first)
        #expect(request.body == Array("hello".utf8))
        #expect(!parsed.hasBufferedBytes)
    }

    @Test func waitsForTheWholeBody() {
        let parsed = parseRequests("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhell")
        #expect(parsed.messages.isEmpty)
        #expect(parsed.error == nil)
        #expect(parsed.hasBufferedBytes)
    }

    @Test func asksForMoreUntilTheHeadEnds() {
        let parsed = parseRequests("GET / HTTP/1.1\r\nHost: a\r\n")
        #expect(parsed.messages.isEmpty)
        #expect(parsed.error == nil)
        #expect(parsed.hasBufferedBytes)
    }

    @Test func hasNoBufferedBytesBeforeARequestStarts() throws {
        var parser = RequestParser()
        #expect(!parser.hasBufferedBytes)
        #expect(try parser.next() == nil)
        parser.append(Array("G".utf8))
        #expect(parser.hasBufferedBytes)
        // A body being awaited counts as started, even with nothing buffered.
        parser = RequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.hasBufferedBytes)
    }

    @Test func acceptsRawBufferInput() throws {
        var parser = RequestParser()
        Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8).withUnsafeBytes { parser.append($0) }
        #expect(try parser.next()?.path == "/")
    }

    @Test func parsesPipelinedRequestsAndKeepsTheRest() {
        let parsed = parseRequests(
            "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /c HTTP/1.0\r\n\r\n"
                + "GET /d HTTP/1.1\r\nHo")
        #expect(parsed.error == nil)
        #expect(parsed.messages.map(\.path) == ["/a", "/b", "/c"])
        #expect(parsed.messages.map(\.body) == [Array("abc".utf8), [], []])
        #expect(parsed.hasBufferedBytes)
    }

    @Test func eachRequestOnAConnectionStartsAFreshHead() throws {
        // The head scanner is reused between requests: nothing of one head may leak into the next.
        var parser = RequestParser()
        parser.append(
            Array("POST /first HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n".utf8))
        let first = try #require(try parser.next())
        #expect(first.headers.count == 4)
        parser.append(Array("GET /second HTTP/1.0\r\n\r\n".utf8))
        let second = try #require(try parser.next())
        #expect(second.path == "/second")
        #expect(second.headers.count == 0)
        #expect(second.versionMinor == 0)
        // The third request's target is over the limit: still a 414, as on a fresh connection.
        parser.append(Array("GET /\(String(repeating: "x", count: 9000)) HTTP/1.1\r\n".utf8))
        do {
            _ = try parser.next()
            Issue.record("an overlong target was accepted")
        } catch {
            #expect(error.status == 414)
        }
    }

    @Test func parsesManyPipelinedRequestsInOneBuffer() throws {
        var input = ""
        for index in 0..<2000 { input += "GET /\(index) HTTP/1.1\r\nHost: a\r\n\r\n" }
        var parser = RequestParser()
        parser.append(Array(input.utf8))
        var paths: [String] = []
        while let request = try parser.next() {
            paths.append(request.path)
            parser.append([])  // lets the parser drop what it has returned
        }
        #expect(paths.count == 2000)
        #expect(paths.last == "/1999")
    }

    @Test func skipsEmptyLinesBeforeTheRequestLine() {
        let parsed = parseRequests("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(parsed.messages.map(\.path) == ["/"])
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false),
    ])
    func decidesKeepAlive(input: String, keepAlive: Bool) throws {
        let request = try #require(parseRequests(input).messages.first)
        #expect(request.keepAlive == keepAlive)
    }

    @Test func acceptsTheFormsOfRequestTarget() throws {
        let options = try #require(parseRequests("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").messages.first)
        #expect(options.path == "*")
        let absolute = try #require(
            parseRequests("GET http://Example.com:80/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n").messages
                .first)
        #expect(absolute.path == "/a/b")
        #expect(absolute.queryValue("x") == "1")
        let bare = try #require(
            parseRequests("GET HTTPS://example.com HTTP/1.1\r\nHost: a\r\n\r\n").messages.first)
        #expect(bare.path == "/")
    }

    @Test func keepsHTTP10AndHostlessRequests() throws {
        let request = try #require(parseRequests("GET /x HTTP/1.0\r\n\r\n").messages.first)
        #expect(request.versionMinor == 0)
        #expect(request.headers.count == 0)
    }

    @Test func acceptsUTF8AndTabsInFieldValues() throws {
        let request = try #require(
            parseRequests("GET / HTTP/1.1\r\nHost: a\r\nX-Name: \t张 三\t\r\nX-Empty:\r\n\r\n").messages.first)
        #expect(request.headers["X-Name"] == "张 三")
        #expect(request.headers["X-Empty"] == "")
    }

    @Test func acceptsAContentLengthWithLeadingZeros() throws {
        let request = try #require(
            parseRequests("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc").messages.first)
        #expect(request.body.count == 3)
    }

    /// Each input is refused for the rule given (RFC 9112 §2–§6), and so with that rule's status.
    @Test(
        arguments: [
            // Request line
            ("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", .methodNotToken),
            (" / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine),
            ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine),
            ("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .malformedRequestLine),
            ("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidByteInRequestLine),
            ("GET /\u{1} HTTP/1.1\r\nHost: a\r\n\r\n", .invalidByteInRequestLine),
            ("GET /\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", .invalidByteInRequestLine),
            ("GET /é HTTP/1.1\r\nHost: a\r\n\r\n", .invalidByteInRequestLine),
            ("GET / HTTP/1.1\r\n", nil),  // incomplete, not refused (checked below as "asks for more")
            ("GET foo HTTP/1.1\r\nHost: a\r\n\r\n", .malformedTarget),
            ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", .asteriskTargetWithoutOPTIONS),
            ("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", .fragmentInTarget),
            ("GET http:///a HTTP/1.1\r\nHost: a\r\n\r\n", .absoluteTargetWithoutHost),
            ("CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", .malformedTarget),
            ("GET /\r\nHost: a\r\n\r\n", .malformedRequestLine),
            ("GET / http/1.1\r\nHost: a\r\n\r\n", .malformedVersion),
            ("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", .malformedVersion),
            ("GET / HTTP/11\r\nHost: a\r\n\r\n", .malformedVersion),
            ("GET / HTTP/1.a\r\nHost: a\r\n\r\n", .malformedVersion),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
            ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", .unsupportedVersion),
            ("GET / HTTP/0.9\r\nHost: a\r\n\r\n", .unsupportedVersion),
            // Line endings
            ("GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLF),
            ("GET / HTTP/1.1\r\nHost: a\n\n", .bareLF),
            ("GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLF),
            ("GET / HTTP/1.1\rHost: a\r\n\r\n", .bareCR),
            ("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", .bareCR),
            ("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .bareLF),
            // Field lines
            ("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", .fieldNameNotToken),
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .whitespaceBeforeColon),
            ("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", .whitespaceBeforeColon),
            ("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", .fieldNameNotToken),
            ("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", .fieldLineWithoutColon),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", .obsFold),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", .obsFold),
            ("GET / HTTP/1.1\r\n Host: a\r\n\r\n", .obsFold),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{0}c\r\n\r\n", .invalidFieldValue(name: "X-A")),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{1B}c\r\n\r\n", .invalidFieldValue(name: "X-A")),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{7F}\r\n\r\n", .invalidFieldValue(name: "X-A")),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-Ä: b\r\n\r\n", .fieldNameNotToken),
            // Host
            ("GET / HTTP/1.1\r\n\r\n", .missingHost),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", .repeatedHost),
            ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .invalidHost),
            ("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .invalidHost),
            ("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", .invalidHost),
            // Framing
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", .malformedContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .malformedContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n", .malformedContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", .malformedContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", .malformedContentLength),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                .malformedContentLength
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
                .repeatedContentLength
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
                .unsupportedTransferCoding("gzip")
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                .unsupportedTransferCoding("gzip, chunked")
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                .unsupportedTransferCoding("chunked, gzip")
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                .unsupportedTransferCoding("chunked, chunked")
            ),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", .unsupportedTransferCoding("")),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .transferEncodingInHTTP10),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX",
                .chunkDataWithoutCRLF
            ),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", .malformedChunkSize),
            // Query
            ("GET /?a=%zz HTTP/1.1\r\nHost: a\r\n\r\n", .malformedQuery),
            ("GET /?a=%4 HTTP/1.1\r\nHost: a\r\n\r\n", .malformedQuery),
            ("GET /?a=%FF HTTP/1.1\r\nHost: a\r\n\r\n", .malformedQuery),
        ] as [(String, HTTPParseError?)])
    func refuses(input: String, error: HTTPParseError?) {
        let parsed = parseRequests(input)
        #expect(parsed.messages.isEmpty)
        #expect(parsed.error == error, "\(parsed.error?.description ?? "no error")")
    }

    /// Request smuggling classics (CL.TE, TE.TE, CL.CL): each is refused before any body is read.
    @Test(arguments: [
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n Content-Length: 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\nX: y\r\n\r\nhello",
    ])
    func refusesSmuggling(input: String) {
        let parsed = parseRequests(input)
        #expect(parsed.messages.isEmpty)
        #expect(parsed.status == 400)
    }

    // MARK: Chunked bodies (RFC 9112 §7.1)

    @Test func decodesAChunkedBodyAndDropsItsTrailers() throws {
        let parsed = parseRequests(
            "POST /c HTTP/1.1\r\nHost: a\r\ntransfer-encoding: CHUNKED\r\n\r\n"
                + "5;name=\"a b\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n"
                + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(parsed.error == nil)
        #expect(parsed.messages.map(\.path) == ["/c", "/next"])
        let request = try #require(parsed.messages.first)
        #expect(request.body == Array("hello world".utf8))
        #expect(request.headers["X-Checksum"] == nil)
        #expect(request.keepAlive)
    }

    @Test func aChunkedBodyInProgressIsARequestInProgress() {
        let parsed = parseRequests(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        #expect(parsed.messages.isEmpty)
        #expect(parsed.error == nil)
        #expect(parsed.hasBufferedBytes)
    }

    @Test func theBodyLimitCountsDecodedBytes() {
        var limits = RequestParser.Limits()
        limits.maxBodyBytes = 10
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        // Ten bytes of data in more than ten bytes of framing: within the limit.
        let atLimit = parseRequests(
            head + "5;\(String(repeating: "x", count: 40))\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
            limits: limits)
        #expect(atLimit.messages.first?.body == Array("0123456789".utf8))
        let over = parseRequests(head + "5\r\n01234\r\n6\r\n", limits: limits)
        #expect(over.status == 413, "\(over.error?.description ?? "no error")")
    }

    @Test func chunkSizeLinesAndTrailersAreBounded() {
        var limits = RequestParser.Limits()
        limits.maxHeaderBytes = 256
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        let longSizeLine = parseRequests(head + "1;" + String(repeating: "e", count: 5000), limits: limits)
        #expect(longSizeLine.status == 400)
        let longTrailers = parseRequests(
            head + "0\r\nX-T: \(String(repeating: "t", count: 300))\r\n\r\n", limits: limits)
        #expect(longTrailers.status == 431)
    }

    // MARK: Expect: 100-continue (RFC 9110 §10.1.1)

    @Test func aHeadThatExpects100ContinueIsOfferedOnceBeforeItsBody() throws {
        var parser = RequestParser()
        parser.append(
            Array("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        let head = parser.takeContinueExpectation()
        #expect(head?.path == "/e")
        #expect(parser.takeContinueExpectation() == nil)
        parser.append(Array("abc".utf8))
        #expect(try parser.next()?.body == Array("abc".utf8))
    }

    @Test func noContinueIsOwedForABodyAlreadyReceivedOrNoBodyOrHTTP10() throws {
        for input in [
            "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
            "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n",
        ] {
            var parser = RequestParser()
            parser.append(Array(input.utf8))
            _ = try parser.next()
            #expect(parser.takeContinueExpectation() == nil, "\(input)")
        }
        var chunked = RequestParser()
        chunked.append(
            Array(
                "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .utf8))
        #expect(try chunked.next() == nil)
        #expect(chunked.takeContinueExpectation() != nil)
    }

    @Test func errorsAreFinal() throws {
        var parser = RequestParser()
        parser.append(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.append(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        let error = #expect(throws: HTTPParseError.self) { try parser.next() }
        #expect(error?.status == 400)
        #expect(error == .missingHost)
    }

    @Test func errorsNameTheRuleTheyEnforce() {
        let error = parseRequests(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).error
        #expect(error == .contentLengthWithTransferEncoding)
        #expect(error?.description == "HTTP 400 Bad Request: both Content-Length and Transfer-Encoding")
    }

    // MARK: Limits

    @Test func refusesABodyOverTheLimitBeforeReadingIt() {
        var limits = RequestParser.Limits()
        limits.maxBodyBytes = 10
        #expect(
            parseRequests("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits: limits).status
                == 413)
        let atLimit = parseRequests(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits)
        #expect(atLimit.messages.first?.body.count == 10)
    }

    @Test func refusesALongTargetWith414() {
        var limits = RequestParser.Limits()
        limits.maxTargetLength = 20
        let atLimit = "/" + String(repeating: "a", count: 19)
        #expect(
            parseRequests("GET \(atLimit) HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits).messages.count == 1)
        #expect(parseRequests("GET \(atLimit)a HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits).status == 414)
        // Refused before the request line ends.
        #expect(parseRequests("GET \(atLimit)a", limits: limits).status == 414)
        #expect(parseRequests("GET \(atLimit)", limits: limits).error == nil)
    }

    @Test func prefers414To431ForAnOverlongRequestLine() {
        var limits = RequestParser.Limits()
        limits.maxTargetLength = 100
        limits.maxHeaderBytes = 150
        let target = "/" + String(repeating: "a", count: 200)
        #expect(parseRequests("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits).status == 414)
        let headers = String(repeating: "X: v\r\n", count: 30)
        #expect(
            parseRequests("GET /\(String(repeating: "a", count: 90)) HTTP/1.1\r\n\(headers)", limits: limits)
                .status == 431)
    }

    @Test func refusesAHeaderSectionOverTheByteLimit() {
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX: "
        var limits = RequestParser.Limits()
        limits.maxHeaderBytes = 64
        let fits = head + String(repeating: "v", count: 64 - head.utf8.count - 4) + "\r\n\r\n"
        #expect(fits.utf8.count == 64)
        #expect(parseRequests(fits, limits: limits).messages.count == 1)
        let over = head + String(repeating: "v", count: 64 - head.utf8.count - 3) + "\r\n\r\n"
        #expect(parseRequests(over, limits: limits).status == 431)
        // A line that never ends is refused once it passes the limit.
        #expect(parseRequests(head + String(repeating: "v", count: 100), limits: limits).status == 431)
        // So are endless empty lines before a request.
        #expect(parseRequests(String(repeating: "\r\n", count: 40), limits: limits).status == 431)
    }

    @Test func refusesTooManyHeaderFields() {
        var limits = RequestParser.Limits()
        limits.maxHeaderCount = 5
        let fields = (1...4).map { "X-\($0): v\r\n" }.joined()
        #expect(
            parseRequests("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n", limits: limits).messages.count == 1)
        #expect(
            parseRequests("GET / HTTP/1.1\r\nHost: a\r\n\(fields)X-5: v\r\n\r\n", limits: limits).status
                == 431)
    }

    @Test func hasDefaultLimits() {
        let limits = RequestParser.Limits()
        #expect(limits.maxHeaderBytes == 16 * 1024)
        #expect(limits.maxHeaderCount == 100)
        #expect(limits.maxTargetLength == 8 * 1024)
        #expect(limits.maxBodyBytes == 64 * 1024)
    }

    // MARK: Hostile input

    /// Random bytes never make a request: the parser throws or asks for more, the same way whether the
    /// bytes come at once or one by one.
    @Test func garbageNeverMakesARequest() {
        var random = SplitMix64(state: 0x5EED)
        let alphabet = Array("GET /?%&=: HTTP/1.1\r\n\t\0Host:Content-Length: 5chunked\u{7F}é".utf8)
        for round in 0..<400 {
            let length = Int.random(in: 0..<200, using: &random)
            let bytes: [UInt8] = (0..<length).map { _ in
                round.isMultiple(of: 2)
                    ? UInt8.random(in: 0...255, using: &random) : alphabet.randomElement(using: &random)!
            }
            let parsed = parseRequests(bytes)
            #expect(parsed.messages.isEmpty, "round \(round)")
            if let status = parsed.status { #expect([400, 413, 414, 431, 501, 505].contains(status)) }
        }
    }

    /// A valid request with one byte changed or cut short parses identically at once and byte by byte.
    @Test func mutatedRequestsParseTheSameWayInAnySplit() {
        var random = SplitMix64(state: 42)
        let valid = Array(
            "POST /cb/tok?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\nHost: b\r\n\r\n"
                .utf8)
        for _ in 0..<300 {
            var bytes = valid
            bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            bytes.removeLast(Int.random(in: 0..<10, using: &random))
            let parsed = parseRequests(bytes)
            let split = Int.random(in: 0...bytes.count, using: &random)
            let halves = feedRequests([Array(bytes[..<split]), Array(bytes[split...])])
            #expect(parsed.messages.map(summary) == halves.messages.map(summary))
            #expect(parsed.status == halves.status)
        }
    }
}
