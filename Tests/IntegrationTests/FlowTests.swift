import Crypto
import Foundation
import Platform
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The whole binding flow against the real `openidd` binary and a platform that checks our signatures
/// with Python's `cryptography` (not our code).
@Suite struct FlowTests {
    @Test(arguments: [SignType.sha256RSA, SignType.md5])
    func bindsEndToEnd(signType: SignType) throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory, signType: signType)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, signType: signType, directory: directory)
        try daemon.start()

        let issued = try daemon.issue(userId: "u-42")
        #expect(issued.answer.json["userId"] as? String == "u-42")
        #expect(
            issued.answer.json["alipayAuthUrl"] as? String
                == "https://openauth.example/authorize?serialNo=\(issued.serialNo)")
        let callbackUrl = try #require(issued.answer.json["callbackUrl"] as? String)
        #expect(callbackUrl.hasPrefix("https://merchant.example/openidd/callback/"))
        #expect(issued.token.count >= 22)  // ≥ 128 bits, base64url
        #expect(issued.serialNo.count >= 22)
        #expect(issued.answer.json["expiresAt"] is String)

        // The platform saw exactly one request and found nothing wrong with it.
        let records = platform.records()
        try #require(records.count == 1)
        #expect(records[0]["problems"] as? [String] == [])
        let names = records[0]["headerNames"] as? [String] ?? []
        for name in ["businessId", "nonce", "timestamp", "signType", "sign", "Content-Type", "Accept"] {
            #expect(names.contains(name), "header \(name) not sent with its exact name: \(names)")
        }
        #expect(
            records[0]["body"] as? String
                == "{\"merchantId\":\"\(DaemonUnderTest.merchantId)\",\"businessId\":\"\(DaemonUnderTest.businessId)\",\"serialNo\":\"\(issued.serialNo)\",\"userId\":\"u-42\",\"callbackUrl\":\"\(callbackUrl)\"}"
        )

        // Pending until the callback arrives.
        let pending = try daemon.ipc("GET", "/v1/requests/\(issued.serialNo)")
        #expect(pending.json["state"] as? String == "pending")
        #expect(try daemon.ipc("GET", "/v1/bindings?userId=u-42").status == 404)

        var signature = ""
        let answer = try daemon.callback(
            token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "2088_openid-A"),
            signType: signType
        ) { headers in signature = headers.first { $0.name == "sign" }?.value ?? "" }
        #expect(!signature.isEmpty)
        #expect(answer.status == 200)
        #expect(answer.text == "SUCCESS")

        let lines = daemon.ledgerLines()
        try #require(lines.count == 1)
        let pattern =
            #"^\{"serialNo":"\#(issued.serialNo)","userId":"u-42","openId":"2088_openid-A","merchantId":"\#(DaemonUnderTest.merchantId)","businessId":"\#(DaemonUnderTest.businessId)","boundAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\}$"#
        #expect(lines[0].range(of: pattern, options: .regularExpression) != nil, "ledger line: \(lines[0])")

        let binding = try daemon.ipc("GET", "/v1/bindings?userId=u-42")
        #expect(binding.status == 200)
        #expect(binding.json["openId"] as? String == "2088_openid-A")
        #expect(binding.json["serialNo"] as? String == issued.serialNo)
        let byOpenId = try daemon.ipc("GET", "/v1/bindings?openId=2088_openid-A")
        #expect((byOpenId.json["bindings"] as? [[String: Any]])?.map { $0["userId"] as? String } == ["u-42"])
        let status = try daemon.ipc("GET", "/v1/requests/\(issued.serialNo)")
        #expect(status.json["state"] as? String == "bound")
        #expect(status.json["openId"] as? String == "2088_openid-A")
        #expect(status.json["boundAt"] is String)

        // A repeat of the same callback is acknowledged without a second line.
        let repeatAnswer = try daemon.callback(
            token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "2088_openid-A"),
            signType: signType)
        #expect(repeatAnswer.text == "SUCCESS")
        #expect(daemon.ledgerLines().count == 1)
        #expect(daemon.stop() == 0)

        // journald lines: a priority prefix, the request id, serialNo and userId; never a secret.
        let log = daemon.log
        #expect(log.contains("<6>auth link issued request=ipc-"))
        #expect(log.contains("serialNo=\(issued.serialNo) userId=u-42"))
        // The whole line: the caller's fields first, then the binding's, and nothing else.
        #expect(
            log.range(
                of: #"(^|\n)<6>bound request=callback-[0-9a-f]+ client=127\.0\.0\.1 serialNo="#
                    + issued.serialNo + #" openId=2088_openid-A userId=u-42\n"#,
                options: .regularExpression) != nil)
        #expect(!log.contains(issued.token), "the callback path token is a capability")
        #expect(!log.contains(signature))
        #expect(!log.contains(TestKeys.md5Key))
        #expect(!log.contains("PRIVATE KEY"))
    }

    @Test func sendsTheUserUnderTheConfiguredField() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory, userIdField: "thirdAccount")
        let daemon = DaemonUnderTest(
            platformUrl: platform.baseUrl, extraPlatform: ", \"userIdField\": \"thirdAccount\"",
            directory: directory)
        try daemon.start()
        _ = try daemon.issue(userId: "user1")
        let records = platform.records()
        #expect(records.first?["problems"] as? [String] == [])
        #expect((records.first?["body"] as? String)?.contains("\"thirdAccount\":\"user1\"") == true)
    }

    @Test func appChosenSerialNoIsUsedOnceOnly() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let issued = try daemon.issue(userId: "u-1", serialNo: "order-2026-0001")
        #expect(issued.serialNo == "order-2026-0001")
        let again = try daemon.ipc(
            "POST", "/v1/auth-url", body: #"{"userId":"u-2","serialNo":"order-2026-0001"}"#)
        #expect(again.status == 409)
        #expect(again.errorCode == "serial_no_in_use")
        #expect(platform.records().count == 1)
    }

    @Test func longPollAnswersWhenTheCallbackBinds() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let issued = try daemon.issue(userId: "poller")

        // A waiting `openidctl wait` returns as soon as the binding is durable.
        let waiter = Process()
        waiter.executableURL = URL(fileURLWithPath: Binaries.openidctl)
        waiter.arguments = ["--socket", daemon.socketPath, "wait", issued.serialNo, "--timeout", "30"]
        let out = Pipe()
        waiter.standardOutput = out
        try waiter.run()
        usleep(300_000)
        #expect(waiter.isRunning)
        let answer = try daemon.callback(
            token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "oid-poll"))
        #expect(answer.text == "SUCCESS")
        waiter.waitUntilExit()
        #expect(waiter.terminationStatus == 0)
        #expect(
            String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                == "bound oid-poll\n")

        // ?wait on a request still pending returns after the wait with state pending.
        let other = try daemon.issue(userId: "nobody")
        let started = Date()
        let status = try daemon.ipc("GET", "/v1/requests/\(other.serialNo)?wait=1")
        #expect(status.json["state"] as? String == "pending")
        #expect(Date().timeIntervalSince(started) >= 0.9)
    }

    @Test func curlWorksOnTheUnixSocket() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let result = try run(
            "/usr/bin/curl",
            [
                "-s", "--unix-socket", daemon.socketPath, "http://localhost/v1/auth-url", "-d",
                #"{"userId":"curl-user"}"#,
            ])
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"userId\":\"curl-user\""))
        #expect(result.stdout.contains("\"alipayAuthUrl\":\"https://openauth.example/authorize?serialNo="))
        let health = try run(
            "/usr/bin/curl", ["-s", "--unix-socket", daemon.socketPath, "http://localhost/v1/health"])
        #expect(health.stdout.hasPrefix("{\"status\":\"ok\""))
    }

    @Test func manyConcurrentCallbacksAllBindOnce() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let issued = try (0..<24).map { try daemon.issue(userId: "user-\($0)") }
        let results = ResultBox(count: issued.count)
        DispatchQueue.concurrentPerform(iterations: issued.count) { index in
            let request = issued[index]
            let answer = try? daemon.callback(
                token: request.token, body: callbackBody(serialNo: request.serialNo, openId: "oid-\(index)"))
            results.set(index, answer?.text ?? "error")
        }
        #expect(results.values.allSatisfy { $0 == "SUCCESS" })
        let lines = daemon.ledgerLines()
        #expect(lines.count == issued.count)
        #expect(Set(lines).count == issued.count)
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String]
    init(count: Int) { storage = Array(repeating: "", count: count) }
    func set(_ index: Int, _ value: String) { lock.withLock { storage[index] = value } }
    var values: [String] { lock.withLock { storage } }
}
