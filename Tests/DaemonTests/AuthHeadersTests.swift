import HTTP1
import Platform
import Testing

@testable import Daemon

/// The callback's auth headers are picked out of the request in one pass; they must be exactly what
/// header-by-header lookups would give.
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
        #expect(auth.nonce == "N")
        #expect(auth.signType == "MD5")
        #expect(auth.timestamp == "1628772138668")
        #expect(auth.businessId == "B")
        #expect(auth.signed.map(\.name) == ["businessId", "nonce", "signType", "timestamp"])
        #expect(auth.signed.map(\.value) == ["B", "N", "MD5", "1628772138668"])
    }

    @Test func theFirstOfARepeatedHeaderCountsAsTheSubscriptHasIt() {
        let headers = HTTPHeaders([("sign", "first"), ("Sign", "second"), ("nonce", "n1"), ("NONCE", "n2")])
        let auth = AuthHeaders(headers)
        #expect(auth.sign == "first")
        #expect(auth.sign == headers["sign"])
        #expect(auth.nonce == headers["nonce"])
    }

    /// An empty value is never signed: it is left out of the list the string to sign is joined from
    /// as it is (without the filter and sort `StringToSign.make(headers:)` applies).
    @Test func emptyValuesAreLeftOutOfTheSignedList() {
        let auth = AuthHeaders(
            HTTPHeaders([
                ("businessId", "B"), ("nonce", ""), ("signType", ""), ("timestamp", "1"), ("sign", "S"),
            ]))
        #expect(auth.signed.map(\.name) == ["businessId", "timestamp"])
        let body = Array("{}".utf8)
        let all = [("businessId", "B"), ("nonce", ""), ("signType", ""), ("timestamp", "1")]
        #expect(
            StringToSign.make(pickedAndOrdered: auth.signed, body: body)
                == StringToSign.make(headers: all, body: body))
        #expect(
            String(decoding: StringToSign.make(pickedAndOrdered: auth.signed, body: body), as: UTF8.self)
                == "businessId=B&timestamp=1{}")
    }

    @Test func missingHeadersAreNilAndLeftOutOfTheSignedList() {
        let auth = AuthHeaders(HTTPHeaders([("businessId", "B"), ("timestamp", "1")]))
        #expect(auth.sign == nil)
        #expect(auth.signType == nil)
        #expect(auth.nonce == nil)
        #expect(auth.signed.map(\.name) == ["businessId", "timestamp"])
    }
}
