import Testing

@testable import HTTP1

@Suite struct BodyFramingTests {
    private func framing(_ fields: [(String, String)], versionMinor: Int = 1) throws(HTTPParseError)
        -> BodyFraming
    {
        try BodyFraming(
            ReceivedHeaders(HTTPHeaders(fields.map { (name: $0.0, value: $0.1) })),
            versionMinor: versionMinor,
            maxBodyBytes: 100)
    }

    @Test(
        arguments: [
            ([String](), nil), (["0"], 0), (["42"], 42), (["0042"], 42),
            (["9223372036854775807"], Int.max),
        ] as [([String], Int?)])
    func readsContentLength(values: [String], length: Int?) throws {
        #expect(try BodyFraming.contentLength((values.first, values.count)) == length)
    }

    @Test(arguments: [
        (["9223372036854775808"], HTTPParseError.malformedContentLength), (["+1"], .malformedContentLength),
        (["1,1"], .malformedContentLength), (["1", "1"], .repeatedContentLength),
        ([""], .malformedContentLength),
        ([" 1"], .malformedContentLength), (["1e3"], .malformedContentLength),
        (["١"], .malformedContentLength),
    ])
    func refusesContentLength(values: [String], error: HTTPParseError) {
        #expect(throws: error) { try framing(values.map { ("Content-Length", $0) }) }
    }

    @Test func readsEachFraming() throws {
        #expect(try framing([]) == .unframed)
        #expect(try framing([("content-length", "7")]) == .length(7))
        #expect(try framing([("Transfer-Encoding", " chunked ")]) == .chunked)
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 100)) { try framing([("Content-Length", "101")]) }
    }

    /// Codings are read across every Transfer-Encoding field; only `chunked` alone is accepted.
    @Test func refusesEveryOtherTransferCoding() {
        #expect(throws: HTTPParseError.unsupportedTransferCoding("gzip, chunked, chunked")) {
            try framing([("Transfer-Encoding", "gzip, ,chunked"), ("transfer-encoding", " chunked ")])
        }
        #expect(throws: HTTPParseError.unsupportedTransferCoding("")) {
            try framing([("Transfer-Encoding", ",")])
        }
        #expect(throws: HTTPParseError.contentLengthWithTransferEncoding) {
            try framing([("Transfer-Encoding", "chunked"), ("Content-Length", "1")])
        }
        #expect(throws: HTTPParseError.transferEncodingInHTTP10) {
            try framing([("Transfer-Encoding", "chunked")], versionMinor: 0)
        }
    }
}
