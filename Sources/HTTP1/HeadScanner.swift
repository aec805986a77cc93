/// Finds where a message head (RFC 9112 §2.1) or a trailer section (§7.1.2) ends, as bytes arrive.
///
/// Scanning resumes where it stopped, so a head that arrives a byte at a time is still read once.
/// Only CRLF ends a line: a bare CR or bare LF is refused (§2.2 lets a recipient reject them), because
/// request smuggling lives where two parsers split lines differently. Positions are offsets from the
/// head's first byte; the caller keeps those bytes buffered until the head is complete.
struct HeadScanner {
    enum Kind {
        /// A start line, then field lines; empty lines before the start line are skipped (§2.2).
        case message
        /// Field lines only: an empty first line ends the section.
        case trailers
    }

    struct Limits {
        /// Bytes of the whole head, CRLFs and skipped empty lines included; over → 431.
        var maxBytes: Int
        /// Field lines, the start line excluded; over → 431.
        var maxFieldLines: Int
    }

    let kind: Kind
    let limits: Limits
    /// Complete lines without their CRLF; for `.message`, `lines[0]` is the start line.
    private(set) var lines: [Range<Int>] = []
    /// Bytes examined so far; once complete, the length of the head including its final empty line.
    private(set) var position = 0
    /// Where the line being scanned starts.
    private(set) var lineStart = 0

    init(kind: Kind, limits: Limits) {
        self.kind = kind
        self.limits = limits
    }

    /// Ready for the next head, keeping the line array's storage: one allocation per connection, not
    /// per request.
    mutating func reset() {
        lines.removeAll(keepingCapacity: true)
        position = 0
        lineStart = 0
    }

    /// Scans `bytes` (the buffered head so far, from its first byte); true once the head is complete.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Bool {
        var index = position
        defer { position = index }
        while index < bytes.count {
            if index >= limits.maxBytes { throw .headerSectionTooLarge(limit: limits.maxBytes) }
            if bytes[index] == ASCII.cr || bytes[index] == ASCII.lf {
                if let complete = try lineBreak(bytes, at: &index) { return complete }
            } else {
                index += 1
            }
        }
        return false
    }

    /// At a CR or LF: ends a line (and moves past its CRLF), refuses a bare CR or LF, or waits for the
    /// LF. True once the head is complete, false to wait for more bytes, nil to scan on.
    private mutating func lineBreak(
        _ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int
    ) throws(HTTPParseError) -> Bool? {
        guard bytes[index] == ASCII.cr else { throw .bareLF }
        guard index + 1 < bytes.count else { return false }  // the LF may still come
        guard index + 2 <= limits.maxBytes else { throw .headerSectionTooLarge(limit: limits.maxBytes) }
        guard bytes[index + 1] == ASCII.lf else { throw .bareCR }
        let line = lineStart..<index
        index += 2
        lineStart = index
        if line.isEmpty {
            if kind == .message && lines.isEmpty { return nil }  // robustness: skip leading CRLFs
            return true
        }
        try endLine(line)
        return nil
    }

    private mutating func endLine(_ line: Range<Int>) throws(HTTPParseError) {
        lines.append(line)
        let fieldLines = kind == .message ? lines.count - 1 : lines.count
        if fieldLines > limits.maxFieldLines { throw .tooManyFields(limit: limits.maxFieldLines) }
    }
}
