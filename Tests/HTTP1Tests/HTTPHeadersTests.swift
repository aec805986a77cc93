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
/// fields built from strings give, and editing them must keep the rest.
@Suite struct ReceivedHTTPHeadersTests {
    private static let pairs: [(name: String, value: String)] = [
        ("Host", "merchant.example"), ("sign", "ABC"), ("SIGN", "second"), ("Content-Length", "12"),
        ("x-empty", ""), ("Accept", "*/*"), ("Sign", "third"), ("X-Text", "caf\u{E9} \u{4E2D}"),
    ]

    private func received(_ pairs: [(name: String, value: String)] = pairs) throws -> HTTPHeaders {
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

    /// Lookups pass over names by length and first and last letter before comparing them: names
    /// alike in all three are still told apart by the letters between.
    @Test func namesAlikeAtBothEndsAreToldApart() throws {
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

    /// The framing checks' one pass over received fields finds what the three lookups find: counts,
    /// first values and presence, whatever the case of the names, with look-alike names left alone.
    @Test(arguments: [
        [("Host", "a.example"), ("Content-Length", "12")],
        [("HOST", "a b"), ("host", "second"), ("content-length", "1"), ("Content-Length", "2")],
        [
            ("Transfer-Encoding", "chunked"), ("Hosts", "x"), ("Content-Lengths", "3"),
            ("TRANSFER-ENCODING", "gzip"),
        ],
        [("Accept", "*/*"), ("Transfer-Encodings", "no"), ("Hos", "t"), ("Content-Lengt", "9")],
        [],
    ])
    func framingFieldsAreWhatLookupsFind(fields: [(String, String)]) throws {
        let pairs = fields.map { (name: $0.0, value: $0.1) }
        let hostTest = { (byte: UInt8) in byte != UInt8(ascii: " ") }
        for headers in [try received(pairs), HTTPHeaders(pairs)] {
            let framing = headers.framing(hostTest: hostTest)
            let hosts = headers.countAndCheckFirst("Host", hostTest)
            #expect(framing.hosts.count == hosts.count && framing.hosts.firstPasses == hosts.firstPasses)
            let lengths = headers.firstAndCount("Content-Length")
            #expect(
                framing.contentLengths.first == lengths.first && framing.contentLengths.count == lengths.count
            )
            #expect(framing.hasTransferEncoding == (headers["Transfer-Encoding"] != nil))
        }
        let framing = try received(pairs).framing(hostTest: hostTest)
        #expect(framing.hosts.count == pairs.filter { $0.name.lowercased() == "host" }.count)
        #expect(
            framing.contentLengths.count == pairs.filter { $0.name.lowercased() == "content-length" }.count)
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
            #expect(received.firstAndCount(name).first == built.firstAndCount(name).first, "\(name)")
            var (fromReceived, fromBuilt): ([UInt8], [UInt8]) = ([7], [7])
            let appended = received.appendFirstValue(name, to: &fromReceived)
            #expect(appended == built.appendFirstValue(name, to: &fromBuilt), "\(name)")
            #expect(appended == built[name].map { $0.utf8.count }, "\(name)")
            #expect(
                fromReceived == fromBuilt && fromReceived == [7] + Array((built[name] ?? "").utf8), "\(name)")
            #expect(received.firstAndCount(name).count == built.firstAndCount(name).count, "\(name)")
            let digits = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
            #expect(
                received.countAndCheckFirst(name, digits) == built.countAndCheckFirst(name, digits), "\(name)"
            )
        }
        #expect(received["sign"] == "ABC")
        #expect(received.values("sign") == ["ABC", "second", "third"])
        #expect(received["x-text"] == "caf\u{E9} \u{4E2D}")
        #expect(received.countAndCheckFirst("Content-Length") { $0 >= 0x30 && $0 <= 0x39 } == (1, true))
        #expect(received.countAndCheckFirst("Host") { $0 >= 0x30 && $0 <= 0x39 } == (1, false))
        #expect(received.countAndCheckFirst("Via") { _ in true } == (0, nil))
    }

    @Test func editsKeepTheOtherFieldsInOrder() throws {
        var added = try received()
        added.add("Via", "proxy")
        #expect(added.map(\.name) == Self.pairs.map(\.name) + ["Via"])
        #expect(added["host"] == "merchant.example")

        var set = try received()
        set.set("SIGN", "only")
        #expect(set.values("sign") == ["only"])
        #expect(set.map(\.name) == ["Host", "SIGN", "Content-Length", "x-empty", "Accept", "X-Text"])

        var removed = try received()
        removed.remove("sign")
        #expect(removed["sign"] == nil)
        #expect(removed.map(\.value) == ["merchant.example", "12", "", "*/*", "caf\u{E9} \u{4E2D}"])
    }

    @Test func aCopyReadsTheSameAfterTheOriginalIsEdited() throws {
        var original = try received()
        let copy = original
        original.remove("Host")
        #expect(copy["host"] == "merchant.example")
        #expect(copy.count == Self.pairs.count)
    }
}
