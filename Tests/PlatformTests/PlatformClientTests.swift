import HTTPClient
import Platform
import Testing

@Suite struct SignedRequestTests {
    @Test func isWhatRequestAuthLinkSends() throws {
        let client = try PlatformClient(
            account: makeAccount(), keys: try makeKeys(), timeoutSeconds: 1, http: HTTPClient())
        let request = try client.signedRequest(
            serialNo: "s-1", userId: "u-42", callbackUrl: "https://m.example/cb/tok", nonce: "24bc8a1f",
            timestamp: 1_628_772_138_668)
        #expect(request.body == makeBody())
        #expect(request.target == "/v1/openapi/auth/alipay/url")
        let wire = String(decoding: request.bytes, as: UTF8.self)
        #expect(wire.hasPrefix("POST /v1/openapi/auth/alipay/url HTTP/1.1\r\nHost: platform.example\r\n"))
        #expect(wire.contains("\r\nbusinessId: 754e0c5d\r\nnonce: 24bc8a1f\r\n"))
        #expect(wire.contains("\r\nConnection: close\r\n"))
        #expect(wire.hasSuffix("\r\n\r\n" + String(decoding: makeBody(), as: UTF8.self)))
        // The README's known answer, made with the OpenSSL CLI.
        #expect(request.authHeaders.last?.name == "sign")
        #expect(request.authHeaders.last?.value == (try fixture("string_to_sign_rsa.sig.b64")))
    }
}
