import Testing

@testable import HTTP1

@Suite struct FieldLinesTests {
    private func parse(_ lines: [String]) throws(HTTPParseError) -> HTTPHeaders {
        let head = Array(lines.joined().utf8)
        var ranges: [Range<Int>] = []
        var start = 0
        for line in lines {
            ranges.append(start..<(start + line.utf8.count))
            start += line.utf8.count
        }
        return try head.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
            try FieldLines.parse(bytes, lines: ranges)
        }
    }

    @Test func trimsOptionalWhitespaceAndKeepsInnerSpaces() throws {
        #expect(summary(try parse(["a:b", "B: \t c  d \t", "c:"])) == "[a: b][B: c  d][c: ]")
    }

    @Test(arguments: [" a: b", "a : b", "a\t: b", ": b", "a b: c", "a", "a: \u{8}", "a: x\u{7F}"])
    func refusesMalformedLines(line: String) {
        let error = #expect(throws: HTTPParseError.self) { try parse([line]) }
        #expect(error?.status == 400)
    }

    @Test func refusesInvalidUTF8() {
        let head: [UInt8] = Array("a: ".utf8) + [0xC3, 0x28]
        #expect(throws: HTTPParseError.self) {
            try head.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
                try FieldLines.parse(bytes, lines: [0..<head.count])
            }
        }
    }

    @Test(
        arguments: [
            ([String](), nil), (["0"], 0), (["42"], 42), (["0042"], 42),
            (["9223372036854775807"], Int.max),
        ] as [([String], Int?)])
    func readsContentLength(values: [String], length: Int?) throws {
        let headers = HTTPHeaders(values.map { ("content-length", $0) })
        #expect(try FieldLines.contentLength(headers) == length)
    }

    @Test(arguments: [["9223372036854775808"], ["+1"], ["1,1"], ["1", "1"], [""], [" 1"], ["1e3"], ["١"]])
    func refusesContentLength(values: [String]) {
        let headers = HTTPHeaders(values.map { ("Content-Length", $0) })
        let error = #expect(throws: HTTPParseError.self) { try FieldLines.contentLength(headers) }
        #expect(error?.status == 400)
    }

    @Test func listsTransferCodingsAcrossFields() {
        let headers = HTTPHeaders([
            ("Transfer-Encoding", "gzip, ,chunked"), ("transfer-encoding", " chunked "),
        ])
        #expect(FieldLines.transferCodings(headers) == ["gzip", "chunked", "chunked"])
        #expect(FieldLines.transferCodings(HTTPHeaders()) == nil)
    }
}
