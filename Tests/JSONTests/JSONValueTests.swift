import Foundation
import Testing

@testable import JSON

private func text(_ value: JSONValue) -> String {
    String(decoding: value.encoded(), as: UTF8.self)
}

@Suite struct JSONValueTests {
    @Test func scalarsEncodeCompactly() {
        #expect(text(.string("a")) == #""a""#)
        #expect(text(.integer(0)) == "0")
        #expect(text(.integer(-42)) == "-42")
        #expect(text(.integer(.max)) == "9223372036854775807")
        #expect(text(.integer(.min)) == "-9223372036854775808")
        #expect(text(.bool(true)) == "true")
        #expect(text(.bool(false)) == "false")
        #expect(text(.null) == "null")
    }

    @Test func objectKeepsKeyOrderAndHasNoSpaces() {
        let value = JSONValue.object([
            ("z", .integer(1)), ("a", .string("x")), ("m", .bool(false)), ("b", .null),
        ])
        #expect(text(value) == #"{"z":1,"a":"x","m":false,"b":null}"#)
    }

    @Test func emptyContainers() {
        #expect(text(.object([])) == "{}")
        #expect(text(.array([])) == "[]")
    }

    @Test func nestedArraysAndObjects() {
        let value = JSONValue.object([
            (
                "bindings",
                .array([.object([("userId", .string("u"))]), .array([.integer(1), .integer(2)]), .null])
            ),
            ("error", .object([("code", .string("x")), ("inner", .object([]))])),
        ])
        #expect(text(value) == #"{"bindings":[{"userId":"u"},[1,2],null],"error":{"code":"x","inner":{}}}"#)
    }

    @Test func slashIsNotEscaped() {
        #expect(text(.string("https://m.example/cb/tok")) == #""https://m.example/cb/tok""#)
    }

    @Test func quoteAndBackslashAreEscaped() {
        #expect(text(.string(#"a"b\c"#)) == #""a\"b\\c""#)
    }

    @Test(arguments: [
        ("\n", #""\n""#), ("\r", #""\r""#), ("\t", #""\t""#), ("\u{0}", #""\u0000""#),
        ("\u{8}", #""\u0008""#), ("\u{C}", #""\u000c""#), ("\u{1F}", #""\u001f""#), ("\u{7F}", #""\u007f""#),
    ])
    func controlCharactersAreEscaped(raw: String, expected: String) {
        #expect(text(.string(raw)) == expected)
    }

    @Test func nonASCIIPassesThroughAsUTF8() {
        let value = JSONValue.string("验签失败 é 😀")
        #expect(value.encoded() == Array("\"验签失败 é 😀\"".utf8))
    }

    @Test func keysAreEscapedLikeValues() {
        #expect(text(.object([("a\"\n", .integer(1))])) == #"{"a\"\n":1}"#)
    }

    @Test func encodeIntoAppends() {
        var out = Array("prefix".utf8)
        JSONValue.integer(7).encode(into: &out)
        #expect(out == Array("prefix7".utf8))
    }

    @Test func equalityComparesEncodings() {
        #expect(JSONValue.object([("a", .integer(1))]) == .object([("a", .integer(1))]))
        #expect(
            JSONValue.object([("a", .integer(1)), ("b", .integer(2))])
                != .object([("b", .integer(2)), ("a", .integer(1))]))
        #expect(JSONValue.string("1") != .integer(1))
    }
}

/// Strings are copied whole when no byte needs escaping: the test must find each byte that does at
/// every position, and take none of their neighbours (or the same bytes with the high bit set, inside
/// UTF-8 characters) for one.
@Suite struct PlainStringTests {
    @Test func findsEveryByteThatNeedsEscapingAtAnyPosition() {
        let special: [UInt8] = [0x00, 0x09, 0x0A, 0x1F, 0x22, 0x5C, 0x7F]
        let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7E, 0x80, 0x9F, 0xA2, 0xDC, 0xFF]
        for length in 0...24 {
            for offset in 0..<8 {
                var storage =
                    [UInt8](repeating: UInt8(ascii: "x"), count: offset)
                    + (0..<length).map { plain[$0 % plain.count] }
                storage.withUnsafeBufferPointer {
                    #expect(
                        JSONValue.isPlain(UnsafeBufferPointer(rebasing: $0[offset...])), "length \(length)")
                }
                for position in 0..<length {
                    for byte in special {
                        let saved = storage[offset + position]
                        storage[offset + position] = byte
                        storage.withUnsafeBufferPointer {
                            #expect(
                                !JSONValue.isPlain(UnsafeBufferPointer(rebasing: $0[offset...])),
                                "length \(length), \(byte) at \(position)")
                        }
                        storage[offset + position] = saved
                    }
                }
            }
        }
    }

    /// The copied and the escaped paths give what JSONSerialization reads back as the same string.
    @Test func escapedAndCopiedStringsReadBackTheSame() throws {
        for text in [
            "plain ascii id 0123456789", "caf\u{E9} \u{4E2D}\u{6587} ok", "quote \" in", "back\\slash",
            "tab\tand\nnewline", "del\u{7F}", "\u{01}start", "end\u{1F}",
        ] {
            var out: [UInt8] = []
            JSONValue.appendString(text, to: &out)
            let decoded =
                try JSONSerialization.jsonObject(
                    with: Data("[".utf8 + out + "]".utf8), options: []) as? [String]
            #expect(decoded == [text], "\(text)")
        }
    }
}
