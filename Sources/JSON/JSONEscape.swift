/// A string's escape sequences (RFC 8259 §7), read the same way by the strict parser and by the
/// ledger's flat scanner.
enum JSONEscape {
    enum Failure: Error {
        /// The text ends inside the escape; what was expected next.
        case unexpectedEnd(expected: String)
        /// Not one of `"\/bfnrtu` after the backslash, or not a hex digit in `\uXXXX`.
        case invalid(offset: Int)
        /// A `\u` escape of half a UTF-16 surrogate pair without its other half.
        case loneSurrogate(offset: Int)
    }

    /// Decodes the escape whose letter is at `position` (just past its backslash) into `out` as UTF-8,
    /// and moves `position` past it.
    static func decode<Bytes: RandomAccessCollection<UInt8>>(
        _ bytes: Bytes, at position: inout Int, into out: inout [UInt8]
    ) throws(Failure) where Bytes.Index == Int {
        guard position < bytes.endIndex else { throw .unexpectedEnd(expected: "an escape") }
        let letter = bytes[position]
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(letter)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            let escapeStart = position - 1
            position += 1
            var scalar = try hex4(bytes, at: &position)
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low one (UTF-16 pairs).
                guard position + 1 < bytes.endIndex, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw .loneSurrogate(offset: escapeStart) }
                position += 2
                let low = try hex4(bytes, at: &position)
                guard (0xDC00...0xDFFF).contains(low) else { throw .loneSurrogate(offset: escapeStart) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw .loneSurrogate(offset: escapeStart)
            }
            // Every value left is a scalar: surrogates are handled above, and a pair is ≤ 0x10FFFF.
            out.append(contentsOf: String(Unicode.Scalar(scalar)!).utf8)
            return
        default:
            throw .invalid(offset: position)
        }
        position += 1
    }

    private static func hex4<Bytes: RandomAccessCollection<UInt8>>(
        _ bytes: Bytes, at position: inout Int
    ) throws(Failure) -> UInt32 where Bytes.Index == Int {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.endIndex else { throw .unexpectedEnd(expected: "four hex digits") }
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .invalid(offset: position)
            }
            position += 1
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
