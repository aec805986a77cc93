/// Reads the ledger's and journal's lines: one flat JSON object whose values are strings or integers.
///
/// Hand-written because start-up replays a million lines: a general JSON parser that builds
/// dictionaries of `Any` is several times slower, and we never need more than flat objects.
public enum FlatJSON {
    public struct DecodeError: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// A value as `scan` hands it over: string bytes (unescaped, valid UTF-8) or an integer.
    public enum ScannedValue {
        case string(UnsafeBufferPointer<UInt8>)
        case integer(Int64)
    }

    /// Walks one object and hands each field to `field` without allocating for the common case (no
    /// escapes). The buffers are valid only during the call. Start-up replay uses this to copy a
    /// million lines' fields straight into compact storage.
    public static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ field: (_ key: UnsafeBufferPointer<UInt8>, _ value: ScannedValue) throws -> Void
    ) throws {
        var parser = Parser(bytes: bytes)
        try parser.object(field)
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        mutating func object(_ field: (UnsafeBufferPointer<UInt8>, ScannedValue) throws -> Void) throws {
            var keyScratch: [UInt8] = []
            var valueScratch: [UInt8] = []
            skipSpace()
            try expect(UInt8(ascii: "{"))
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                position += 1
                return try end()
            }
            while true {
                skipSpace()
                let key = try string(into: &keyScratch)
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                guard let byte = peek() else { throw DecodeError(description: "missing value") }
                if byte == UInt8(ascii: "\"") {
                    let value = try string(into: &valueScratch)
                    try withSpan(key, keyScratch) { keyBuffer in
                        try withSpan(value, valueScratch) { try field(keyBuffer, .string($0)) }
                    }
                } else if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                {
                    let number = try integer()
                    try withSpan(key, keyScratch) { try field($0, .integer(number)) }
                } else {
                    throw DecodeError(description: "unsupported value at byte \(position)")
                }
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                return try end()
            }
        }

        /// Where a string's bytes are: a range of the input, or (after unescaping) the scratch buffer.
        enum Span {
            case input(Range<Int>)
            case scratch
        }

        func withSpan(_ span: Span, _ scratch: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) throws -> Void)
            throws
        {
            switch span {
            case .input(let range): try body(UnsafeBufferPointer(rebasing: bytes[range]))
            case .scratch: try scratch.withUnsafeBufferPointer { try body($0) }
            }
        }

        mutating func end() throws {
            skipSpace()
            guard position == bytes.count else { throw DecodeError(description: "text after the object") }
        }

        mutating func integer() throws -> Int64 {
            var negative = false
            if peek() == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            // RFC 8259: no leading zeros ("01"), as `JSONParser` refuses them.
            if peek() == UInt8(ascii: "0"), position + 1 < bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position + 1])
            {
                throw DecodeError(description: "leading zero")
            }
            var value: Int64 = 0
            var digits = 0
            while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (added, overflow2) = multiplied.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw DecodeError(description: "number too large") }
                value = added
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw DecodeError(description: "bad number") }
            if let byte = peek(),
                byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            {
                throw DecodeError(description: "numbers must be integers")
            }
            return negative ? -value : value
        }

        mutating func string(into scratch: inout [UInt8]) throws -> Span {
            try expect(UInt8(ascii: "\""))
            let start = position
            // Fast path: no escapes, the bytes stay where they are.
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let range = start..<position
                    position += 1
                    try validateUTF8(UnsafeBufferPointer(rebasing: bytes[range]))
                    return .input(range)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                position += 1
            }
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: bytes[start..<position])
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    try scratch.withUnsafeBufferPointer { try validateUTF8($0) }
                    return .scratch
                case UInt8(ascii: "\\"):
                    try escape(into: &scratch)
                case 0..<0x20:
                    throw DecodeError(description: "control character in string")
                default:
                    scratch.append(byte)
                }
            }
            throw DecodeError(description: "unterminated string")
        }

        func validateUTF8(_ text: UnsafeBufferPointer<UInt8>) throws {
            // ASCII is by far the common case and needs no decoding.
            if text.allSatisfy({ $0 < 0x80 }) { return }
            guard String(validating: text, as: UTF8.self) != nil else {
                throw DecodeError(description: "invalid UTF-8")
            }
        }

        /// The escape after a backslash (the backslash already read).
        mutating func escape(into out: inout [UInt8]) throws {
            do {
                try JSONEscape.decode(bytes, at: &position, into: &out)
            } catch {
                switch error {
                case .unexpectedEnd: throw DecodeError(description: "unterminated escape")
                case .invalid: throw DecodeError(description: "bad escape")
                case .loneSurrogate: throw DecodeError(description: "lone surrogate")
                }
            }
        }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                position += 1
            }
        }

        mutating func expect(_ byte: UInt8) throws {
            guard peek() == byte else {
                throw DecodeError(
                    description: "expected '\(Character(Unicode.Scalar(byte)))' at byte \(position)")
            }
            position += 1
        }
    }
}
