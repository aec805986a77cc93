/// Reads JSON that arrives from outside (callback bodies, IPC bodies, the configuration) strictly as
/// RFC 8259 writes it, and refuses a repeated key in any object: parsers that disagree on which of two
/// `serialNo`s counts are how requests get smuggled, so no reader here picks one.
///
/// Also refused: trailing commas, leading zeros, control characters and invalid UTF-8 in strings, lone
/// surrogates, numbers a `Double` cannot hold, anything after the value, and nesting deeper than
/// `maximumDepth`. Keys compare as Swift strings do (canonically equivalent spellings are one key), as
/// every lookup of a parsed object does.
public enum JSONParser {
    public static let defaultMaximumDepth = 64

    public static func parse(_ bytes: [UInt8], maximumDepth: Int = defaultMaximumDepth) throws(JSONParseError)
        -> JSONValue
    {
        var parser = Parser(bytes: bytes, maximumDepth: maximumDepth)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == bytes.count else { throw parser.error(.textAfterValue) }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        let maximumDepth: Int
        var position = 0

        func error(_ reason: JSONParseError.Reason) -> JSONParseError {
            JSONParseError(reason: reason, offset: position)
        }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            // RFC 8259 §2: space, tab, LF, CR; nothing else (no byte-order mark either).
            while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                position += 1
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(JSONParseError) {
            guard peek() == byte else { throw unexpected(what) }
            position += 1
        }

        func unexpected(_ expected: String) -> JSONParseError {
            error(peek() == nil ? .unexpectedEnd(expected: expected) : .unexpected(expected: expected))
        }

        mutating func literal(_ word: String, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
            for byte in word.utf8 {
                guard peek() == byte else { throw unexpected("a value") }
                position += 1
            }
            return value
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
            guard let byte = peek() else { throw error(.unexpectedEnd(expected: "a value")) }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw unexpected("a value")
            }
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= maximumDepth else { throw error(.tooDeep(limit: maximumDepth)) }
            position += 1  // {
            var fields: [(String, JSONValue)] = []
            var keys: Set<String> = []
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                position += 1
                return .object(fields)
            }
            while true {
                skipSpace()
                let keyOffset = position
                guard peek() == UInt8(ascii: "\"") else {
                    throw peek() == UInt8(ascii: "}") ? error(.trailingComma) : unexpected("a key")
                }
                let key = try string()
                guard keys.insert(key).inserted else {
                    throw JSONParseError(reason: .duplicateKey(key), offset: keyOffset, path: [.key(key)])
                }
                skipSpace()
                try expect(UInt8(ascii: ":"), "':'")
                skipSpace()
                do {
                    fields.append((key, try value(depth: depth)))
                } catch {
                    throw error.inside(.key(key))
                }
                skipSpace()
                guard let separator = peek() else { throw self.error(.unexpectedEnd(expected: "',' or '}'")) }
                position += 1
                if separator == UInt8(ascii: "}") { return .object(fields) }
                guard separator == UInt8(ascii: ",") else {
                    position -= 1
                    throw unexpected("',' or '}'")
                }
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= maximumDepth else { throw error(.tooDeep(limit: maximumDepth)) }
            position += 1  // [
            var items: [JSONValue] = []
            skipSpace()
            if peek() == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                skipSpace()
                if peek() == UInt8(ascii: "]") { throw error(.trailingComma) }
                do {
                    items.append(try value(depth: depth))
                } catch {
                    throw error.inside(.index(items.count))
                }
                skipSpace()
                guard let separator = peek() else { throw self.error(.unexpectedEnd(expected: "',' or ']'")) }
                position += 1
                if separator == UInt8(ascii: "]") { return .array(items) }
                guard separator == UInt8(ascii: ",") else {
                    position -= 1
                    throw unexpected("',' or ']'")
                }
            }
        }

        /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. An integer that fits in
        /// 64 bits is `.integer`; anything else a `.number`.
        mutating func number() throws(JSONParseError) -> JSONValue {
            let start = position
            if peek() == UInt8(ascii: "-") { position += 1 }
            guard let first = peek(), isDigit(first) else { throw error(.malformedNumber) }
            position += 1
            if first == UInt8(ascii: "0"), let next = peek(), isDigit(next) { throw error(.leadingZero) }
            skipDigits()
            var integral = true
            if peek() == UInt8(ascii: ".") {
                integral = false
                position += 1
                guard let digit = peek(), isDigit(digit) else { throw error(.malformedNumber) }
                skipDigits()
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                integral = false
                position += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
                guard let digit = peek(), isDigit(digit) else { throw error(.malformedNumber) }
                skipDigits()
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if integral, let integer = Int64(text) { return .integer(integer) }
            guard let number = Double(text), number.isFinite else {
                position = start
                throw error(.numberOutOfRange)
            }
            return .number(number)
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        mutating func skipDigits() {
            while let byte = peek(), isDigit(byte) { position += 1 }
        }

        /// A string, unescaped; its raw bytes must be valid UTF-8 with no control characters (§7, §8.1).
        mutating func string() throws(JSONParseError) -> String {
            position += 1  // "
            var text: [UInt8] = []
            var runStart = position
            while true {
                guard let byte = peek() else { throw error(.unexpectedEnd(expected: "'\"'")) }
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                    let run = bytes[runStart..<position]
                    if !run.allSatisfy({ $0 < 0x80 }) {
                        guard String(validating: run, as: UTF8.self) != nil else {
                            position = runStart
                            throw error(.invalidUTF8)
                        }
                    }
                    text.append(contentsOf: run)
                    if byte < 0x20 { throw error(.controlCharacterInString) }
                    position += 1
                    if byte == UInt8(ascii: "\"") { return String(decoding: text, as: UTF8.self) }
                    try escape(into: &text)
                    runStart = position
                } else {
                    position += 1
                }
            }
        }

        /// The escape after a backslash (the backslash already read).
        mutating func escape(into text: inout [UInt8]) throws(JSONParseError) {
            do {
                try JSONEscape.decode(bytes, at: &position, into: &text)
            } catch {
                switch error {
                case .unexpectedEnd(let expected): throw self.error(.unexpectedEnd(expected: expected))
                case .invalid(let offset): throw JSONParseError(reason: .invalidEscape, offset: offset)
                case .loneSurrogate(let offset): throw JSONParseError(reason: .loneSurrogate, offset: offset)
                }
            }
        }
    }
}

/// Why a text is not JSON the parser takes, where (byte offset), and in which value (its path from the
/// top, such as `platform.businessId` or `items[2].id`).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The key that appears a second time in one object.
        case duplicateKey(String)
        case trailingComma
        case leadingZero
        case malformedNumber
        case numberOutOfRange
        case controlCharacterInString
        case invalidUTF8
        case invalidEscape
        case loneSurrogate
        case tooDeep(limit: Int)
        case unexpected(expected: String)
        case unexpectedEnd(expected: String)
        case textAfterValue
    }

    public enum PathComponent: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public let reason: Reason
    public let offset: Int
    public var path: [PathComponent] = []

    public init(reason: Reason, offset: Int, path: [PathComponent] = []) {
        self.reason = reason
        self.offset = offset
        self.path = path
    }

    /// The path written as dotted keys and `[index]`es: `platform.businessId`, `ids[0]`.
    public var dottedPath: String {
        var text = ""
        for component in path {
            switch component {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    func inside(_ component: PathComponent) -> JSONParseError {
        JSONParseError(reason: reason, offset: offset, path: [component] + path)
    }

    /// What is wrong, in words; without the path or offset, which `description` adds.
    public var problem: String {
        switch reason {
        case .duplicateKey(let key): "the key \"\(key)\" appears twice in one object"
        case .trailingComma: "a trailing comma (JSON allows none before '}' or ']')"
        case .leadingZero: "a number with a leading zero"
        case .malformedNumber: "a malformed number"
        case .numberOutOfRange: "a number too large to represent"
        case .controlCharacterInString: "a control character in a string (escape it, such as \\n)"
        case .invalidUTF8: "invalid UTF-8 in a string"
        case .invalidEscape: "an invalid escape in a string"
        case .loneSurrogate: "a \\u escape of half a UTF-16 surrogate pair"
        case .tooDeep(let limit): "nesting deeper than \(limit) levels"
        case .unexpected(let expected): "expected \(expected)"
        case .unexpectedEnd(let expected): "the text ends where \(expected) was expected"
        case .textAfterValue: "text after the JSON value"
        }
    }

    public var description: String {
        let place = path.isEmpty ? "" : " at \(dottedPath)"
        return "\(problem)\(place) (byte \(offset))"
    }
}
