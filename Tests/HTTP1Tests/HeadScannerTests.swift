import Testing

@testable import HTTP1

@Suite struct HeadScannerTests {
    private let limits = HeadScanner.Limits(maxBytes: 1024, maxFieldLines: 10, maxTargetLength: 100)

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

    /// Field lines are skipped to their CR or LF eight bytes at a time, and the start line from space
    /// to space: the mark must be found at every position in and across words, and nothing before it
    /// taken for one. The fillers are bytes one bit away from a mark (0x0C, 0x0E, 0x0B, 0x09 for CR and
    /// LF; 0x21, 0x28, 0x30, 0x60 for the space) or only the high bit away (0x8D, 0x8A, 0xA0), and a
    /// space where spaces are not marks.
    @Test(arguments: [
        (false, [ASCII.cr, ASCII.lf], [0x0C, 0x0E, 0x0B, 0x09, 0x8D, 0x8A, 0x20, 0x7E] as [UInt8]),
        (
            true, [ASCII.space, ASCII.cr, ASCII.lf],
            [0x21, 0x28, 0x30, 0x60, 0xA0, 0x0C, 0x0E, 0x7E] as [UInt8]
        ),
    ])
    func findsTheFirstMarkAtEveryPosition(orSpace: Bool, marks: [UInt8], filler: [UInt8]) {
        for mark in marks {
            for length in 0..<40 {
                for position in 0...length {
                    var bytes = (0..<length).map { filler[$0 % filler.count] }
                    if position < length { bytes[position] = mark }
                    for from in [0, 1, 7, 8, 9].filter({ $0 <= length }) {
                        let found = bytes.withUnsafeBufferPointer {
                            HeadScanner.firstLineBreak($0, from: from, to: length, orSpace: orSpace)
                        }
                        let expected = position < length && position >= from ? position : length
                        #expect(found == expected, "length \(length), \(mark) at \(position), from \(from)")
                    }
                }
            }
        }
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
