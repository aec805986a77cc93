import Foundation
import Platform
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// When the platform does not give a link: 502 with its status and message, 504 on a timeout, and the
/// serialNo may be sent again (a new attempt; the platform judges whether it has seen it).
@Suite struct PlatformFailureTests {
    func issueAgainst(mode: String, timeoutSeconds: Double = 5) throws -> (
        DaemonUnderTest.Answer, DaemonUnderTest, FakePlatform
    ) {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory, mode: mode)
        let daemon = DaemonUnderTest(
            platformUrl: platform.baseUrl, timeoutSeconds: timeoutSeconds, directory: directory)
        try daemon.start()
        let answer = try daemon.ipc(
            "POST", "/v1/auth-url", body: #"{"userId":"u-1","serialNo":"s-\#(mode)"}"#)
        return (answer, daemon, platform)
    }

    @Test func platformRefusalIs502WithItsStatusAndMessage() throws {
        let (answer, daemon, platform) = try issueAgainst(mode: "reject")
        #expect(answer.status == 502)
        let error = try #require(answer.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "platform_error")
        #expect(error["platformStatus"] as? Int == 1001)
        #expect(error["platformMessage"] as? String == "商户不存在")
        #expect((error["message"] as? String)?.contains("商户不存在") == true)
        let status = try daemon.ipc("GET", "/v1/requests/s-reject")
        #expect(status.json["state"] as? String == "failed")
        // The same serialNo again is a new attempt, refused again by the platform.
        let retry = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"u-1","serialNo":"s-reject"}"#)
        #expect(retry.status == 502)
        #expect(retry.errorCode == "platform_error")
        #expect(platform.records().count == 2)
        let health = try daemon.ipc("GET", "/v1/health")
        #expect((health.json["lastPlatformError"] as? String)?.contains("1001") == true)
    }

    @Test(arguments: ["error500", "badurl", "garbage"])
    func unusableAnswersAre502(mode: String) throws {
        let (answer, _, _) = try issueAgainst(mode: mode)
        #expect(answer.status == 502)
        #expect(answer.errorCode == "platform_error")
    }

    @Test func chunkedAnswerIsRead() throws {
        let (answer, _, _) = try issueAgainst(mode: "chunked")
        #expect(answer.status == 200)
        #expect(
            answer.json["alipayAuthUrl"] as? String == "https://openauth.example/authorize?serialNo=s-chunked"
        )
    }

    @Test func slowPlatformIs504() throws {
        let started = Date()
        let (answer, _, _) = try issueAgainst(mode: "timeout", timeoutSeconds: 1)
        #expect(answer.status == 504)
        #expect(answer.errorCode == "platform_timeout")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test func unreachablePlatformIs502() throws {
        // A port nobody listens on.
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        try daemon.start()
        let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"u-1"}"#)
        #expect(answer.status == 502)
        #expect(answer.errorCode == "platform_unreachable")
    }
}
