import Crypto
import Foundation
import HTTP1
import Platform
import Testing

@testable import Daemon

/// The callback handler called as the event loop calls it, without a socket: a request parsed from
/// received bytes in, a `SUCCESS` or `FAIL <reason>` out, and what reached the ledger and the log.
@Suite struct CallbackEndpointTests {
    @Test func theRequestsOwnPathTokenBinds() throws {
        let f = try ServiceFixture()
        let request = try f.issue(userId: "u-42")
        let answer = try f.callback(
            signedCallback(
                token: request.token, body: callbackBody(serialNo: request.serialNo, openId: "oid-1")))
        #expect(answer.status == 200)
        #expect(answer.text == "SUCCESS")
        let lines = try f.ledgerLines()
        #expect(lines.count == 1)
        #expect(lines.first?.contains(#""openId":"oid-1""#) == true)
        #expect(f.service.latestBinding(userId: "u-42")?.openId == "oid-1")
        #expect(
            f.logs.lines.contains(
                "<6>bound request=callback-1 client=203.0.113.7 serialNo=\(request.serialNo) openId=oid-1 userId=u-42"
            ), "\(f.logText)")
        #expect(!f.logText.contains(request.token), "the path token is a capability")
    }

    @Test func aPathTokenThatIsNotTheRequestsOwnIs403() throws {
        let f = try ServiceFixture()
        let request = try f.issue(userId: "u-1")
        let other = try f.issue(userId: "u-2")
        let body = callbackBody(serialNo: request.serialNo, openId: "oid-1")
        // A made-up token, and the token of another serialNo: both well-formed, both valid signatures.
        for token in [SecureRandom.token(byteCount: 32), other.token] {
            let answer = try f.callback(signedCallback(token: token, body: body))
            #expect(answer.status == 403, "\(answer.text)")
            #expect(answer.text == "FAIL token mismatch")
        }
        #expect(try f.ledgerLines().isEmpty)
        #expect(
            f.logs.lines.filter { $0.contains("security: callback path token does not match") }.count == 2)
        #expect(!f.logText.contains(request.token) && !f.logText.contains(other.token))
        // The request's own token still binds after the refusals.
        #expect(try f.callback(signedCallback(token: request.token, body: body)).text == "SUCCESS")
    }

    @Test func aBadSignatureIs401AndNeitherSignatureReachesTheLog() throws {
        let f = try ServiceFixture()
        let request = try f.issue()
        let body = callbackBody(serialNo: request.serialNo, openId: "oid-1")
        var sent: [String] = []
        // Signed with the merchant's key, not the platform's.
        let platform = try LocalPlatform.shared.get()
        let wrongKey = try signedCallback(
            token: request.token, body: body, keys: SigningKeys(merchantPrivateKey: platform.merchantKey))
        sent.append(try #require(wrongKey.headers["sign"]))
        // The platform's signature over the same headers and another body.
        let keys = try LocalPlatform.callbackKeys()
        let otherBody = Array(callbackBody(serialNo: request.serialNo, openId: "oid-2").utf8)
        var otherSign = ""
        let forOtherBody = try signedCallback(token: request.token, body: body) { headers in
            let unsigned = headers.filter { $0.name != "sign" }
            otherSign =
                (try? keys.sign(StringToSign.make(headers: unsigned, body: otherBody), type: .sha256RSA))
                ?? ""
            headers = unsigned + [("sign", otherSign)]
        }
        #expect(!otherSign.isEmpty)
        sent.append(otherSign)
        for callback in [wrongKey, forOtherBody] {
            let answer = try f.callback(callback)
            #expect(answer.status == 401)
            #expect(answer.text == "FAIL signature invalid")
        }
        let missing = try f.callback(
            signedCallback(token: request.token, body: body) { $0.removeAll { $0.name == "sign" } })
        #expect(missing.status == 401)
        #expect(missing.text == "FAIL signature missing")
        #expect(try f.ledgerLines().isEmpty)

        let refusals = f.logs.lines.filter { $0.contains("security: callback signature invalid") }
        #expect(refusals.count == 2, "\(f.logText)")
        for line in refusals {
            #expect(line.contains(" request=callback-1 client=203.0.113.7 "), "\(line)")
            #expect(line.contains(" signType=SHA256-RSA"), "\(line)")
        }
        // Neither the signature received nor the one that would have verified is written anywhere.
        let expected = try keys.sign(
            StringToSign.make(receivedHeaders: wrongKey.headers, body: wrongKey.body), type: .sha256RSA)
        for signature in sent + [expected] {
            #expect(!f.logText.contains(signature))
            #expect(!f.logText.contains(String(signature.prefix(16))))
        }
    }

    @Test func anUnknownSerialNoIs404() throws {
        let f = try ServiceFixture()
        let request = try f.issue()
        let answer = try f.callback(
            signedCallback(token: request.token, body: callbackBody(serialNo: "never-issued", openId: "oid")))
        #expect(answer.status == 404)
        #expect(answer.text == "FAIL unknown serialNo")
        #expect(try f.ledgerLines().isEmpty)
    }

    @Test func anExpiredRequestIs410() throws {
        // A time to live of 0 s: the request expires as it is issued.
        let f = try ServiceFixture(ttlSeconds: 0)
        let request = try f.issue()
        let answer = try f.callback(
            signedCallback(
                token: request.token, body: callbackBody(serialNo: request.serialNo, openId: "oid")))
        #expect(answer.status == 410)
        #expect(answer.text == "FAIL request expired")
        #expect(try f.ledgerLines().isEmpty)
    }

    @Test func aCallbackForAnotherUserIs400() throws {
        let f = try ServiceFixture()
        let request = try f.issue(userId: "u-42")
        let answer = try f.callback(
            signedCallback(
                token: request.token,
                body: callbackBody(serialNo: request.serialNo, openId: "oid", userId: "u-43")))
        #expect(answer.status == 400)
        #expect(answer.text == "FAIL userId mismatch")
        #expect(try f.ledgerLines().isEmpty)
    }

    /// Only `POST {publicUrl path}/{token}` is a callback; the rest is refused on the head alone.
    @Test func otherPathsAndMethodsAreRefusedOnTheHead() throws {
        let f = try ServiceFixture()
        let request = try f.issue()
        let endpoint = f.endpoint
        let wrongMethod = try received("GET", ServiceFixture.publicPath + "/" + request.token)
        let refusal = try #require(endpoint.headRefusal(wrongMethod))
        #expect(refusal.status == 405)
        #expect(refusal.headers["Allow"] == "POST")
        for target in [
            "/", "/openidd/callbacks/" + request.token, ServiceFixture.publicPath + "/", "/v1/health",
        ] {
            let head = try received("POST", target)
            #expect(endpoint.headRefusal(head)?.status == 404, "\(target)")
            let answer = try f.callback(head)
            #expect(answer.status == 404, "\(target)")
            #expect(answer.text == "FAIL not found")
        }
        #expect(
            endpoint.headRefusal(try received("POST", ServiceFixture.publicPath + "/" + request.token)) == nil
        )
        #expect(try f.ledgerLines().isEmpty)
    }
}
