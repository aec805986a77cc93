/// Reads the ledger's and journal's lines: one flat JSON object whose values are strings or integers.
///
/// Hand-written because start-up replays a million lines: a general JSON parser that builds
/// dictionaries of `Any` is several times slower, and we never need more than flat objects.
public enum FlatJSON {
    public enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
    }

    public struct DecodeError: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Decodes one object. Values other than strings and integers (which later versions might add)
    /// are rejected rather than misread.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws -> [String: Value] {
        var parser = Parser(bytes: bytes)
        return try parser.object()
    }

    public static func decode(_ bytes: [UInt8]) throws -> [String: Value] {
        try bytes.withUnsafeBufferPointer { try decode($0) }
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        mutating func object() throws -> [String: Value] {
            skipSpace()
            try expect(UInt8(ascii: "{"))
            var result: [String: Value] = [:]
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                position += 1
                return try end(result)
            }
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                guard result[key] == nil else { throw DecodeError(description: "duplicate key \"\(key)\"") }
                result[key] = try value()
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                return try end(result)
            }
        }

        mutating func end(_ result: [String: Value]) throws -> [String: Value] {
            skipSpace()
            guard position == bytes.count else { throw DecodeError(description: "text after the object") }
            return result
        }

        mutating func value() throws -> Value {
            guard let byte = peek() else { throw DecodeError(description: "missing value") }
            if byte == UInt8(ascii: "\"") { return .string(try string()) }
            if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                return .integer(try integer())
            }
            throw DecodeError(description: "unsupported value at byte \(position)")
        }

        mutating func integer() throws -> Int64 {
            var negative = false
            if peek() == UInt8(ascii: "-") {
                negative = true
                position += 1
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

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            let start = position
            // Fast path: no escapes.
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    guard let text = String(validating: slice, as: UTF8.self) else {
                        throw DecodeError(description: "invalid UTF-8")
                    }
                    return text
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                position += 1
            }
            var out = Array(bytes[start..<position])
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: out, as: UTF8.self) else {
                        throw DecodeError(description: "invalid UTF-8")
                    }
                    return text
                case UInt8(ascii: "\\"):
                    try escape(into: &out)
                case 0..<0x20:
                    throw DecodeError(description: "control character in string")
                default:
                    out.append(byte)
                }
            }
            throw DecodeError(description: "unterminated string")
        }

        mutating func escape(into out: inout [UInt8]) throws {
            guard let byte = peek() else { throw DecodeError(description: "unterminated escape") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard peek() == UInt8(ascii: "\\"), position + 1 < bytes.count,
                        bytes[position + 1] == UInt8(ascii: "u")
                    else { throw DecodeError(description: "lone surrogate") }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw DecodeError(description: "lone surrogate")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw DecodeError(description: "lone surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw DecodeError(description: "bad \\u escape")
                }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw DecodeError(description: "bad escape")
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard position + 4 <= bytes.count else { throw DecodeError(description: "bad \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                position += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw DecodeError(description: "bad \\u escape")
                }
                value = value << 4 | UInt32(digit)
            }
            return value
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
