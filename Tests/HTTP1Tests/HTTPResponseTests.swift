import Testing

@testable import HTTP1

@Suite struct HTTPResponseTests {
    @Test(arguments: [
        (200, "OK"), (204, "No Content"), (400, "Bad Request"), (404, "Not Found"), (409, "Conflict"),
        (410, "Gone"), (413, "Content Too Large"), (414, "URI Too Long"), (429, "Too Many Requests"),
        (431, "Request Header Fields Too Large"), (501, "Not Implemented"), (502, "Bad Gateway"),
        (503, "Service Unavailable"), (504, "Gateway Timeout"), (505, "HTTP Version Not Supported"),
        (299, ""), (999, ""),
    ])
    func namesReasonPhrases(status: Int, phrase: String) {
        #expect(HTTPResponse.reasonPhrase(status) == phrase)
    }

    @Test func defaultsToNoHeadersAndNoBody() {
        let response = HTTPResponse(status: 204)
        #expect(response.headers.count == 0)
        #expect(response.body.isEmpty)
    }

    @Test func aPrerenderedResponseSerializesAsItWouldHaveAndForgetsOnChange() {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain; charset=utf-8")
        let plain = HTTPResponse(status: 200, headers: headers, body: Array("SUCCESS".utf8))
        var prerendered = plain.prerendered()
        #expect(prerendered.serialized(keepAlive: true) == plain.serialized(keepAlive: true))
        #expect(prerendered.serialized(keepAlive: false) == plain.serialized(keepAlive: false))
        #expect(
            String(decoding: prerendered.serialized(keepAlive: false), as: UTF8.self).contains(
                "Connection: close"))
        // Any change drops the stored bytes.
        prerendered.status = 503
        #expect(
            String(decoding: prerendered.serialized(keepAlive: true), as: UTF8.self).hasPrefix(
                "HTTP/1.1 503 "))
        var withHeader = plain.prerendered()
        withHeader.headers.add("Retry-After", "1")
        #expect(
            String(decoding: withHeader.serialized(keepAlive: true), as: UTF8.self).contains(
                "Retry-After: 1\r\n"))
        var withBody = plain.prerendered()
        withBody.body = Array("FAIL".utf8)
        #expect(
            String(decoding: withBody.serialized(keepAlive: true), as: UTF8.self).hasSuffix("\r\n\r\nFAIL"))
    }
}
