import HTTP1
import Platform
import Testing

@testable import Daemon

/// The callback's auth headers read as text: each the first field of its name, whatever its case.
@Suite struct AuthHeadersTests {
    @Test func picksEachAuthHeaderIgnoringCaseAndTheRest() {
        let headers = HTTPHeaders([
            ("Host", "merchant.example"), ("SIGN", "S"), ("nonce", "N"), ("signtype", "MD5"),
            ("TimeStamp", "1628772138668"), ("businessid", "B"), ("Content-Length", "2"),
            ("signs", "not sign"), ("nonces", "not nonce"),
        ])
        let auth = AuthHeaders(headers)
        #expect(auth.sign == headers["sign"])
        #expect(auth.sign == "S")
        #expect(auth.signType == "MD5")
        #expect(auth.businessId == "B")
    }

    @Test func theFirstOfARepeatedHeaderCountsAsTheSubscriptHasIt() {
        let headers = HTTPHeaders([
            ("sign", "first"), ("Sign", "second"), ("businessId", "b1"), ("BUSINESSID", "b2"),
        ])
        let auth = AuthHeaders(headers)
        #expect(auth.sign == "first")
        #expect(auth.sign == headers["sign"])
        #expect(auth.businessId == "b1")
    }

    @Test func missingHeadersAreNil() {
        let auth = AuthHeaders(HTTPHeaders([("businessId", "B"), ("timestamp", "1")]))
        #expect(auth.sign == nil)
        #expect(auth.signType == nil)
        #expect(auth.businessId == "B")
    }
}
