import Testing

@testable import HTTPServer

/// Each request's id: the listener's name, a dash, and a count in lowercase hex.
@Suite struct RequestIdTests {
    @Test func idsCountUpInHexAfterThePrefix() throws {
        // The count is shared by every server in the process (tests run in parallel): ids only grow.
        var last: UInt64 = 0
        for _ in 0..<300 {
            let id = nextRequestId(prefix: "callback-")
            #expect(id.hasPrefix("callback-"))
            let digits = String(id.dropFirst("callback-".count))
            let number = try #require(UInt64(digits, radix: 16))
            #expect(digits == String(number, radix: 16), "\(id)")
            #expect(number > last)
            last = number
        }
    }

    @Test func aLongPrefixIsKeptWhole() throws {
        let prefix = "a-listener-name-longer-than-a-small-string-"
        let id = nextRequestId(prefix: prefix)
        #expect(id.hasPrefix(prefix))
        let number = try #require(UInt64(id.dropFirst(prefix.count), radix: 16))
        #expect(id == prefix + String(number, radix: 16))
    }
}
