import Crypto
import Foundation
import HTTP1
import HTTPClient
import Platform
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// When a request counts as pending, when a serialNo may be issued again, and what racing callbacks
/// for one serialNo are told: the same answers before and after a restart.
@Suite struct SerialNoRuleTests {
    /// Waits (bounded) until `condition` holds.
    func waitUntil(seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    @Test func expiredRequestsStopCountingAtTheirExpiry() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(
            platformUrl: platform.baseUrl, ttlSeconds: 3, maxPending: 5, directory: directory)
        try daemon.start()
        var expiries: [Date] = []
        for index in 0..<5 {
            let issued = try daemon.issue(userId: "u-\(index)")
            let expiresAt = try #require(issued.answer.json["expiresAt"] as? String)
            expiries.append(try #require(ISO8601DateFormatter.withMilliseconds.date(from: expiresAt)))
        }
        #expect(try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"sixth"}"#).status == 429)
        #expect(try daemon.ipc("GET", "/v1/health").json["pending"] as? Int == 5)
        // (Three seconds, so that even a sanitizer's slow daemon issues all five before the first
        // expires.) Past the last expiry, well before the minute's sweep, none of them counts any more.
        while Date() <= expiries.max()! { usleep(50_000) }
        #expect(try daemon.ipc("GET", "/v1/health").json["pending"] as? Int == 0)
        #expect(try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"sixth"}"#).status == 200)
        #expect(try daemon.ipc("GET", "/v1/health").json["pending"] as? Int == 1)
    }

    @Test func aFailedSerialNoMayBeIssuedAgainAPendingOrExpiredOneMayNotAcrossRestarts() throws {
        let directory = TemporaryDirectory()
        let rejecting = try FakePlatform(in: directory, mode: "reject")
        let accepting = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: rejecting.baseUrl, ttlSeconds: 2, directory: directory)
        try daemon.start()
        func issue(_ serialNo: String) throws -> Int {
            try daemon.ipc("POST", "/v1/auth-url", body: "{\"userId\":\"u-1\",\"serialNo\":\"\(serialNo)\"}")
                .status
        }

        // The platform refuses: each retry with the same serialNo is a new attempt, not a 409.
        #expect(try issue("s-failed") == 502)
        #expect(try issue("s-failed") == 502)
        #expect(rejecting.records().count == 2)
        daemon.stop()
        try daemon.start()
        #expect(try issue("s-failed") == 502, "the same after a restart")
        #expect(rejecting.records().count == 3)

        // Now the platform accepts: the failed serialNo gets its link, and is then in use.
        daemon.stop()
        let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: rejecting.baseUrl, with: accepting.baseUrl).write(
            toFile: daemon.configPath, atomically: true, encoding: .utf8)
        try daemon.start()
        #expect(try issue("s-failed") == 200)
        #expect(try issue("s-failed") == 409, "pending")
        daemon.stop()
        try daemon.start()
        #expect(try issue("s-failed") == 409, "pending, after a restart")
        #expect(
            try waitUntil {
                try daemon.ipc("GET", "/v1/requests/s-failed").json["state"] as? String == "expired"
            })
        #expect(try issue("s-failed") == 409, "expired")
        daemon.stop()
        try daemon.start()
        #expect(try issue("s-failed") == 409, "expired, after a restart")
        #expect(accepting.records().count == 1)
    }

    @Test func conflictingCallbacksRacingForOneSerialNoGetSuccessOr409NeverBusy() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        // All 160 callbacks come from 127.0.0.1 at once: the per-client cap (64 by default) is not what
        // this test checks, and would answer some of them 503 depending on how fast others finish.
        let daemon = DaemonUnderTest(
            platformUrl: platform.baseUrl, extraCallback: #", "maxConnectionsPerClient": 1000"#,
            directory: directory)
        try daemon.start()
        let requests = try (0..<4).map { try daemon.issue(userId: "u-\($0)") }
        let perSerialNo = 40
        // Signed beforehand, each on its own thread and connection, then let go at once: the callbacks
        // for one serialNo arrive while the first of them is being written.
        let signing = SigningKeys(merchantPrivateKey: TestKeys.platform, md5Key: [])
        let prepared = try (0..<requests.count * perSerialNo).map { index in
            let request = requests[index % requests.count]
            let openId = "oid-\(index % 3)"
            let body = Array(callbackBody(serialNo: request.serialNo, openId: openId).utf8)
            var headers = HTTPHeaders()
            headers.add("Content-Type", "application/json; charset=utf-8")
            for (name, value) in try signing.authHeaders(
                businessId: DaemonUnderTest.businessId, nonce: SecureRandom.token(byteCount: 12),
                timestamp: Int64(Date().timeIntervalSince1970 * 1000), signType: .sha256RSA, body: body)
            {
                headers.add(name, value)
            }
            return (request: request, openId: openId, headers: headers, body: body)
        }
        let answers = LockedAnswers()
        let gate = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for callback in prepared {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                gate.wait()
                let response = try? HTTPClient().send(
                    method: "POST", target: "/openidd/callback/\(callback.request.token)",
                    headers: callback.headers,
                    body: callback.body, to: .url(HTTPURL("http://127.0.0.1:\(daemon.callbackPort)")!),
                    timeoutSeconds: 30)
                answers.append(
                    serialNo: callback.request.serialNo, openId: callback.openId,
                    status: response?.status ?? 0,
                    text: response.map { String(decoding: $0.body, as: UTF8.self) } ?? "no answer")
            }
            thread.start()
        }
        for _ in prepared { gate.signal() }
        group.wait()

        #expect(daemon.ledgerLines().count == requests.count, "one binding per serialNo")
        for request in requests {
            let mine = answers.values.filter { $0.serialNo == request.serialNo }
            #expect(mine.count == perSerialNo)
            let refused = mine.filter { !($0.status == 200 && $0.text == "SUCCESS") && $0.status != 409 }
            #expect(
                refused.isEmpty,
                "\(request.serialNo): \(refused.count) answers neither SUCCESS nor 409, e.g. \(refused.prefix(2).map { "\($0.status) \($0.text)" })"
            )
            let bound = try daemon.ipc("GET", "/v1/requests/\(request.serialNo)").json["openId"] as? String
            let winners = Set(mine.filter { $0.status == 200 }.map(\.openId))
            #expect(winners == Set([bound].compactMap { $0 }), "SUCCESS only for the openId bound")
            #expect(mine.filter { $0.status == 409 }.allSatisfy { $0.openId != bound })
        }
    }
}

final class LockedAnswers: @unchecked Sendable {
    struct Answer {
        let serialNo: String
        let openId: String
        let status: Int
        let text: String
    }
    private let lock = NSLock()
    private var storage: [Answer] = []
    func append(serialNo: String, openId: String, status: Int, text: String) {
        lock.withLock {
            storage.append(Answer(serialNo: serialNo, openId: openId, status: status, text: text))
        }
    }
    var values: [Answer] { lock.withLock { storage } }
}

extension ISO8601DateFormatter {
    static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
