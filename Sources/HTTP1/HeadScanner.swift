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
        /// Length of a request-target; over → 414, checked before the start line even ends.
        var maxTargetLength: Int?
    }

    let kind: Kind
    let limits: Limits
    /// Complete lines without their CRLF; for `.message`, `lines[0]` is the start line.
    private(set) var lines: [Range<Int>] = []
    /// Bytes examined so far; once complete, the length of the head including its final empty line.
    private(set) var position = 0
    private var lineStart = 0
    /// The spaces that delimit the request-target while the start line is being read.
    private var targetStart: Int?
    private var targetEnd: Int?

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
        targetStart = nil
        targetEnd = nil
    }

    /// Scans `bytes` (the buffered head so far, from its first byte); true once the head is complete.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Bool {
        var index = position
        defer { position = index }
        let end = bytes.count
        while index < end {
            if index >= limits.maxBytes { throw tooLarge(scannedUpTo: index) }
            switch bytes[index] {
            case ASCII.cr:
                guard index + 1 < end else { return false }  // the LF may still come
                guard index + 2 <= limits.maxBytes else { throw tooLarge(scannedUpTo: index) }
                guard bytes[index + 1] == ASCII.lf else {
                    throw .badRequest("bare CR in the header section")
                }
                let line = lineStart..<index
                index += 2
                lineStart = index
                if line.isEmpty {
                    if kind == .message && lines.isEmpty { continue }  // robustness: skip leading CRLFs
                    return true
                }
                try endLine(line)
            case ASCII.lf:
                throw .badRequest("bare LF in the header section; lines must end with CRLF")
            case ASCII.space where kind == .message && lines.isEmpty:
                if targetStart == nil {
                    targetStart = index + 1
                } else if targetEnd == nil {
                    targetEnd = index
                    try checkTargetLength(scannedUpTo: index)
                }
                index += 1
            default:
                index += 1
            }
        }
        if kind == .message && lines.isEmpty {
            try checkTargetLength(scannedUpTo: index)
        }
        return false
    }

    private mutating func endLine(_ line: Range<Int>) throws(HTTPParseError) {
        if kind == .message && lines.isEmpty {
            try checkTargetLength(scannedUpTo: line.upperBound)
        }
        lines.append(line)
        let fieldLines = kind == .message ? lines.count - 1 : lines.count
        if fieldLines > limits.maxFieldLines {
            throw HTTPParseError(status: 431, reason: "more than \(limits.maxFieldLines) header fields")
        }
    }

    /// A start line that is too long because of its target is a 414, not a 431.
    private func tooLarge(scannedUpTo index: Int) -> HTTPParseError {
        do {
            try checkTargetLength(scannedUpTo: index)
        } catch {
            return error
        }
        return HTTPParseError(status: 431, reason: "header section longer than \(limits.maxBytes) bytes")
    }

    private func checkTargetLength(scannedUpTo index: Int) throws(HTTPParseError) {
        guard let maxTargetLength = limits.maxTargetLength, lines.isEmpty, let targetStart else { return }
        if (targetEnd ?? index) - targetStart > maxTargetLength {
            throw HTTPParseError(status: 414, reason: "request target longer than \(maxTargetLength) bytes")
        }
    }
}
