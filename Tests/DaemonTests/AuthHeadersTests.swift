import HTTP1
import Platform
import Testing

@testable import Daemon

/// The callback's auth headers read as text, whatever their case; a repeated one named.
@Suite struct AuthHeadersTests {
    @Test func picksEachAuthHeaderIgnoringCaseAndTheRest() {
        let headers = ReceivedHeaders(
            HTTPHeaders([
                ("Host", "merchant.example"), ("SIGN", "S"), ("nonce", "N"), ("signtype", "MD5"),
                ("TimeStamp", "1628772138668"), ("businessid", "B"), ("Content-Length", "2"),
                ("signs", "not sign"), ("nonces", "not nonce"),
            ]))
        let auth = AuthHeaders(headers)
        #expect(auth.sign == headers["sign"])
        #expect(auth.sign == "S")
        #expect(auth.signType == "MD5")
        #expect(auth.businessId == "B")
    }

    /// Which of two values is the real one is not a guess to make: two parsers that guess differently
    /// are how requests get smuggled.
    @Test(arguments: ["sign", "businessId", "nonce", "timestamp", "signType"])
    func aRepeatedAuthHeaderIsNamed(name: String) {
        let fields = [
            ("sign", "S"), ("businessId", "B"), ("nonce", "N"), ("timestamp", "1"), ("signType", "MD5"),
        ]
        #expect(AuthHeaders(ReceivedHeaders(HTTPHeaders(fields))).repeated == nil)
        let doubled = ReceivedHeaders(HTTPHeaders(fields + [(name.uppercased(), "second")]))
        #expect(AuthHeaders(doubled).repeated == name)
    }

    @Test func otherRepeatedHeadersAreNotTheChecksConcern() {
        let headers = ReceivedHeaders(HTTPHeaders([("sign", "S"), ("Accept", "a"), ("Accept", "b")]))
        #expect(AuthHeaders(headers).repeated == nil)
    }

    @Test func missingHeadersAreNil() {
        let auth = AuthHeaders(ReceivedHeaders(HTTPHeaders([("businessId", "B"), ("timestamp", "1")])))
        #expect(auth.sign == nil)
        #expect(auth.signType == nil)
        #expect(auth.businessId == "B")
    }
}
