import Testing

@testable import HTTP1

@Suite struct HTTPRequestTests {
    @Test func derivesPathQueryAndKeepAliveFromTheTarget() {
        let request = HTTPRequest(method: "GET", target: "/v1/requests/abc?wait=30&x=a+b")
        #expect(request.path == "/v1/requests/abc")
        #expect(request.queryValue("wait") == "30")
        #expect(request.queryValue("x") == "a b")
        #expect(request.queryValue("missing") == nil)
        #expect(request.versionMinor == 1)
        #expect(request.keepAlive)
        #expect(request.body.isEmpty)
    }

    @Test func honoursConnectionClose() {
        let request = HTTPRequest(method: "GET", target: "/", headers: HTTPHeaders([("Connection", "close")]))
        #expect(!request.keepAlive)
    }

    @Test func leavesOutAQueryThatIsNotFormEncoding() {
        let request = HTTPRequest(method: "GET", target: "/a%zz?b=%zz")
        #expect(request.path == "/a%zz")
        #expect(request.query.isEmpty)
    }

    @Test func queryValueIsCaseSensitiveAndReturnsTheFirst() {
        let request = HTTPRequest(method: "GET", target: "/?userId=1&userId=2&UserId=3")
        #expect(request.queryValue("userId") == "1")
        #expect(request.queryValue("UserId") == "3")
        #expect(request.queryValue("userid") == nil)
    }

    @Test func keepsTheBody() {
        let request = HTTPRequest(method: "POST", target: "/", body: [1, 2, 3])
        #expect(request.body == [1, 2, 3])
    }

    @Test(
        arguments: [
            ("/", "/", nil),
            ("/a?", "/a", ""),
            ("/a?b?c", "/a", "b?c"),
            ("*", "*", nil),
            ("http://h:80", "/", nil),
            ("http://h?q", "/", "q"),
            ("HTTPS://h/p/q?r", "/p/q", "r"),
        ] as [(String, String, String?)])
    func splitsTargets(target: String, path: String, query: String?) {
        let components = HTTPRequest.components(of: target)
        #expect(components.path == path)
        #expect(components.query.map(String.init) == query)
    }

    @Test(arguments: [
        (1, [String](), true), (0, [], false), (0, ["keep-alive"], true), (1, ["close"], false),
        (1, ["foo,  Close "], false), (1, [",,"], true), (0, ["Keep-Alive", "close"], false),
    ])
    func persistsConnectionsAsRFC9112Says(versionMinor: Int, connection: [String], persists: Bool) {
        let headers = HTTPHeaders(connection.map { ("Connection", $0) })
        #expect(
            HTTPRequest.persistsConnection(versionMinor: versionMinor, headers: ReceivedHeaders(headers))
                == persists)
    }
}
