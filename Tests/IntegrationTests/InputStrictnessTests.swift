import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Input the daemon reads one way where another reader might read it another: repeated JSON keys,
/// disagreeing openId names, userIds longer in bytes than in Characters, loose numbers.
@Suite struct InputStrictnessTests {
    /// `{"serialNo":"bogus","serialNo":"<real>"}` must not bind, in either order, nor any other repeat.
    @Test func aCallbackWithARepeatedKeyIsRefused() throws {
        let f = try CallbackRefusalTests.Fixture()
        let bodies = [
            #"{"serialNo":"bogus","serialNo":"\#(f.serialNo)","openId":"oid-1"}"#,
            #"{"serialNo":"\#(f.serialNo)","serialNo":"bogus","openId":"oid-1"}"#,
            #"{"serialNo":"\#(f.serialNo)","openId":"oid-1","openId":"oid-2"}"#,
            #"{"serialNo":"\#(f.serialNo)","openId":"oid-1","extra":{"k":1,"k":2}}"#,
        ]
        for body in bodies {
            f.expectRefused(try f.daemon.callback(token: f.token, body: body), 400, "duplicate key")
        }
        // The same request binds once the body says each thing once.
        let answer = try f.daemon.callback(
            token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid-1"))
        #expect(answer.text == "SUCCESS")
    }

    @Test func aCallbackWhoseOpenIdNamesDisagreeIsRefused() throws {
        let f = try CallbackRefusalTests.Fixture()
        for extra in [#","open_id":"oid-2""#, #","openid":"oid-2""#] {
            f.expectRefused(
                try f.daemon.callback(
                    token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid-1", extra: extra)),
                400, "openId fields disagree")
        }
        // Names that agree are one openId.
        let answer = try f.daemon.callback(
            token: f.token,
            body: callbackBody(
                serialNo: f.serialNo, openId: "oid-1", extra: #","openid":"oid-1","open_id":"oid-1""#))
        #expect(answer.text == "SUCCESS", "\(answer.text)")
    }

    @Test func anIPCBodyWithARepeatedKeyIsRefusedNamingIt() throws {
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        try daemon.start()
        let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"u-1","userId":"u-2"}"#)
        #expect(answer.status == 400)
        #expect(answer.errorCode == "invalid_json")
        let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message == "The body repeats the key \"userId\"; send each key once.", "\(message)")
        let trailing = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"u-1",}"#)
        #expect(trailing.errorCode == "invalid_json")
    }

    /// SPEC: 1–128 scalars and ≤ 512 bytes; every accepted userId can be looked up with a GET.
    @Test func userIdLimitsAreScalarsAndBytesAndTheLongestCanBeLookedUp() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        func authURL(_ userId: String) throws -> DaemonUnderTest.Answer {
            try daemon.ipc("POST", "/v1/auth-url", body: "{\"userId\":\"\(userId)\"}")
        }
        let stacked = "e" + String(repeating: "\u{301}", count: 32_000)  // one Character, 64,001 bytes
        #expect(try authURL(stacked).errorCode == "invalid_user_id")
        let longest = String(repeating: "😀", count: 128)  // 128 scalars, 512 bytes
        #expect(try authURL(longest + "u").errorCode == "invalid_user_id", "513 bytes, 129 scalars")
        #expect(try authURL(String(repeating: "u", count: 129)).errorCode == "invalid_user_id")

        let issued = try daemon.issue(userId: longest)
        let bound = try daemon.callback(
            token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "oid-longest"))
        #expect(bound.text == "SUCCESS")
        // As curl sends it: every byte percent-encoded (1,536 bytes of query).
        let encoded = longest.utf8.map { String(format: "%%%02X", $0) }.joined()
        let found = try daemon.ipc("GET", "/v1/bindings?userId=\(encoded)")
        #expect(found.status == 200, "\(found.text)")
        #expect(found.json["openId"] as? String == "oid-longest")
        let get = try run(Binaries.openidctl, ["--socket", daemon.socketPath, "get", longest])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout.hasPrefix("oid-longest\n"), "\(get.stdout)")
    }

    /// `Double("0x10")` is 16: the wait must be written in decimal.
    @Test func waitTakesDecimalSecondsOnly() throws {
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        try daemon.start()
        for wait in ["0x10", "1e1", "+5", "-0", "inf", "nan", " 5", "5.", ".5", "60.5", "61"] {
            let escaped = wait.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? wait
            let answer = try daemon.ipc("GET", "/v1/requests/abc?wait=\(escaped)")
            #expect(answer.status == 400, "wait=\(wait)")
            #expect(answer.errorCode == "invalid_wait", "wait=\(wait): \(answer.text)")
        }
        for wait in ["0", "0.1", "60"] {
            #expect(try daemon.ipc("GET", "/v1/requests/abc?wait=\(wait)").status == 404, "wait=\(wait)")
        }
    }

    /// Settings that work but leave a door open get one warning line (`<4>`) each at start-up.
    @Test func riskySettingsAreWarnedAboutAtStartUp() throws {
        let directory = TemporaryDirectory()
        _ = mkdir(directory.path + "/state", 0o770)
        chmod(directory.path + "/state", 0o770)
        let daemon = DaemonUnderTest(
            platformUrl: "http://platform.example", socketMode: "0666", directory: directory)
        try daemon.start()
        let warnings = daemon.log.split(separator: "\n").filter { $0.hasPrefix("<4>") }
        for key in ["platform.baseUrl", "ipc.socketMode", "storage.directory"] {
            #expect(warnings.filter { $0.contains(key) }.count == 1, "\(key): \(daemon.log)")
        }

        // None of them for a safe configuration.
        let safe = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        try safe.start()
        let safeWarnings = safe.log.split(separator: "\n").filter { $0.hasPrefix("<4>") }
        for key in ["platform.baseUrl", "ipc.socketMode", "storage.directory"] {
            #expect(!safeWarnings.contains { $0.contains(key) }, "\(safe.log)")
        }
    }
}
