import Testing

@testable import HTTP1

@Suite struct SerializationTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func serialisesAResponseWithAComputedContentLength() {
        let response = HTTPResponse(
            status: 200, headers: HTTPHeaders([("Content-Type", "text/plain"), ("X-b", "1")]),
            body: Array("SUCCESS".utf8))
        #expect(
            text(response.serialized(keepAlive: true))
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-b: 1\r\nContent-Length: 7\r\n\r\nSUCCESS"
        )
    }

    @Test func closesWhenNotKeepingAlive() {
        let response = HTTPResponse(status: 404, headers: HTTPHeaders([("connection", "keep-alive")]))
        #expect(
            text(response.serialized(keepAlive: false))
                == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(
            text(response.serialized(keepAlive: true))
                == "HTTP/1.1 404 Not Found\r\nconnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 1_000, 12_345, 1 << 20])
    func contentLengthIsTheBodysSizeInDecimal(size: Int) {
        let response = HTTPResponse(status: 503, body: Array(repeating: 0x41, count: size))
        let head = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: \(size)\r\n\r\n"
        #expect(Array(response.serialized(keepAlive: true).prefix(head.utf8.count)) == Array(head.utf8))
        #expect(response.serialized(keepAlive: true).count == head.utf8.count + size)
    }

    @Test func ownsTheFraming() {
        let headers = HTTPHeaders([("Content-Length", "99"), ("Transfer-Encoding", "chunked")])
        let response = HTTPResponse(status: 200, headers: headers, body: [0x41])
        #expect(text(response.serialized(keepAlive: true)) == "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA")
    }

    @Test(arguments: [204, 304, 100])
    func sendsNeitherLengthNorBodyWhereNoneIsAllowed(status: Int) {
        let response = HTTPResponse(status: status, body: [0x41])
        let expected = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(status))\r\n\r\n"
        #expect(text(response.serialized(keepAlive: true)) == expected)
    }

    @Test func leavesAnUnknownReasonEmpty() {
        #expect(text(HTTPResponse(status: 299).serialized(keepAlive: true)).hasPrefix("HTTP/1.1 299 \r\n"))
    }

    @Test func cannotBeSplitByItsHeaders() {
        let headers = HTTPHeaders([
            ("X-Echo", "a\r\nSet-Cookie: x=1\r\n\r\nHTTP/1.1 200 OK"), ("Bad Name", "v"), ("X:Y", "v"),
        ])
        let serialized = text(HTTPResponse(status: 400, headers: headers).serialized(keepAlive: true))
        #expect(
            serialized
                == "HTTP/1.1 400 Bad Request\r\nX-Echo: a  Set-Cookie: x=1    HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        )
    }

    @Test func roundTripsThroughTheResponseParser() throws {
        let response = HTTPResponse(
            status: 502, headers: HTTPHeaders([("Content-Type", "application/json")]), body: Array("{}".utf8))
        var parser = ResponseParser()
        parser.append(response.serialized(keepAlive: false))
        let parsed = try #require(try parser.next())
        #expect(
            summary(parsed)
                == "502 [Content-Type: application/json][Content-Length: 2][Connection: close] body=[123, 125]"
        )
    }

    @Test func serialisesARequestWithNamesExactlyAsWritten() {
        let headers = HTTPHeaders([
            ("Host", "api.example.com"), ("businessId", "754e"), ("signType", "MD5"), ("content-length", "7"),
        ])
        let bytes = serializeRequest(
            method: "POST", target: "/v1/openapi/auth/alipay/url", headers: headers, body: Array("{}".utf8))
        #expect(
            text(bytes)
                == "POST /v1/openapi/auth/alipay/url HTTP/1.1\r\nHost: api.example.com\r\nbusinessId: 754e\r\n"
                + "signType: MD5\r\nContent-Length: 2\r\n\r\n{}")
    }

    @Test(arguments: [("POST", true), ("PUT", true), ("GET", false), ("DELETE", false)])
    func sendsContentLengthForAnEmptyBodyOnlyWhenTheMethodExpectsOne(method: String, expected: Bool) {
        let bytes = text(serializeRequest(method: method, target: "/", headers: HTTPHeaders(), body: []))
        #expect(bytes.contains("Content-Length: 0\r\n") == expected)
        #expect(bytes.hasSuffix("\r\n\r\n"))
    }

    @Test func escapesTargetBytesThatWouldBreakTheRequestLine() {
        let bytes = serializeRequest(
            method: "GET", target: "/v1/bindings?userId=a b\r\nX:\u{7F}é", headers: HTTPHeaders(), body: [])
        #expect(text(bytes) == "GET /v1/bindings?userId=a%20b%0D%0AX:%7F%C3%A9 HTTP/1.1\r\n\r\n")
    }

    @Test func roundTripsThroughTheRequestParser() throws {
        let headers = HTTPHeaders([("Host", "localhost"), ("Content-Type", "application/json")])
        let body = Array(#"{"userId":"u-42"}"#.utf8)
        var parser = RequestParser()
        parser.append(
            serializeRequest(method: "POST", target: "/v1/auth-url?x=1", headers: headers, body: body))
        let request = try #require(try parser.next())
        #expect(request.method == "POST")
        #expect(request.path == "/v1/auth-url")
        #expect(request.headers["content-length"] == String(body.count))
        #expect(request.body == body)
    }

    @Test func fieldNamesCompareIgnoringASCIICaseOnly() {
        #expect("Content-Length".equalsIgnoringASCIICase("content-LENGTH"))
        #expect("Content-Length".equalsIgnoringASCIICase("Content-Length"[...]))
        #expect(!"Content-Length".equalsIgnoringASCIICase("Content-Lengtx"))
        #expect(!"Content-Length".equalsIgnoringASCIICase("Content-Length "))
        #expect(!"Sign".equalsIgnoringASCIICase("Signs"))
        #expect(!"É".equalsIgnoringASCIICase("é"), "only ASCII letters fold")
        #expect(!"K".equalsIgnoringASCIICase("\u{212A}"), "the Kelvin sign is not a K")
        #expect("".equalsIgnoringASCIICase(""))
    }
}
