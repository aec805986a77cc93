import Platform
import Testing

private func interpret(_ body: String, status: Int = 200) -> AuthLinkCall.Outcome {
    AuthLinkCall.interpret(httpStatus: status, body: Array(body.utf8))
}

private func answer(link: String, status: Int = 420) -> String {
    #"{"status": \#(status), "message": "success", "data": {"alipayAuthUrl": "\#(link)"}}"#
}

@Suite struct AuthLinkCallTests {
    @Test func bodyIsCompactOrderedWithUnescapedSlashes() {
        #expect(
            text(makeBody())
                == #"{"merchantId":"eb1b","businessId":"754e0c5d","serialNo":"s-1","userId":"u-42","callbackUrl":"https://m.example/cb/tok"}"#
        )
    }

    @Test func userIdFieldNamesTheUsersKey() {
        #expect(
            text(makeBody(userIdField: "thirdAccount"))
                == #"{"merchantId":"eb1b","businessId":"754e0c5d","serialNo":"s-1","thirdAccount":"u-42","callbackUrl":"https://m.example/cb/tok"}"#
        )
        #expect(!text(makeBody(userIdField: "thirdAccount")).contains(#""userId""#))
    }

    @Test func bodyEscapesUserSuppliedText() {
        let body = AuthLinkCall.body(
            account: makeAccount(), serialNo: "s", userId: "a\"b\\验", callbackUrl: "https://x/y")
        #expect(text(body).contains(#""userId":"a\"b\\验""#))
    }

    @Test func path() {
        #expect(AuthLinkCall.path == "/v1/openapi/auth/alipay/url")
    }

    @Test func seedExampleIsALink() {
        let link = "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm?app_id=1&scope=auth_base"
        #expect(interpret(answer(link: link)) == .link(link))
    }

    @Test(arguments: [200, 201, 299])
    func any2xxWithALinkSucceeds(status: Int) {
        #expect(
            interpret(answer(link: "http://p.example/a", status: 0), status: status)
                == .link("http://p.example/a"))
    }

    @Test func platformErrorCarriesStatusAndMessage() {
        #expect(
            interpret(#"{"status":2,"message":"验签失败"}"#)
                == .refused(platformStatus: 2, platformMessage: "验签失败", httpStatus: 200))
    }

    @Test func errorStatusWithALinkIsStillRefused() {
        #expect(
            interpret(answer(link: "https://p.example/a"), status: 500)
                == .refused(platformStatus: 420, platformMessage: "success", httpStatus: 500))
        #expect(
            interpret(answer(link: "https://p.example/a"), status: 302)
                == .refused(platformStatus: 420, platformMessage: "success", httpStatus: 302))
    }

    @Test(arguments: [
        "javascript:alert(1)", "ftp://p.example/a", "", "https://", "http://", "//p.example/a", "p.example/a",
        "https://p.example/a b", "data:text/html,x",
    ])
    func nonWebLinksAreRefused(link: String) {
        #expect(
            interpret(answer(link: link))
                == .refused(platformStatus: 420, platformMessage: "success", httpStatus: 200))
    }

    @Test func linkSchemeIsCaseInsensitive() {
        #expect(interpret(answer(link: "HTTPS://p.example/a")) == .link("HTTPS://p.example/a"))
    }

    @Test(arguments: [
        "", "not json", "{", "[]", "null",
        // The seed's own example: curly quotes.
        "{\u{201C}status\u{201D}: 420, \u{201C}message\u{201D}: \u{201C}success\u{201D}}",
    ])
    func invalidJSONIsRefusedWithoutAStatus(body: String) {
        #expect(interpret(body) == .refused(platformStatus: nil, platformMessage: nil, httpStatus: 200))
    }

    /// Which of two links would be believed is not a choice to make: an answer with a key twice is no link.
    @Test func anAnswerWithARepeatedKeyIsNoLink() {
        let body =
            #"{"status":420,"data":{"alipayAuthUrl":"https://p.example/a","alipayAuthUrl":"https://evil.example/b"}}"#
        #expect(interpret(body) == .refused(platformStatus: nil, platformMessage: nil, httpStatus: 200))
    }

    @Test func wrongShapesAreRefused() {
        #expect(
            interpret(#"{"status":0,"data":{"alipayAuthUrl":5}}"#)
                == .refused(platformStatus: 0, platformMessage: nil, httpStatus: 200))
        #expect(
            interpret(#"{"status":0,"data":"https://p.example"}"#)
                == .refused(platformStatus: 0, platformMessage: nil, httpStatus: 200))
        #expect(
            interpret(#"{"status":"0","message":7,"data":{}}"#)
                == .refused(platformStatus: nil, platformMessage: nil, httpStatus: 200))
        #expect(
            interpret(#"{"alipayAuthUrl":"https://p.example"}"#)
                == .refused(platformStatus: nil, platformMessage: nil, httpStatus: 200))
    }

    @Test func platformErrorDescriptionIsASentence() {
        let error = PlatformError.refused(platformStatus: 2, platformMessage: "验签失败", httpStatus: 200)
        #expect(error.description.contains("status 2"))
        #expect(error.description.contains("验签失败"))
        #expect(PlatformError.timeout(seconds: 10).description.contains("10"))
    }
}
