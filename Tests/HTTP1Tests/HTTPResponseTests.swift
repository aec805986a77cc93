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
}
