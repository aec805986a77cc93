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

    @Test func keepsTheMethodCaseSensitive() throws {
        #expect(try parse("get / HTTP/1.1").method == "get")
    }

    @Test(arguments: [
        ("GET / HTTP/1.1", 0), ("GET / HTTP/1.9", 505), ("GET / HTTP/3.0", 505), ("GET / HTTP/1.", 400),
        ("GET / HTTPS/1.1", 400), ("GET / HTTP/1.10", 400), ("GET /", 400), ("GET", 400), ("", 400),
    ])
    func checksTheVersion(line: String, status: Int) {
        do {
            _ = try parse(line)
            #expect(status == 0)
        } catch {
            #expect(error.status == status)
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
