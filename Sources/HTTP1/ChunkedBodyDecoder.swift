/// Decodes a chunked body (RFC 9112 §7.1) as bytes arrive: chunk-size lines (extensions read and
/// ignored), chunk data, the last chunk, and a trailer section, which is validated and discarded (no
/// trailer field we use may be merged into the header section, RFC 9110 §6.5.1).
struct ChunkedBodyDecoder {
    private enum State {
        /// Reading a chunk-size line; its first `scanned` bytes hold no line end.
        case size(scanned: Int)
        case data(remaining: Int)
        /// The CRLF that ends chunk data.
        case dataEnd
        case trailers(HeadScanner)
        case done
    }

    /// A chunk-size line is hex digits and optional extensions; nothing legitimate needs more.
    static let maxSizeLineLength = 4096
    /// Hex digits of one chunk size, leading zeros included: more only pads the framing.
    static let maxSizeDigits = 16

    let maxBodyBytes: Int
    let maxTrailerBytes: Int
    private var state = State.size(scanned: 0)
    /// Bytes after the sizes of all size lines so far (extensions): bounded together, like the
    /// trailers, by `maxTrailerBytes`, so a small body cannot come wrapped in endless framing.
    private var extensionBytes = 0

    init(maxBodyBytes: Int, maxTrailerBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Decodes from the first unconsumed byte, appending chunk data to `body`; returns how many bytes
    /// were consumed. Bytes of an incomplete size line or trailer section stay unconsumed.
    mutating func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, into body: inout [UInt8]
    ) throws(HTTPParseError) -> Int {
        var offset = 0
        while true {
            switch state {
            case .size(let scanned):
                guard let lineEnd = try Self.lineEnd(in: bytes, lineStart: offset, scanned: scanned) else {
                    state = .size(scanned: max(0, bytes.count - offset - 1))  // a final CR is rescanned
                    return offset
                }
                let size = try chunkSize(UnsafeBufferPointer(rebasing: bytes[offset..<lineEnd]), body: body)
                offset = lineEnd + 2
                let trailerLimits = HeadScanner.Limits(
                    maxBytes: maxTrailerBytes, maxFieldLines: maxTrailerBytes)
                state =
                    size > 0
                    ? .data(remaining: size) : .trailers(HeadScanner(kind: .trailers, limits: trailerLimits))
            case .data(let remaining):
                let available = min(remaining, bytes.count - offset)
                body.append(contentsOf: bytes[offset..<(offset + available)])
                offset += available
                guard available == remaining else {
                    state = .data(remaining: remaining - available)
                    return offset
                }
                state = .dataEnd
            case .dataEnd:
                guard bytes.count - offset >= 2 else {
                    if bytes.count > offset && bytes[offset] != ASCII.cr { throw .chunkDataWithoutCRLF }
                    return offset
                }
                guard bytes[offset] == ASCII.cr, bytes[offset + 1] == ASCII.lf else {
                    throw .chunkDataWithoutCRLF
                }
                offset += 2
                state = .size(scanned: 0)
            case .trailers(var scanner):
                let section = UnsafeBufferPointer(rebasing: bytes[offset...])
                state = .done  // while `scanner` is mutated, so its line list is not copied
                guard try scanner.scan(section) else {
                    state = .trailers(scanner)
                    return offset
                }
                _ = try FieldLines.parse(section, lines: scanner.lines)
                return offset + scanner.position
            case .done:
                return offset
            }
        }
    }

    /// The index of the CR that ends the line starting at `lineStart`, or nil when it has not arrived.
    private static func lineEnd(
        in bytes: UnsafeBufferPointer<UInt8>, lineStart: Int, scanned: Int
    ) throws(HTTPParseError) -> Int? {
        var index = lineStart + scanned
        while index < bytes.count {
            if index - lineStart > maxSizeLineLength { throw .chunkSizeLineTooLong(limit: maxSizeLineLength) }
            switch bytes[index] {
            case ASCII.cr:
                guard index + 1 < bytes.count else { return nil }
                guard bytes[index + 1] == ASCII.lf else { throw .bareCR }
                return index
            case ASCII.lf:
                throw .bareLF
            default:
                index += 1
            }
        }
        return nil
    }

    /// `chunk-size [ chunk-ext ]`: hex digits, then nothing or `BWS ";" ...` without control characters.
    private mutating func chunkSize(_ line: UnsafeBufferPointer<UInt8>, body: [UInt8]) throws(HTTPParseError)
        -> Int
    {
        var size = 0
        var index = 0
        while index < line.count, let digit = ASCII.hexValue(line[index]) {
            size = size * 16 + digit
            // Checked per digit, so the size cannot overflow before it is refused.
            if size > maxBodyBytes - body.count { throw .bodyTooLarge(limit: maxBodyBytes) }
            index += 1
        }
        guard index > 0 && index <= Self.maxSizeDigits else { throw .malformedChunkSize }
        extensionBytes += line.count - index
        guard extensionBytes <= maxTrailerBytes else { throw .chunkExtensionsTooLong(limit: maxTrailerBytes) }
        let extensions = line[index...].drop(while: ASCII.isWhitespace)
        guard extensions.isEmpty || extensions.first == UInt8(ascii: ";"),
            extensions.allSatisfy(ASCII.isFieldContent)
        else {
            throw .malformedChunkExtension
        }
        return size
    }
}
