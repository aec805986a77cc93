import Foundation
import HTTP1
import Testing

@testable import Daemon

/// The IPC API's routing called directly, without a socket: each route's methods, statuses and error
/// codes, over a service with a real store and a real platform client.
@Suite struct IPCRouterTests {
    @Test func anAuthLinkIsIssuedAndItsRequestLookedUp() throws {
        let f = try ServiceFixture()
        let router = f.router
        let issued = router.handle(
            try received("POST", "/v1/auth-url", body: Array(#"{"userId":"u-42"}"#.utf8)))
        #expect(issued.status == 200, "\(issued.text)")
        #expect(issued.headers["Content-Type"] == "application/json")
        let serialNo = try #require(issued.json["serialNo"] as? String)
        #expect(issued.json["userId"] as? String == "u-42")
        #expect((issued.json["callbackUrl"] as? String)?.hasPrefix(ServiceFixture.publicUrl + "/") == true)
        #expect((issued.json["alipayAuthUrl"] as? String)?.contains(serialNo) == true)

        let status = router.handle(try received("GET", "/v1/requests/\(serialNo)"))
        #expect(status.status == 200)
        #expect(status.json["state"] as? String == "pending")
        #expect(router.handle(try received("GET", "/v1/bindings?userId=u-42")).errorCode == "not_found")

        let callbackUrl = try #require(issued.json["callbackUrl"] as? String)
        let token = String(callbackUrl.dropFirst(ServiceFixture.publicUrl.count + 1))
        guard case .bound = try f.bind(serialNo: serialNo, token: token, openId: "oid-1") else {
            Issue.record("the issued request did not bind with the token of its callbackUrl")
            return
        }
        let binding = router.handle(try received("GET", "/v1/bindings?userId=u-42"))
        #expect(binding.status == 200)
        #expect(binding.json["openId"] as? String == "oid-1")
        #expect(binding.json["serialNo"] as? String == serialNo)
        let byOpenId = router.handle(try received("GET", "/v1/bindings?openId=oid-1"))
        #expect((byOpenId.json["bindings"] as? [[String: Any]])?.map { $0["userId"] as? String } == ["u-42"])
        #expect(
            router.handle(try received("GET", "/v1/requests/\(serialNo)")).json["state"] as? String == "bound"
        )
    }

    @Test(arguments: ["/", "/v1", "/v1/auth-url/", "/v1/binding", "/v1/requests", "/metrics/x"])
    func anUnknownPathIs404(path: String) throws {
        let f = try ServiceFixture()
        let answer = f.router.handle(try received("GET", path))
        #expect(answer.status == 404)
        #expect(answer.errorCode == "not_found")
    }

    @Test(arguments: [
        ("GET", "/v1/auth-url", "POST"), ("DELETE", "/v1/auth-url", "POST"), ("POST", "/v1/bindings", "GET"),
        ("POST", "/v1/health", "GET"), ("PUT", "/metrics", "GET"), ("POST", "/v1/requests/s-1", "GET"),
    ])
    func aWrongMethodIs405WithAllow(method: String, path: String, allow: String) throws {
        let f = try ServiceFixture()
        let answer = f.router.handle(try received(method, path))
        #expect(answer.status == 405)
        #expect(answer.errorCode == "method_not_allowed")
        #expect(answer.headers["Allow"] == allow)
    }

    @Test(arguments: [
        (#"{"userId":"u-1""#, "invalid_json"),
        (#"["u-1"]"#, "invalid_json"),
        (#"{"userId":"u-1","userId":"u-2"}"#, "invalid_json"),
        (#"{"userId":"u-1","callbackUrl":"https://evil.example"}"#, "unknown_field"),
        (#"{"userId":""}"#, "invalid_user_id"),
        (#"{"userId":42}"#, "invalid_user_id"),
        (#"{"userId":"u-1","serialNo":"a b"}"#, "invalid_serial_no"),
    ])
    func aBadAuthLinkBodyIs400(body: String, code: String) throws {
        let f = try ServiceFixture()
        let answer = f.router.handle(try received("POST", "/v1/auth-url", body: Array(body.utf8)))
        #expect(answer.status == 400, "\(answer.text)")
        #expect(answer.errorCode == code, "\(answer.text)")
        #expect(f.service.counts.pending == 0)
    }

    @Test(arguments: [
        ("/v1/bindings", "invalid_query"),
        ("/v1/bindings?userId=u-1&openId=o-1", "invalid_query"),
        ("/v1/requests/a%20b", "invalid_serial_no"),
        ("/v1/requests/s-1?wait=0x10", "invalid_wait"),
        ("/v1/requests/s-1?wait=61", "invalid_wait"),
        ("/v1/requests/s-1?wait=-1", "invalid_wait"),
    ])
    func aBadLookupIs400(target: String, code: String) throws {
        let f = try ServiceFixture()
        let answer = f.router.handle(try received("GET", target))
        #expect(answer.status == 400, "\(answer.text)")
        #expect(answer.errorCode == code, "\(answer.text)")
    }

    @Test func anUnknownSerialNoIs404() throws {
        let f = try ServiceFixture()
        let answer = f.router.handle(try received("GET", "/v1/requests/never-issued"))
        #expect(answer.status == 404)
        #expect(answer.errorCode == "not_found")
    }

    @Test func anUnreachablePlatformIs502AndNoRequestIsPending() throws {
        let f = try ServiceFixture(platformUrl: "http://127.0.0.1:9")
        let answer = f.router.handle(
            try received("POST", "/v1/auth-url", body: Array(#"{"userId":"u-1","serialNo":"s-1"}"#.utf8)))
        #expect(answer.status == 502)
        #expect(answer.errorCode == "platform_unreachable")
        #expect(
            f.router.handle(try received("GET", "/v1/requests/s-1")).json["state"] as? String != "pending")
        let health = f.router.handle(try received("GET", "/v1/health"))
        #expect(health.json["pending"] as? Int == 0)
        #expect((health.json["lastPlatformError"] as? String)?.contains("could not be reached") == true)
    }

    @Test func healthAndMetricsAnswerFromMemory() throws {
        let f = try ServiceFixture()
        let router = f.router
        #expect(!router.mayBlock(try received("GET", "/v1/health")))
        #expect(!router.mayBlock(try received("GET", "/v1/bindings?userId=u")))
        #expect(router.mayBlock(try received("POST", "/v1/auth-url")))
        #expect(router.mayBlock(try received("GET", "/v1/requests/s-1?wait=30")))
        let health = router.handle(try received("GET", "/v1/health"))
        #expect(health.status == 200)
        #expect(health.json["status"] as? String == "ok")
        #expect(health.json["storageDirectory"] as? String == f.directory.path + "/state")
        let metrics = router.handle(try received("GET", "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.text.contains("openidd_callbacks_total"))
    }
}
