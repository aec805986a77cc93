import JSON
import Testing

/// What `FlatJSON.scan` hands over, copied out of its buffers.
private enum Value: Equatable {
    case string(String)
    case integer(Int64)
}

/// The object's fields as `scan` reports them (no key repeats in these tests).
private func scan(_ bytes: [UInt8]) throws -> [String: Value] {
    var fields: [String: Value] = [:]
    try bytes.withUnsafeBufferPointer { buffer in
        try FlatJSON.scan(buffer) { key, value in
            switch value {
            case .string(let text):
                fields[String(decoding: key, as: UTF8.self)] = .string(String(decoding: text, as: UTF8.self))
            case .integer(let number): fields[String(decoding: key, as: UTF8.self)] = .integer(number)
            }
        }
    }
    return fields
}

private func decode(_ text: String) throws -> [String: Value] { try scan(Array(text.utf8)) }

private func decodeString(_ jsonString: String) throws -> String? {
    guard case .string(let value)? = try decode(#"{"k":"# + jsonString + "}")["k"] else { return nil }
    return value
}

@Suite struct FlatJSONTests {
    @Test func decodesStringsAndIntegers() throws {
        let fields = try decode(#"{"serialNo":"s-1","createdAt":1628772138668,"neg":-5,"zero":0}"#)
        #expect(
            fields == [
                "serialNo": .string("s-1"), "createdAt": .integer(1_628_772_138_668), "neg": .integer(-5),
                "zero": .integer(0),
            ])
    }

    @Test func emptyObject() throws {
        #expect(try decode("{}").isEmpty)
        #expect(try decode(" { } ").isEmpty)
    }

    @Test func roundTripsWhatJSONValueWrites() throws {
        let strings = [
            "plain", "", "https://m.example/cb/tok", #"q"uote\back"#, "\n\r\t\u{0}\u{1F}\u{7F}", "验签失败",
            "😀 e\u{301}",
        ]
        for (index, string) in strings.enumerated() {
            let encoded = JSONValue.object([("s", .string(string)), ("n", .integer(Int64(index) - 3))])
                .encoded()
            let fields = try scan(encoded)
            #expect(fields == ["s": .string(string), "n": .integer(Int64(index) - 3)], "string \(index)")
        }
        for number: Int64 in [.max, .min + 1, 1, -1] {
            #expect(
                try scan(JSONValue.object([("n", .integer(number))]).encoded()) == [
                    "n": .integer(number)
                ])
        }
    }

    @Test(arguments: [
        (#""\"""#, "\""), (#""\\""#, "\\"), (#""\/""#, "/"), (#""\b""#, "\u{8}"), (#""\f""#, "\u{C}"),
        (#""\n""#, "\n"), (#""\r""#, "\r"), (#""\t""#, "\t"), (#""a\u0041b""#, "aAb"), (#""\u00e9""#, "é"),
        (#""\u00E9""#, "é"), (#""\u9a8c""#, "验"), (#""\u0000""#, "\u{0}"), (#""\ud83d\ude00""#, "😀"),
        (#""\uD83D\uDE00x""#, "😀x"), (#""x\n验\t""#, "x\n验\t"),
    ])
    func escapes(json: String, expected: String) throws {
        #expect(try decodeString(json) == expected)
    }

    @Test(arguments: [
        #""\ud83d""#, #""\ud83dx""#, #""\ud83d\n""#, #""\ud83d\u0041""#, #""\ude00""#, #""\ude00\ud83d""#,
        #""\ud83d\ud83d""#,
    ])
    func loneSurrogatesAreRejected(json: String) {
        #expect(throws: FlatJSON.DecodeError.self) { try decodeString(json) }
    }

    @Test(arguments: [
        #""\x""#, #""\u12""#, #""\u12g4""#, #""\U0041""#, #""\"#, #""abc"#, "\"a\nb\"", "\"a\u{1}b\"",
        "\"\\u00e9\u{1}\"",
    ])
    func badStringsAreRejected(json: String) {
        #expect(throws: FlatJSON.DecodeError.self) { try decodeString(json) }
    }

    @Test(arguments: [#"{"a":1}x"#, #"{"a":1}{}"#, #"{"a":1},"#, #"{"a":1} 1"#])
    func trailingGarbageIsRejected(json: String) {
        #expect(throws: FlatJSON.DecodeError.self) { try decode(json) }
    }

    @Test(arguments: [#"{"a":1.5}"#, #"{"a":1e3}"#, #"{"a":1E3}"#, #"{"a":-0.0}"#])
    func floatsAreRejected(json: String) {
        #expect(throws: FlatJSON.DecodeError.self) { try decode(json) }
    }

    @Test(arguments: [#"{"a":01}"#, #"{"a":-01}"#, #"{"a":00}"#, #"{"a":007}"#])
    func leadingZerosAreRejected(json: String) {
        // RFC 8259; Foundation's parser refuses them too.
        #expect(throws: FlatJSON.DecodeError.self) { try decode(json) }
    }

    @Test func zeroAndNumbersWithZerosInsideAreFine() throws {
        #expect(
            try decode(#"{"a":0,"b":-0,"c":10,"d":100}"#) == [
                "a": .integer(0), "b": .integer(0), "c": .integer(10), "d": .integer(100),
            ])
    }

    @Test func overflowIsRejected() throws {
        #expect(try decode(#"{"a":9223372036854775807}"#) == ["a": .integer(.max)])
        #expect(throws: FlatJSON.DecodeError.self) { try decode(#"{"a":9223372036854775808}"#) }
        #expect(throws: FlatJSON.DecodeError.self) { try decode(#"{"a":-9223372036854775809}"#) }
        #expect(throws: FlatJSON.DecodeError.self) { try decode(#"{"a":99999999999999999999999}"#) }
    }

    @Test func invalidUTF8IsRejected() {
        let prefix = Array(#"{"a":""#.utf8)
        let suffix = Array(#""}"#.utf8)
        for bad: [UInt8] in [[0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE9, 0xAA]] {
            #expect(throws: FlatJSON.DecodeError.self, "bytes \(bad)") {
                try scan(prefix + bad + suffix)
            }
            // Also on the slow path, after an escape.
            #expect(throws: FlatJSON.DecodeError.self, "bytes \(bad) after escape") {
                try scan(prefix + Array(#"\n"#.utf8) + bad + suffix)
            }
        }
        #expect(throws: FlatJSON.DecodeError.self) {
            try scan(Array(#"{""#.utf8) + [0xFF] + Array(#"":1}"#.utf8))
        }
    }

    @Test func whitespaceIsTolerated() throws {
        let fields = try decode(" \t\r\n{ \"a\" :\t\"b\" ,\n\"c\"\r:  -7 \n}\n ")
        #expect(fields == ["a": .string("b"), "c": .integer(-7)])
    }

    @Test(arguments: [
        "", " ", "[]", #""a""#, "{", #"{"a"}"#, #"{"a":}"#, #"{"a" "b"}"#, #"{"a":"b",}"#, #"{,}"#, #"{a:1}"#,
        #"{"a":true}"#, #"{"a":null}"#, #"{"a":[1]}"#, #"{"a":{}}"#, #"{"a":-}"#, #"{"a":+1}"#, #"{"a":"b""#,
        #"{"a":"b" "c":"d"}"#,
    ])
    func malformedObjectsAreRejected(json: String) {
        #expect(throws: FlatJSON.DecodeError.self) { try decode(json) }
    }

    @Test func errorsDescribeTheProblem() {
        #expect {
            try decode(#"{"a":1.5}"#)
        } throws: { error in
            "\(error)" == "numbers must be integers"
        }
        #expect {
            try decode(#"{"a":1}x"#)
        } throws: { error in
            "\(error)" == "text after the object"
        }
    }
}
