import Foundation
import Testing

@testable import JSON

private func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    try JSONParser.parse(Array(text.utf8))
}

private func reason(_ bytes: [UInt8]) -> JSONParseError.Reason? {
    do {
        _ = try JSONParser.parse(bytes)
        return nil
    } catch {
        return error.reason
    }
}

private func reason(_ text: String) -> JSONParseError.Reason? { reason(Array(text.utf8)) }

@Suite struct JSONParserTests {
    @Test func readsEveryKindOfValue() throws {
        let value = try parse(
            #" { "s" : "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "i": -42, "n": 1.5e2, "t": true, "f": false, "z": null, "a": [1, [], {}] } "#
        )
        #expect(value["s"] == .string("a\"\\/\u{8}\u{C}\n\r\té😀"))
        #expect(value["i"] == .integer(-42))
        #expect(value["n"] == .number(150))
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["z"] == .null)
        #expect(value["a"] == .array([.integer(1), .array([]), .object([])]))
        #expect(value["missing"] == nil)
    }

    @Test(arguments: [
        ("0", JSONValue.integer(0)), ("-0", .integer(0)), ("9223372036854775807", .integer(.max)),
        ("-9223372036854775808", .integer(.min)), ("9223372036854775808", .number(9_223_372_036_854_775_808)),
        ("1.0", .number(1)), ("1e3", .number(1000)), ("1E+3", .number(1000)), ("2.5e-1", .number(0.25)),
        (#""""#, .string("")), (#""\u0000""#, .string("\u{0}")), ("\"\u{7F}\"", .string("\u{7F}")),
        ("[]", .array([])), ("{}", .object([])), (" \t\r\n[ 1 , 2 ]\n", .array([.integer(1), .integer(2)])),
    ])
    func valid(text: String, expected: JSONValue) throws {
        #expect(try parse(text) == expected)
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, JSONParseError.Reason.duplicateKey("a")),
        (#"{"a":1,}"#, .trailingComma), ("[1,]", .trailingComma), ("[1,\n ]", .trailingComma),
        ("01", .leadingZero), ("-01", .leadingZero), ("00", .leadingZero),
        ("1.", .malformedNumber), (".5", .unexpected(expected: "a value")), ("-", .malformedNumber),
        ("1e", .malformedNumber), ("1e+", .malformedNumber), ("+1", .unexpected(expected: "a value")),
        ("1e400", .numberOutOfRange), ("-1e400", .numberOutOfRange),
        ("\"a\nb\"", .controlCharacterInString), ("\"a\tb\"", .controlCharacterInString),
        (#""\x""#, .invalidEscape), (#""\u12G4""#, .invalidEscape), (#""\'""#, .invalidEscape),
        (#""\ud800""#, .loneSurrogate), (#""\udc00""#, .loneSurrogate), (#""\ud800\u0041""#, .loneSurrogate),
        (#""\ud800x""#, .loneSurrogate),
        ("", .unexpectedEnd(expected: "a value")), (#"{"a""#, .unexpectedEnd(expected: "':'")),
        (#""abc"#, .unexpectedEnd(expected: "'\"'")), ("[1", .unexpectedEnd(expected: "',' or ']'")),
        ("{'a':1}", .unexpected(expected: "a key")), (#"{"a" 1}"#, .unexpected(expected: "':'")),
        (#"{"a":1 "b":2}"#, .unexpected(expected: "',' or '}'")),
        ("[1 2]", .unexpected(expected: "',' or ']'")),
        ("tru", .unexpectedEnd(expected: "a value")), ("True", .unexpected(expected: "a value")),
        ("NaN", .unexpected(expected: "a value")), ("{} {}", .textAfterValue), ("1 x", .textAfterValue),
        ("\u{FEFF}{}", .unexpected(expected: "a value")), ("{}\u{0}", .textAfterValue),
    ])
    func invalid(text: String, expected: JSONParseError.Reason) {
        #expect(reason(text) == expected, "\(text.debugDescription)")
    }

    @Test(
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xC0, 0xAF, 0x22],  // stray, truncated, overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
            [0x22, 0xC3, 0x5C, 0x6E, 0x22],  // a sequence cut by an escape
        ] as [[UInt8]])
    func invalidUTF8IsRefused(bytes: [UInt8]) {
        #expect(reason(bytes) == .invalidUTF8)
    }

    @Test func aRepeatedKeyIsNamedByItsPath() throws {
        let text = """
            {"platform": {"baseUrl": "x", "businessId": "a", "businessId": "b"}, "list": [{}, {"k": [0, {"id": 1, "id": 1}]}]}
            """
        do {
            _ = try parse(text)
            Issue.record("accepted")
        } catch {
            #expect(error.reason == .duplicateKey("businessId"))
            #expect(error.dottedPath == "platform.businessId")
            #expect(error.description.contains("\"businessId\" appears twice"))
        }
        do {
            _ = try parse(#"{"list": [{}, {"k": [0, {"id": 1, "id": 2}]}]}"#)
            Issue.record("accepted")
        } catch {
            #expect(error.dottedPath == "list[1].k[1].id")
        }
        // Other errors say where they are too.
        do {
            _ = try parse(#"{"requests": {"ttlSeconds": 01}}"#)
            Issue.record("accepted")
        } catch {
            #expect(error.dottedPath == "requests.ttlSeconds")
            #expect(error.reason == .leadingZero)
        }
    }

    @Test func repeatsAreFoundInLargeObjectsAndUnderCanonicalEquivalence() {
        for count in [1, 15, 16, 17, 40] {
            let keys = (0..<count).map { #""k\#($0)":0"# }
            let unique = "{" + keys.joined(separator: ",") + "}"
            #expect(reason(unique) == nil)
            for repeated in [0, count - 1] {
                let text = "{" + (keys + [#""k\#(repeated)":1"#]).joined(separator: ",") + "}"
                #expect(reason(text) == .duplicateKey("k\(repeated)"), "\(count) keys, k\(repeated) repeated")
            }
        }
        // é precomposed and decomposed, raw and escaped: one key to every Swift lookup.
        #expect(reason("{\"é\":1,\"e\u{301}\":2}") == .duplicateKey("e\u{301}"))
        #expect(reason(#"{"\u00e9":1,"e\u0301":2}"#) == .duplicateKey("e\u{301}"))
        #expect(reason(#"{"a":1,"\u0061":2}"#) == .duplicateKey("a"))
        // The same key in different objects is fine.
        #expect(reason(#"{"a":{"a":1},"b":{"a":2}}"#) == nil)
    }

    @Test func nestingIsBounded() {
        let limit = JSONParser.defaultMaximumDepth
        #expect(reason(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)) == nil)
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(reason(tooDeep) == .tooDeep(limit: limit))
        #expect(reason(String(repeating: #"{"a":"#, count: limit + 1)) == .tooDeep(limit: limit))
        // Far deeper than any stack would take, refused at the limit.
        #expect(reason(String(repeating: "[", count: 1_000_000)) == .tooDeep(limit: limit))
    }

    @Test func roundTripsWhatJSONValueWrites() throws {
        let value = JSONValue.object([
            ("s", .string("q\"\\\n\u{0}\u{7F} 验签 😀 e\u{301}")), ("i", .integer(.min)), ("n", .number(0.1)),
            ("big", .number(1e300)), ("a", .array([.bool(true), .null, .object([("x", .number(-2.5e-7))])])),
        ])
        #expect(try JSONParser.parse(value.encoded()) == value)
    }

    /// On valid JSON without repeated keys, the parser reads what Foundation's JSONSerialization reads.
    @Test func agreesWithFoundation() throws {
        var inputs = [
            #"{"serialNo":"2021081212421866800001","openId":"074a_pRc-9x","userId":"u-42","amount":100}"#,
            #"{"a":"\u00e9\u9a8c\ud83d\ude00","b":"\"\\\/\b\f\n\r\t","c":[1,-0,2.5,1e3,-1E-2,true,false,null]}"#,
            #"{"nested":{"deep":[[[{"x":"y"}]]]},"":"","n":-9223372036854775808,"m":9223372036854775807}"#,
            #"[1,"two",{"three":3}]"#, #""top-level string""#, "42", "true", "null", " [ ] ", "{ }",
            "{\"验签\":\"失败\",\"emoji\":\"😀👨‍👩‍👧‍👦\"}", #"{"a":0.1,"b":123456.789,"c":5e-324}"#,
            "[-2.0320368547854775808]",  // a fuzzer's find: Foundation's reading is a decimal
        ]
        // Mutations of the first: each value type in each position.
        for value in [#""x""#, "0", "-1.5", "true", "null", "[]", "{}", #"[{"k":"v"}]"#] {
            inputs.append(#"{"serialNo":"# + value + #","openId":"o"}"#)
        }
        for text in inputs {
            let bytes = Array(text.utf8)
            let ours = try JSONParser.parse(bytes)
            let theirs = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
            #expect(same(ours, theirs), "\(text)")
        }
    }

    /// Random mutations of real bodies: whatever the parser takes, Foundation takes and reads the same.
    @Test func whatItAcceptsFoundationReadsTheSame() throws {
        var generator = SystemRandomNumberGenerator()
        let seeds = [
            #"{"serialNo":"s-1","openId":"074a_pRc-9x","userId":"u-42","amount":100}"#,
            #"{"serialNo":"s-1","open_id":"o\u002d1","extra":"a\"b","n":[1.5,true,null]}"#,
            #"{"openid":"x","n":-12,"s":"\u00e9\t","o":{"k":"v"}}"#,
        ].map { Array($0.utf8) }
        let alphabet = Array(#"{}[]":,\-0123456789.eE+ \#t\#nabu"#.utf8) + [0x00, 0x7F, 0xC3, 0xA9, 0xFF]
        var accepted = 0
        for _ in 0..<20_000 {
            var body = seeds.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0...body.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0 where position < body.count: body.remove(at: position)
                case 1 where position < body.count:
                    body[position] = alphabet.randomElement(using: &generator)!
                default: body.insert(alphabet.randomElement(using: &generator)!, at: position)
                }
            }
            guard let ours = try? JSONParser.parse(body) else { continue }
            accepted += 1
            let theirs = try JSONSerialization.jsonObject(with: Data(body), options: .fragmentsAllowed)
            #expect(same(ours, theirs), "\(String(decoding: body, as: UTF8.self))")
        }
        #expect(accepted > 500, "the mutations should leave many bodies the parser takes")
    }

    /// Whether a parsed value and Foundation's reading of the same text are the same JSON.
    func same(_ value: JSONValue, _ foundation: Any) -> Bool {
        switch value {
        case .string(let text): return foundation as? String == text
        case .null: return foundation is NSNull
        case .bool(let flag):
            guard let number = foundation as? NSNumber, !(foundation is String) else { return false }
            return String(cString: number.objCType) == "c" && number.boolValue == flag
        case .integer(let integer):
            guard let number = foundation as? NSNumber, !(foundation is String) else { return false }
            return String(cString: number.objCType) != "c" && number.int64Value == integer
                && number.doubleValue == Double(integer)
        case .number(let double):
            guard let number = foundation as? NSNumber, !(foundation is String) else { return false }
            // Foundation reads long numbers as NSDecimalNumber, whose doubleValue can be a few units in
            // the last place away from the nearest Double.
            return String(cString: number.objCType) != "c"
                && abs(number.doubleValue - double) <= abs(double) * 1e-14
        case .array(let items):
            guard let array = foundation as? [Any], array.count == items.count else { return false }
            return zip(items, array).allSatisfy { same($0, $1) }
        case .object(let fields):
            guard let object = foundation as? [String: Any], object.count == fields.count else {
                return false
            }
            return fields.allSatisfy { key, value in object[key].map { same(value, $0) } ?? false }
        }
    }
}
