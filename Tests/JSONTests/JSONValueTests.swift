import JSON
import Testing

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
