import Testing

@testable import HTTP1

@Suite struct HeadScannerTests {
    private let limits = HeadScanner.Limits(maxBytes: 1024, maxFieldLines: 10)

    /// Scans `input` growing one byte at a time, as a connection would buffer it.
    private func scanBytewise(_ input: String, kind: HeadScanner.Kind = .message) throws(HTTPParseError)
        -> HeadScanner?
    {
        try scanBytewise(Array(input.utf8), kind: kind)
    }

    private func scanBytewise(_ bytes: [UInt8], kind: HeadScanner.Kind = .message) throws(HTTPParseError)
        -> HeadScanner?
    {
        var scanner = HeadScanner(kind: kind, limits: limits)
        for end in 1...bytes.count {
            let complete = try bytes[..<end].withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                try scanner.scan(buffer)
            }
            if complete { return scanner }
        }
        return nil
    }

    /// The scanner against a plain reference: lines split at CRLF, a bare CR or LF refused, on random
    /// heads fed whole and a byte at a time.
    @Test func agreesWithAPlainLineSplitterOnRandomHeads() throws {
        var generator = SystemRandomNumberGenerator()
        // Lines of up to 40 bytes (so breaks fall anywhere in and across eight-byte words), with bytes
        // that are not text; sometimes the empty line that ends a head, a stray CR or LF, bytes after.
        let text: [UInt8] = Array("GET / HTTP/1.1 Host:a\tz-".utf8) + [0x80, 0xFF, 0x0C, 0x0E]
        for _ in 0..<2000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...8, using: &generator) {
                bytes += (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                    text.randomElement(using: &generator)!
                }
                bytes += [ASCII.cr, ASCII.lf]
            }
            if Bool.random(using: &generator) { bytes += [ASCII.cr, ASCII.lf] }
            if Int.random(in: 0..<3, using: &generator) == 0 {
                let stray = Bool.random(using: &generator) ? ASCII.cr : ASCII.lf
                bytes.insert(stray, at: Int.random(in: 0...bytes.count, using: &generator))
            }
            bytes += text.prefix(Int.random(in: 0..<5, using: &generator))
            guard !bytes.isEmpty else { continue }
            let expected = Self.reference(bytes)
            var whole = HeadScanner(kind: .message, limits: limits)
            let wholeOutcome: String
            do {
                wholeOutcome =
                    try bytes.withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                        try whole.scan(buffer)
                    }
                    ? "complete \(whole.lines) at \(whole.position)" : "incomplete"
            } catch {
                wholeOutcome = "refused"
            }
            #expect(wholeOutcome == expected, "\(bytes)")
            let bytewise: String
            do {
                bytewise =
                    try scanBytewise(bytes).map { "complete \($0.lines) at \($0.position)" } ?? "incomplete"
            } catch {
                bytewise = "refused"
            }
            #expect(bytewise == expected, "\(bytes)")
        }
    }

    /// Lines as RFC 9112 splits them, leading empty lines skipped; no limits reached at these lengths.
    private static func reference(_ bytes: [UInt8]) -> String {
        var lines: [Range<Int>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == ASCII.lf { return "refused" }
            if bytes[index] == ASCII.cr {
                guard index + 1 < bytes.count else { return "incomplete" }
                guard bytes[index + 1] == ASCII.lf else { return "refused" }
                let line = start..<index
                index += 2
                start = index
                if line.isEmpty {
                    if lines.isEmpty { continue }
                    return "complete \(lines) at \(index)"
                }
                lines.append(line)
                if lines.count - 1 > 10 { return "refused" }
                continue
            }
            index += 1
        }
        return "incomplete"
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
