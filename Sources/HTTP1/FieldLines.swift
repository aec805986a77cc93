/// Field lines (RFC 9112 §5).
enum FieldLines {
    /// Parses `lines` of `head` as `field-name ":" OWS field-value OWS`, refusing what lets two parsers
    /// disagree about a message: obs-fold, whitespace before the colon, names that are not tokens,
    /// control characters in values (RFC 9112 §5.1, §5.2; RFC 9110 §5.5).
    static func parse(
        _ head: UnsafeBufferPointer<UInt8>, lines: some Sequence<Range<Int>>
    ) throws(HTTPParseError) -> ReceivedHeaders {
        var spans: [ReceivedHeaders.Span] = []
        spans.reserveCapacity(lines.underestimatedCount)
        for line in lines {
            let bytes = head[line]
            if ASCII.isWhitespace(bytes[line.lowerBound]) { throw .obsFold }
            guard let colon = bytes.firstIndex(of: ASCII.colon) else { throw .fieldLineWithoutColon }
            let name = head[line.lowerBound..<colon]
            if let last = name.last, ASCII.isWhitespace(last) { throw .whitespaceBeforeColon }
            guard ASCII.isToken(UnsafeBufferPointer(rebasing: name)) else { throw .fieldNameNotToken }
            var valueStart = colon + 1
            var valueEnd = line.upperBound
            while valueStart < valueEnd, ASCII.isWhitespace(head[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart, ASCII.isWhitespace(head[valueEnd - 1]) { valueEnd -= 1 }
            let value = head[valueStart..<valueEnd]
            // obs-text is legal but opaque; as text it must be UTF-8, never silently replaced.
            guard value.allSatisfy(ASCII.isFieldContent),
                value.allSatisfy({ $0 < 0x80 })
                    || String(validating: UnsafeBufferPointer(rebasing: value), as: UTF8.self) != nil
            else {
                throw .invalidFieldValue(name: String(decoding: name, as: UTF8.self))
            }
            spans.append(ReceivedHeaders.Span(name: line.lowerBound..<colon, value: valueStart..<valueEnd))
        }
        // The head is kept as it came, once; names and values become strings only when asked for.
        return ReceivedHeaders(head: Array(head), spans: spans)
    }
}
