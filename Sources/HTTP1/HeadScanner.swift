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
            if kind == .message && lines.isEmpty {
                // The start line from space to space, eight bytes at a time between them: its spaces
                // delimit the target, whose length has its own limit.
                index = Self.firstLineBreak(bytes, from: index, to: min(end, limits.maxBytes), orSpace: true)
                guard index < end && index < limits.maxBytes else { continue }
                if bytes[index] == ASCII.space {
                    if targetStart == nil {
                        targetStart = index + 1
                    } else if targetEnd == nil {
                        targetEnd = index
                        try checkTargetLength(scannedUpTo: index)
                    }
                } else if bytes[index] == ASCII.cr || bytes[index] == ASCII.lf {
                    guard let complete = try lineBreak(bytes, at: &index) else { continue }
                    return complete
                }
                index += 1
                continue
            }
            // A field line: straight to its end, eight bytes at a time (the head is most of a request's
            // bytes, and nothing in a field line matters to this scan but where it ends).
            index = Self.firstLineBreak(bytes, from: index, to: min(end, limits.maxBytes))
            if index < end && index < limits.maxBytes {
                guard let complete = try lineBreak(bytes, at: &index) else { continue }
                return complete
            }
        }
        if kind == .message && lines.isEmpty {
            try checkTargetLength(scannedUpTo: index)
        }
        return false
    }

    /// At a CR or LF: ends a line (and moves past its CRLF), refuses a bare CR or LF, or waits for the
    /// LF. True once the head is complete, false to wait for more bytes, nil to scan on.
    private mutating func lineBreak(
        _ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int
    ) throws(HTTPParseError) -> Bool? {
        guard bytes[index] == ASCII.cr else {
            throw .badRequest("bare LF in the header section; lines must end with CRLF")
        }
        guard index + 1 < bytes.count else { return false }  // the LF may still come
        guard index + 2 <= limits.maxBytes else { throw tooLarge(scannedUpTo: index) }
        guard bytes[index + 1] == ASCII.lf else {
            throw .badRequest("bare CR in the header section")
        }
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

    /// The first CR or LF in `bytes[from..<to]`, or `to`. Eight bytes are tested at once for either
    /// (the zero-byte test on the word XORed with each), then the one that matched is found byte by byte.
    /// With `orSpace`, the first space too (the start line's delimiters).
    static func firstLineBreak(
        _ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int, orSpace: Bool = false
    ) -> Int {
        var index = from
        guard index < to, let base = bytes.baseAddress else { return to }
        let raw = UnsafeRawPointer(base)
        while index + 8 <= to {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if hasByte(word, ASCII.cr) || hasByte(word, ASCII.lf) || (orSpace && hasByte(word, ASCII.space)) {
                break
            }
            index += 8
        }
        while index < to && base[index] != ASCII.cr && base[index] != ASCII.lf
            && !(orSpace && base[index] == ASCII.space)
        {
            index += 1
        }
        return index
    }

    /// Whether any byte of `word` is `byte` (exact: the subtraction's borrows only run past the first
    /// match, which is already a yes).
    @inline(__always)
    private static func hasByte(_ word: UInt64, _ byte: UInt8) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let difference = word ^ (ones &* UInt64(byte))
        return (difference &- ones) & ~difference & (ones &* 0x80) != 0
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
