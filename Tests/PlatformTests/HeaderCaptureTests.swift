import HTTP1
import Platform
import Testing

@Suite struct HeaderCaptureTests {
    func parse(_ text: String) throws -> HTTPHeaders {
        try HeaderCapture.parse(Array(text.utf8))
    }

    @Test func plainLinesWithLF() throws {
        let headers = try parse("businessId: b\nnonce: n\nsign: S==\n")
        #expect(headers.count == 3)
        #expect(headers["businessId"] == "b")
        #expect(headers["sign"] == "S==")
    }

    @Test func requestLineAndCRLF() throws {
        let headers = try parse("POST /openidd/callback/tok HTTP/1.1\r\nHost: m.example\r\nnonce: n\r\n\r\n")
        #expect(headers.map(\.name) == ["Host", "nonce"])
    }

    @Test func curlVerboseKeepsOnlyTheRequestHeaders() throws {
        let capture = """
            *   Trying 127.0.0.1:8480...
            * Connected to 127.0.0.1 (127.0.0.1) port 8480
            > POST /openidd/callback/tok HTTP/1.1
            > Host: 127.0.0.1:8480
            > businessId: b
            > sign: S==
            > Content-Length: 35
            >
            } [35 bytes data]
            < HTTP/1.1 401 Unauthorized
            < Content-Type: text/plain; charset=utf-8
            <
            FAIL signature invalid
            """
        let headers = try parse(capture)
        #expect(headers.map(\.name) == ["Host", "businessId", "sign"])
        #expect(headers["Content-Type"] == nil)
    }

    @Test func receivedSidePrefixes() throws {
        let headers = try parse("< POST /cb/tok HTTP/1.1\n< businessId: b\n< timestamp: 1\n")
        #expect(headers["timestamp"] == "1")
    }

    @Test func valuesAreTrimmedAndCaseIsIgnoredOnLookup() throws {
        let headers = try parse("BUSINESSID:   b  \nsign:\tS==\t\n")
        #expect(headers["businessId"] == "b")
        #expect(headers["sign"] == "S==")
    }

    @Test func framingFieldsAreDroppedSoTheBodyFileDecides() throws {
        let headers = try parse("Content-Length: 99999\nTransfer-Encoding: chunked\nnonce: n\n")
        #expect(headers.map(\.name) == ["nonce"])
    }

    @Test func whatFollowsTheBlankLineIsNotAHeader() throws {
        let headers = try parse("nonce: n\n\n{\"serialNo\": \"s\"}\n")
        #expect(headers.map(\.name) == ["nonce"])
    }

    @Test func aLineWithoutAColonIsNamed() throws {
        let error = try #require(throws: HeaderCapture.ParseError.self) {
            try parse("nonce: n\nthis is not a header\n")
        }
        #expect(error.description.contains("line 2"))
        #expect(error.description.contains("this is not a header"))
    }

    @Test func whatTheDaemonRefusesIsRefused() throws {
        let error = try #require(throws: HeaderCapture.ParseError.self) { try parse("nonce : n\n") }
        #expect(error.description.contains("openidd would refuse"))
        #expect(error.description.contains("whitespace between a header name and its colon"))
        #expect(throws: HeaderCapture.ParseError.self) { try parse("bad name: n\n") }
    }

    @Test func aRepeatedAuthHeaderIsRefusedAsTheDaemonRefusesIt() throws {
        let error = try #require(throws: HeaderCapture.ParseError.self) {
            try parse("sign: A==\nbusinessId: b\nSign: B==\n")
        }
        #expect(error.description.contains("openidd would refuse"))
        #expect(error.description.contains("sign"))
        #expect(try parse("Accept: a\nAccept: b\nsign: A==\n").count == 3)
    }

    @Test func emptyCaptureIsRefused() throws {
        #expect(throws: HeaderCapture.ParseError.self) { try parse("") }
        #expect(throws: HeaderCapture.ParseError.self) { try parse("POST /cb HTTP/1.1\r\n\r\n") }
    }
}
