import Testing

@testable import HTTP1

@Suite struct FieldLinesTests {
    private func parse(_ lines: [String]) throws(HTTPParseError) -> ReceivedHeaders {
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

    private static let expectedErrors: [HTTPParseError] = [
        .obsFold, .whitespaceBeforeColon, .fieldNameNotToken, .fieldLineWithoutColon,
        .invalidFieldValue(name: "a"),
    ]

    @Test(arguments: [" a: b", "a : b", "a\t: b", ": b", "a b: c", "a", "a: \u{8}", "a: x\u{7F}"])
    func refusesMalformedLines(line: String) {
        let error = #expect(throws: HTTPParseError.self) { try parse([line]) }
        #expect(error?.status == 400)
        #expect(error.map(Self.expectedErrors.contains) == true, "\(String(describing: error))")
    }

    @Test func refusesInvalidUTF8() {
        let head: [UInt8] = Array("a: ".utf8) + [0xC3, 0x28]
        #expect(throws: HTTPParseError.invalidFieldValue(name: "a")) {
            try head.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
                try FieldLines.parse(bytes, lines: [0..<head.count])
            }
        }
    }
}
