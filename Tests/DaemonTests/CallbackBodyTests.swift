import JSON
import Testing

@testable import Daemon

/// A callback body is read by `JSONParser` alone; what it refuses becomes the `FAIL` reason.
@Suite struct CallbackBodyTests {
    static let typical =
        #"{"serialNo":"2021081212421866800001","openId":"074a_pRc-9x","userId":"u-42","thirdAccount":"u-42","amount":100}"#

    @Test func aTypicalBodyIsAnObject() throws {
        guard case .object(let object) = CallbackBody.parse(Array(Self.typical.utf8)) else {
            Issue.record("refused")
            return
        }
        #expect(object["serialNo"] == .string("2021081212421866800001"))
        #expect(object["amount"] == .integer(100))
    }

    /// Whichever copy of a repeated key a reader would believe, none is believed.
    @Test(arguments: [
        #"{"serialNo":"bogus","serialNo":"s-1","openId":"x"}"#,
        #"{"serialNo":"s-1","openId":"x","serialNo":"bogus"}"#,
        #"{"serialNo":"s-1","openId":"x","openId":"y"}"#,
        #"{"serialNo":"s-1","openId":"x","amount":1,"amount":1}"#,
        #"{"serialNo":"s-1","openId":"x","\u0061":1,"a":2}"#,
        #"{"serialNo":"s-1","openId":"x","n":{"k":1,"k":2}}"#,
    ])
    func aRepeatedKeyIsRefused(body: String) {
        #expect(CallbackBody.parse(Array(body.utf8)) == .refused("duplicate key"))
    }

    @Test(arguments: [
        "", "[]", #""s""#, "1", #"{"serialNo":"s-1",}"#, #"{"a":01}"#, "{\"a\":\"\u{1}\"}", "\u{FEFF}{}",
        "{} x",
    ])
    func anythingElseIsNotAnObject(body: String) {
        #expect(CallbackBody.parse(Array(body.utf8)) == .refused("body is not a JSON object"))
    }
}
