import Testing

@testable import HTTP1

@Suite struct HeadScannerTests {
    private let limits = HeadScanner.Limits(maxBytes: 1024, maxFieldLines: 10, maxTargetLength: 100)

    /// Scans `input` growing one byte at a time, as a connection would buffer it.
    private func scanBytewise(_ input: String, kind: HeadScanner.Kind = .message) throws(HTTPParseError)
        -> HeadScanner?
    {
        let bytes = Array(input.utf8)
        var scanner = HeadScanner(kind: kind, limits: limits)
        for end in 1...bytes.count {
            let complete = try bytes[..<end].withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                try scanner.scan(buffer)
            }
            if complete { return scanner }
        }
        return nil
    }

    @Test func findsTheLinesAndTheEndOfAHead() throws {
        let input = "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nbody"
        let scanner = try #require(try scanBytewise(input))
        #expect(scanner.position == input.utf8.count - 4)
        #expect(scanner.lines == [2..<16, 18..<25])
    }

    @Test func endsATrailerSectionAtAnEmptyFirstLine() throws {
        let scanner = try #require(try scanBytewise("\r\nrest", kind: .trailers))
        #expect(scanner.position == 2)
        #expect(scanner.lines.isEmpty)
    }

    @Test func waitsForTheLFAfterACR() throws {
        #expect(try scanBytewise("GET / HTTP/1.1\r\nHost: a\r\n\r") == nil)
    }

    @Test(arguments: ["GET /\r HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\n\r\n", "GET / HTTP/1.1\r\n\n", "\r\r\n"])
    func refusesBareCRAndLF(input: String) {
        let error = #expect(throws: HTTPParseError.self) { try scanBytewise(input) }
        #expect(error?.status == 400)
    }

    @Test func countsFieldLinesButNotTheStartLine() throws {
        let ten = String(repeating: "X: y\r\n", count: 10)
        #expect(try scanBytewise("GET / HTTP/1.1\r\n\(ten)\r\n") != nil)
        let error = #expect(throws: HTTPParseError.self) {
            try scanBytewise("GET / HTTP/1.1\r\n\(ten)X: y\r\n")
        }
        #expect(error?.status == 431)
    }
}
