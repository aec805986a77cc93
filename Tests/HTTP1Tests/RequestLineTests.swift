import Testing

@testable import HTTP1

@Suite struct RequestLineTests {
    private func parse(_ line: String, maxTargetLength: Int = 100) throws(HTTPParseError) -> RequestLine {
        try Array(line.utf8).withUnsafeBufferPointer { bytes throws(HTTPParseError) in
            try RequestLine(parsing: bytes, maxTargetLength: maxTargetLength)
        }
    }

    @Test func splitsMethodTargetAndVersion() throws {
        let line = try parse("PATCH /a?b HTTP/1.0")
        #expect(line.method == "PATCH")
        #expect(line.target == "/a?b")
        #expect(line.versionMinor == 0)
    }

    @Test(arguments: ["/a#b", "/#", "/a?b#c", "http://a.example/#x"])
    func refusesAFragmentAnywhereInTheTarget(target: String) {
        let error = #expect(throws: HTTPParseError.self) { try parse("GET \(target) HTTP/1.1") }
        #expect(error?.status == 400)
    }

    @Test func keepsTheMethodCaseSensitive() throws {
        #expect(try parse("get / HTTP/1.1").method == "get")
    }

    @Test(arguments: [
        ("GET / HTTP/1.1", 0), ("GET / HTTP/1.9", 505), ("GET / HTTP/3.0", 505), ("GET / HTTP/1.", 400),
        ("GET / HTTPS/1.1", 400), ("GET / HTTP/1.10", 400), ("GET /", 400), ("GET", 400), ("", 400),
        // Each byte of the name wrong in turn.
        ("GET / XTTP/1.1", 400), ("GET / HXTP/1.1", 400), ("GET / HTXP/1.1", 400), ("GET / HTTX/1.1", 400),
        ("GET / HTTPX1.1", 400), ("GET / hTTP/1.1", 400),
    ])
    func checksTheVersion(line: String, status: Int) {
        do {
            _ = try parse(line)
            #expect(status == 0)
        } catch {
            #expect(error.status == status)
        }
    }

    /// The limit holds however the line arrives: whole, or a byte at a time with a check after each.
    @Test func limitsTheTargetWhileTheLineArrives() throws {
        for (line, tooLong) in [
            ("GET /1234 HTTP/1.1", false), ("GET /12345 HTTP/1.1", true), ("GET /12345", true),
        ] {
            let bytes = Array(line.utf8)
            var limit = RequestLine.TargetLimit(maxLength: 5)
            var refused = false
            for end in 1...bytes.count {
                do {
                    try bytes[..<end].withUnsafeBufferPointer { bytes throws(HTTPParseError) in
                        try limit.check(bytes)
                    }
                } catch {
                    #expect(error == .targetTooLong(limit: 5))
                    #expect(end == 10, "refused as soon as the sixth byte of the target arrives")
                    refused = true
                    break
                }
            }
            #expect(refused == tooLong, "\(line)")
        }
    }

    @Test func refusesATargetOverTheLimit() {
        let error = #expect(throws: HTTPParseError.self) {
            try parse("GET /12345 HTTP/1.1", maxTargetLength: 5)
        }
        #expect(error?.status == 414)
        #expect(throws: Never.self) { try parse("GET /1234 HTTP/1.1", maxTargetLength: 5) }
    }
}
