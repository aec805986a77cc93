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

/// Received fields stay bytes until asked for; every way of reading them must give what the same
/// fields built from strings give.
@Suite struct ReceivedHeadersTests {
    private static let pairs: [(name: String, value: String)] = [
        ("Host", "merchant.example"), ("sign", "ABC"), ("SIGN", "second"), ("Content-Length", "12"),
        ("x-empty", ""), ("Accept", "*/*"), ("Sign", "third"), ("X-Text", "caf\u{E9} \u{4E2D}"),
    ]

    private func received(_ pairs: [(name: String, value: String)] = pairs) throws -> ReceivedHeaders {
        let head = Array(pairs.map { "\($0.name): \($0.value)\r\n" }.joined().utf8)
        var lines: [Range<Int>] = []
        var start = 0
        for index in head.indices where head[index] == 0x0A {
            lines.append(start..<(index - 1))
            start = index + 1
        }
        return try head.withUnsafeBufferPointer { bytes throws(HTTPParseError) in
            try FieldLines.parse(bytes, lines: lines)
        }
    }

    @Test func namesOfOneLengthAreToldApart() throws {
        let received = try received([("spin", "1"), ("Sign", "2"), ("scan", "3"), ("S", "4"), ("SIGN", "5")])
        #expect(received["sign"] == "2")
        #expect(received["SPIN"] == "1")
        #expect(received["scan"] == "3")
        #expect(received["s"] == "4")
        #expect(received["skin"] == nil)
        #expect(received[""] == nil)
        #expect(received.values("sign") == ["2", "5"])
        #expect(received.firstAndCount("sIgN").count == 2)
    }

    @Test func readsAsTheSameFieldsBuiltFromStrings() throws {
        let received = try received()
        let built = HTTPHeaders(Self.pairs)
        #expect(received.count == built.count)
        #expect(received.map(\.name) == built.map(\.name))
        #expect(received.map(\.value) == built.map(\.value))
        for name in [
            "sign", "Sign", "SIGN", "host", "content-length", "x-empty", "X-TEXT", "missing", "sig", "signs",
        ] {
            #expect(received[name] == built[name], "\(name)")
            #expect(received.values(name) == built.values(name), "\(name)")
            let counted = received.firstAndCount(name)
            #expect(counted.first == built[name] && counted.count == built.values(name).count, "\(name)")
            var appended: [UInt8] = [7]
            let count = received.appendFirstValue(name, to: &appended)
            #expect(count == built[name].map { $0.utf8.count }, "\(name)")
            #expect(appended == [7] + Array((built[name] ?? "").utf8), "\(name)")
        }
        #expect(received["sign"] == "ABC")
        #expect(received.values("sign") == ["ABC", "second", "third"])
        #expect(received["x-text"] == "caf\u{E9} \u{4E2D}")
    }

    /// The two conversions: built fields laid out as received read the same, and received fields
    /// turned into built ones keep their order and can be edited.
    @Test func convertsBothWays() throws {
        let laidOut = ReceivedHeaders(HTTPHeaders(Self.pairs))
        #expect(summary(laidOut) == summary(try received()))
        #expect(laidOut.firstAndCount("sign").count == 3)

        var edited = HTTPHeaders(try received())
        #expect(summary(edited) == summary(try received()))
        edited.set("SIGN", "only")
        edited.add("Via", "proxy")
        #expect(edited.values("sign") == ["only"])
        #expect(
            edited.map(\.name) == ["Host", "SIGN", "Content-Length", "x-empty", "Accept", "X-Text", "Via"])
    }
}
