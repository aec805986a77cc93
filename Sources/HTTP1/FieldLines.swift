/// Field lines (RFC 9112 §5) and the framing fields read from them (§6).
enum FieldLines {
    /// Parses `lines` of `head` as `field-name ":" OWS field-value OWS`, refusing what lets two parsers
    /// disagree about a message: obs-fold, whitespace before the colon, names that are not tokens,
    /// control characters in values (RFC 9112 §5.1, §5.2; RFC 9110 §5.5).
    static func parse(
        _ head: UnsafeBufferPointer<UInt8>, lines: some Sequence<Range<Int>>
    ) throws(HTTPParseError) -> HTTPHeaders {
        var spans: [HTTPHeaders.Span] = []
        spans.reserveCapacity(lines.underestimatedCount)
        for line in lines {
            let bytes = UnsafeBufferPointer(rebasing: head[line])
            if ASCII.isWhitespace(bytes[0]) {
                throw .badRequest("header line starts with whitespace (obs-fold is not accepted)")
            }
            guard let colon = bytes.firstIndex(of: ASCII.colon) else {
                throw .badRequest("header line without a colon")
            }
            let name = bytes[..<colon]
            if let last = name.last, ASCII.isWhitespace(last) {
                throw .badRequest("whitespace between a header name and its colon")
            }
            guard ASCII.isToken(UnsafeBufferPointer(rebasing: name)) else {
                throw .badRequest("header name is not a token")
            }
            var valueStart = colon + 1
            var valueEnd = bytes.count
            while valueStart < valueEnd, ASCII.isWhitespace(bytes[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart, ASCII.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
            let value = UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            // Nearly every value is plain visible ASCII, settled a word at a time; a tab or obs-text
            // takes the byte-by-byte check.
            var isASCII = true
            if !ASCII.isVisibleOrSpace(value) {
                for byte in value {
                    guard ASCII.isFieldContent(byte) else {
                        throw .badRequest("control character in the value of header \(text(name))")
                    }
                    isASCII = isASCII && byte < 0x80
                }
            }
            // obs-text is legal but opaque; as text it must be UTF-8, never silently replaced.
            guard isASCII || String(validating: value, as: UTF8.self) != nil else {
                throw .badRequest("value of header \(text(name)) is not UTF-8")
            }
            spans.append(
                HTTPHeaders.Span(
                    name: line.lowerBound..<(line.lowerBound + colon),
                    value: (line.lowerBound + valueStart)..<(line.lowerBound + valueEnd)))
        }
        // The head is kept as it came, once; names and values become strings only when asked for.
        return HTTPHeaders(received: Array(head), spans: spans)
    }

    private static func text(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes), as: UTF8.self)
    }

    /// The message's Content-Length, or nil when absent. One field of digits only: a list, even of equal
    /// values, a sign or a value that does not fit is refused rather than guessed at (RFC 9112 §6.3).
    static func contentLength(_ headers: HTTPHeaders) throws(HTTPParseError) -> Int? {
        try contentLength(headers.firstAndCount("Content-Length"))
    }

    /// The same, from the first Content-Length value and how many there are.
    static func contentLength(_ values: (first: String?, count: Int)) throws(HTTPParseError) -> Int? {
        guard let value = values.first else { return nil }
        guard values.count == 1 else { throw .badRequest("more than one Content-Length header") }
        // One pass over the contiguous bytes (every request with a body comes here): a byte that is not
        // a digit is reported before an overflow, wherever each comes.
        var text = value
        let (length, decimal, overflow) = text.withUTF8 { bytes in
            var length = 0
            var decimal = !bytes.isEmpty
            var overflow = false
            for byte in bytes {
                guard ASCII.isDigit(byte) else {
                    decimal = false
                    break
                }
                let (shifted, overflow1) = length.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                overflow = overflow || overflow1 || overflow2
                length = sum
            }
            return (length, decimal, overflow)
        }
        guard decimal else { throw .badRequest("Content-Length is not a decimal number") }
        guard !overflow else { throw .badRequest("Content-Length is too large") }
        return length
    }

    /// The transfer codings of every Transfer-Encoding field, in order (RFC 9112 §6.1).
    static func transferCodings(_ headers: HTTPHeaders) -> [Substring]? {
        let values = headers.values("Transfer-Encoding")
        guard !values.isEmpty else { return nil }
        return values.flatMap(ASCII.listElements)
    }
}
