import Testing

@testable import HTTP1

@Suite struct HTTPHeadersTests {
    private func headers() -> HTTPHeaders {
        HTTPHeaders([("businessId", "b1"), ("Accept", "*/*"), ("BUSINESSID", "b2"), ("Via", "x")])
    }

    @Test func looksUpIgnoringCaseAndKeepsNamesAsWritten() {
        let headers = headers()
        #expect(headers["businessid"] == "b1")
        #expect(headers.values("BusinessId") == ["b1", "b2"])
        #expect(headers["Missing"] == nil)
        #expect(headers.values("Missing").isEmpty)
        #expect(headers.map(\.name) == ["businessId", "Accept", "BUSINESSID", "Via"])
        #expect(headers.count == 4)
    }

    @Test func addAppends() {
        var headers = headers()
        headers.add("signType", "MD5")
        #expect(summary(headers).hasSuffix("[signType: MD5]"))
        #expect(headers.count == 5)
    }

    @Test func setReplacesEveryFieldOfThatNameInPlace() {
        var headers = headers()
        headers.set("BusinessID", "b3")
        #expect(summary(headers) == "[BusinessID: b3][Accept: */*][Via: x]")
        headers.set("New", "n")
        #expect(summary(headers) == "[BusinessID: b3][Accept: */*][Via: x][New: n]")
    }

    @Test func removeDropsEveryFieldOfThatName() {
        var headers = headers()
        headers.remove("BUSINESSid")
        #expect(summary(headers) == "[Accept: */*][Via: x]")
        headers.remove("absent")
        #expect(headers.count == 2)
    }

    @Test func doesNotConfuseNamesThatDifferBeyondCase() {
        let headers = HTTPHeaders([("Content-Length", "1")])
        #expect(headers["Content-Lengt"] == nil)
        #expect(headers["Content_Length"] == nil)
        #expect(headers["Content-Length "] == nil)
    }

    @Test func startsEmpty() {
        #expect(HTTPHeaders().count == 0)
        var iterator = HTTPHeaders().makeIterator()
        #expect(iterator.next() == nil)
    }
}
