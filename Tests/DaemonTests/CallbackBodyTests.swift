import Foundation
import Testing

@testable import Daemon

/// The callback body is read by the flat parser when it can and by Foundation otherwise. Whenever the
/// flat parser takes a body, its answer must be exactly Foundation's: a differential check over bodies
/// the platform sends, edge cases, and random mutations of them.
@Suite struct CallbackBodyTests {
    /// Whether the flat parser took the body (and then agreed with Foundation).
    @discardableResult
    func expectSameAsFoundation(_ body: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        guard let flat = CallbackBody.flatFields(body) else { return false }  // Foundation decides alone
        #expect(
            flat == CallbackBody.foundationFields(body), "\(String(decoding: body, as: UTF8.self))",
            sourceLocation: sourceLocation)
        return true
    }

    static let typical =
        #"{"serialNo":"2021081212421866800001","openId":"074a_pRc-9x","userId":"u-42","thirdAccount":"u-42","amount":100}"#

    @Test func aTypicalBodyTakesTheFlatPathAndAgrees() throws {
        let body = Array(Self.typical.utf8)
        let flat = try #require(CallbackBody.flatFields(body))
        #expect(flat["serialNo"] == .string("2021081212421866800001"))
        #expect(flat["amount"] == .other)
        #expect(flat == CallbackBody.foundationFields(body))
    }

    @Test(arguments: [
        #"{}"#, #" { "a" : "b" } "#, "{\t\"a\":\"b\"\r\n}", #"{"a":"\u00e9\u9a8c\ud83d\ude00"}"#,
        #"{"a":"\"\\\/\b\f\n\r\t"}"#, #"{"a":"\u0000"}"#, #"{"\u0061":"key escaped"}"#, #"{"":""}"#,
        #"{"a":0,"b":-0,"c":-9223372036854775807}"#, #"{"a":"验签","b":"😀 e\u0301"}"#,
        #"{"é":"1","e\u0301":"2"}"#, "{\"é\":\"1\",\"e\u{301}\":\"2\"}",
    ])
    func edgeCasesAgree(json: String) {
        expectSameAsFoundation(Array(json.utf8))
    }

    @Test(arguments: [
        #"{"a":1.5}"#, #"{"a":1e3}"#, #"{"a":true}"#, #"{"a":null}"#, #"{"a":{}}"#, #"{"a":[]}"#,
        #"{"a":"1","a":"2"}"#, #"{"a":01}"#, #"{"a":9223372036854775808}"#, #"[1]"#, #""a""#, "",
        #"{"a":"\ud800"}"#, "\u{FEFF}{\"a\":\"b\"}",
    ])
    func whatTheFlatParserDoesNotTakeGoesToFoundation(json: String) {
        #expect(CallbackBody.flatFields(Array(json.utf8)) == nil)
        #expect(
            CallbackBody.fields(Array(json.utf8)) == CallbackBody.foundationFields(Array(json.utf8)))
    }

    @Test func manyFieldsGoToFoundation() throws {
        let fields = (0..<CallbackBody.maxFlatFields).map { #""k\#($0)":"v""# }
        let atLimit = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        #expect(CallbackBody.flatFields(atLimit)?.count == CallbackBody.maxFlatFields)
        let over = Array(("{" + (fields + [#""serialNo":"s-1""#]).joined(separator: ",") + "}").utf8)
        #expect(CallbackBody.flatFields(over) == nil)
        let parsed = try #require(CallbackBody.fields(over))
        #expect(parsed.count == CallbackBody.maxFlatFields + 1)
        #expect(parsed["serialNo"] == .string("s-1"))
        #expect(parsed == CallbackBody.foundationFields(over))
    }

    @Test func fieldsCompareAsSetsOfPairs() {
        var a = CallbackBody.Fields()
        let addedX = a.add("x", .string("1"))
        let addedY = a.add("y", .other)
        let addedAgain = a.add("x", .string("2"))
        #expect(addedX && addedY)
        #expect(!addedAgain, "a key already there is not added again")
        #expect(a["x"] == .string("1"))
        var b = CallbackBody.Fields()
        _ = b.add("y", .other)
        _ = b.add("x", .string("1"))
        #expect(a == b)
        var c = CallbackBody.Fields()
        _ = c.add("x", .string("1"))
        _ = c.add("z", .other)
        #expect(a != c)
        // Canonically equal keys are the same key, as in a Swift dictionary.
        var d = CallbackBody.Fields()
        let precomposed = d.add("\u{E9}", .other)
        let decomposed = d.add("e\u{301}", .other)
        #expect(precomposed && !decomposed)
    }

    @Test func randomMutationsOfRealBodiesAgree() {
        var generator = SystemRandomNumberGenerator()
        let seeds = [
            Self.typical, #"{"serialNo":"s-1","open_id":"o\u002d1","extra":"a\"b"}"#,
            #"{"openid":"x","n":-12,"s":"\u00e9\t"}"#,
        ].map { Array($0.utf8) }
        let alphabet = Array(#"{}[]":,\-0123456789.eE+ \#t\#nabu"#.utf8) + [0x00, 0x7F, 0xC3, 0xA9, 0xFF]
        var flatTook = 0
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
            if expectSameAsFoundation(body) { flatTook += 1 }
        }
        #expect(flatTook > 500, "the mutations should leave many bodies the flat parser takes")
    }
}
