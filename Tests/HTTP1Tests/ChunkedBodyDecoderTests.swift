import Testing

@testable import HTTP1

@Suite struct ChunkedBodyDecoderTests {
    private let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

    @Test func joinsChunks() throws {
        let parsed = parseResponses(
            head + "5\r\nhello\r\n1;ext=\"a b\"\r\n \r\nA ; name ; x=y\r\n0123456789\r\n0\r\n\r\n")
        #expect(parsed.error == nil)
        #expect(parsed.messages.map(\.body) == [Array("hello 0123456789".utf8)])
    }

    @Test func readsAndDiscardsTrailers() throws {
        let parsed = parseResponses(
            head + "3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum: 1\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz")
        #expect(parsed.error == nil)
        #expect(parsed.messages.map(\.body) == [Array("abc".utf8), [UInt8(ascii: "z")]])
        #expect(parsed.messages.first?.headers["Expires"] == nil)
    }

    @Test func acceptsUpperCaseHexAndLeadingZeros() {
        let body = String(repeating: "x", count: 0x1F)
        let parsed = parseResponses(head + "001F\r\n\(body)\r\n00\r\n\r\n")
        #expect(parsed.messages.first?.body.count == 0x1F)
    }

    @Test func waitsForTheLastChunk() {
        let parsed = parseResponses(head + "3\r\nabc\r\n")
        #expect(parsed.messages.isEmpty)
        #expect(parsed.error == nil)
    }

    @Test(arguments: [
        "x\r\n", "\r\n", ";a\r\n", "-1\r\n", "0x5\r\nhello\r\n", "5 junk\r\n", "5;\u{1}\r\n",
        "3\r\nabcd\r\n", "3\r\nabcXY0\r\n\r\n", "3\r\nabc\n0\r\n\r\n", "3\nabc\r\n",
        "3\r\nabc\r\n0\r\nBad Trailer: x\r\n\r\n",
        "3\r\nabc\r\n0\r\nX: y\n\r\n", "3\rabc",
    ])
    func refusesMalformedChunks(chunks: String) {
        let parsed = parseResponses(head + chunks)
        #expect(parsed.messages.isEmpty)
        #expect(parsed.status == 400, "\(parsed.error?.description ?? "no error")")
    }

    @Test func refusesAChunkSizeOverTheBodyLimitBeforeItCanOverflow() {
        #expect(parseResponses(head + "FFFFFFFFFFFFFFFFFFFFFFFF\r\n", maxBodyBytes: 100).status == 413)
        #expect(
            parseResponses(head + "40\r\n\(String(repeating: "a", count: 64))\r\n41\r\n", maxBodyBytes: 100)
                .status == 413)
    }

    @Test func refusesAnEndlessChunkSizeLine() {
        let parsed = parseResponses(
            head + "1;" + String(repeating: "a", count: ChunkedBodyDecoder.maxSizeLineLength))
        #expect(parsed.status == 400)
    }

    /// Each size line is bounded, and so is what all of them add to the data: extensions count together
    /// against the trailer (header) limit, and a size has at most 16 hex digits, leading zeros included.
    /// Otherwise a small body could come wrapped in gigabytes of framing.
    @Test func boundsTheFramingAroundTheData() {
        let extensionLine = "1;" + String(repeating: "e", count: 40) + "\r\nx\r\n"
        let fewExtensions = parseResponses(
            head + String(repeating: extensionLine, count: 3) + "0\r\n\r\n", maxHeaderBytes: 256)
        #expect(fewExtensions.messages.first?.body == Array("xxx".utf8))
        let manyExtensions = parseResponses(
            head + String(repeating: extensionLine, count: 10), maxHeaderBytes: 256)
        #expect(manyExtensions.status == 400, "\(manyExtensions.error?.description ?? "no error")")
        #expect(
            parseResponses(head + "0000000000000001\r\nx\r\n0\r\n\r\n").messages.first?.body == [
                UInt8(ascii: "x")
            ])
        #expect(parseResponses(head + "00000000000000001\r\nx\r\n").status == 400)
    }

    @Test func boundsTheTrailerSection() {
        let trailer = "X: \(String(repeating: "v", count: 100))\r\n\r\n"
        #expect(parseResponses(head + "0\r\n" + trailer, maxHeaderBytes: 64).status == 431)
    }
}
