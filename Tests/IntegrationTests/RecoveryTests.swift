import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Restarts, graceful and `kill -9`: nothing acknowledged is lost, pending requests still bind, and the
/// ledger's torn or corrupt lines are handled as SPEC says.
@Suite struct RecoveryTests {
    @Test(arguments: [SIGTERM, SIGKILL])
    func bindingsAndPendingRequestsSurviveARestart(signal: Int32) throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let bound = try daemon.issue(userId: "bound-user")
        #expect(
            try daemon.callback(
                token: bound.token, body: callbackBody(serialNo: bound.serialNo, openId: "oid-1")
            ).text == "SUCCESS")
        let pending = try daemon.issue(userId: "pending-user")

        let status = daemon.stop(signal: signal)
        if signal == SIGTERM { #expect(status == 0) }
        try daemon.start()

        // The binding is still there, and the request issued before the restart still binds.
        #expect(try daemon.ipc("GET", "/v1/bindings?userId=bound-user").json["openId"] as? String == "oid-1")
        #expect(
            try daemon.ipc("GET", "/v1/requests/\(pending.serialNo)").json["state"] as? String == "pending")
        let answer = try daemon.callback(
            token: pending.token, body: callbackBody(serialNo: pending.serialNo, openId: "oid-2"))
        #expect(answer.text == "SUCCESS")
        // Idempotency survives the restart too, and the serialNo stays used.
        #expect(
            try daemon.callback(
                token: bound.token, body: callbackBody(serialNo: bound.serialNo, openId: "oid-1")
            ).text == "SUCCESS")
        #expect(
            try daemon.callback(
                token: bound.token, body: callbackBody(serialNo: bound.serialNo, openId: "oid-x")
            ).status == 409)
        #expect(
            try daemon.ipc(
                "POST", "/v1/auth-url", body: "{\"userId\":\"x\",\"serialNo\":\"\(pending.serialNo)\"}"
            ).status == 409)
        #expect(daemon.ledgerLines().count == 2)
        let health = try daemon.ipc("GET", "/v1/health")
        #expect(health.json["bindings"] as? Int == 2)
    }

    @Test func aSecondDaemonOnTheSameSocketRefusesToStartAndLeavesTheFirstServing() throws {
        let directory = TemporaryDirectory()
        let first = DaemonUnderTest(platformUrl: "http://127.0.0.1:9", directory: directory)
        try first.start()
        let second = try run(Binaries.openidd, ["--config", first.configPath])
        #expect(second.status == 1)
        #expect(second.stderr.contains("in use by another openidd process"), "\(second.stderr)")
        #expect(try first.ipc("GET", "/v1/health").status == 200)
    }

    @Test func tornLastLineIsCutOffSavedAsideAndAppendsStartOnAFreshLine() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let first = try daemon.issue(userId: "u-1")
        #expect(
            try daemon.callback(
                token: first.token, body: callbackBody(serialNo: first.serialNo, openId: "oid-1")
            ).text == "SUCCESS")
        let second = try daemon.issue(userId: "u-2")
        daemon.stop(signal: SIGKILL)

        // A crash in the middle of writing the second binding's line.
        let torn = "{\"serialNo\":\"\(second.serialNo)\",\"userId\":\"u-2\",\"openId\":\"oid-"
        let handle = try #require(FileHandle(forWritingAtPath: daemon.ledgerPath))
        handle.seekToEndOfFile()
        handle.write(Data(torn.utf8))
        handle.closeFile()

        try daemon.start()
        #expect(daemon.log.contains("torn last line"))
        let saved = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/state").filter {
            $0.hasPrefix("bindings.jsonl.torn-")
        }
        try #require(saved.count == 1)
        #expect(try String(contentsOfFile: directory.path + "/state/" + saved[0], encoding: .utf8) == torn)
        // The unacknowledged binding was not applied: the platform's retry binds it now.
        let retry = try daemon.callback(
            token: second.token, body: callbackBody(serialNo: second.serialNo, openId: "oid-2"))
        #expect(retry.text == "SUCCESS")
        let lines = daemon.ledgerLines()
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
    }

    @Test func corruptCompleteLineStopsStartUpNamingFileAndLine() throws {
        let directory = TemporaryDirectory()
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9", directory: directory)
        try FileManager.default.createDirectory(
            atPath: directory.path + "/state", withIntermediateDirectories: true)
        let good =
            #"{"serialNo":"s1","userId":"u1","openId":"o1","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#
        let content =
            good + "\n" + "{this is not json}\n" + good.replacingOccurrences(of: "s1", with: "s2") + "\n"
        _ = directory.write("state/bindings.jsonl", content)
        #expect(throws: TestFailure.self) { try daemon.start() }
        #expect(daemon.log.contains("bindings.jsonl line 2 is corrupt"))
        // Nothing was changed.
        #expect(try String(contentsOfFile: daemon.ledgerPath, encoding: .utf8) == content)
    }

    @Test func ledgerWrittenByAnotherVersionWithExtraKeysLoads() throws {
        let directory = TemporaryDirectory()
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9", directory: directory)
        try FileManager.default.createDirectory(
            atPath: directory.path + "/state", withIntermediateDirectories: true)
        _ = directory.write(
            "state/bindings.jsonl",
            #"{"serialNo":"s1","userId":"u1","openId":"o1","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z","note":"later key"}"#
                + "\n")
        try daemon.start()
        let binding = try daemon.ipc("GET", "/v1/bindings?userId=u1")
        #expect(binding.json["openId"] as? String == "o1")
        #expect(binding.json["boundAt"] as? String == "2026-11-26T15:47:21.123Z")
    }
}
