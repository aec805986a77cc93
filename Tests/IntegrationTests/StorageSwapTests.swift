import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The ledger or the journal deleted or replaced under a running daemon: it stops acknowledging, says
/// where the acknowledged lines are, and a restart after the operator put the file back loses nothing.
@Suite struct StorageSwapTests {
    @Test func deletedLedgerStopsAcknowledgementsAndItsLinesAreRecoverable() throws {
        let (platform, daemon, late) = try startWithABindingAndALateRequest()
        defer { daemon.stop(signal: SIGKILL) }
        _ = platform

        try FileManager.default.removeItem(atPath: daemon.ledgerPath)
        for _ in 0..<3 {
            let answer = try daemon.callback(
                token: late.token, body: callbackBody(serialNo: late.serialNo, openId: "oid-2"))
            #expect(answer.status == 503)
            #expect(answer.text == "FAIL storage")
        }
        // Nothing recreated the file behind the operator's back.
        #expect(!FileManager.default.fileExists(atPath: daemon.ledgerPath))
        try expectHealthNames(daemon.ledgerPath, "deleted", daemon)
        // A journal write succeeding does not make the ledger look healthy again.
        #expect(try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"other"}"#).status == 200)
        #expect(try daemon.ipc("GET", "/v1/health").status == 503)

        let descriptor = try recoveryDescriptor(in: daemon.log, file: daemon.ledgerPath, event: "deleted")
        try copyBack(descriptor, to: daemon.ledgerPath)
        daemon.stop(signal: SIGKILL)
        try daemon.start()
        #expect(try daemon.ipc("GET", "/v1/bindings?userId=bound-user").json["openId"] as? String == "oid-1")
        // The refused callback was never acknowledged; the platform's retry binds it now.
        #expect(
            try daemon.callback(
                token: late.token, body: callbackBody(serialNo: late.serialNo, openId: "oid-2")
            )
            .text == "SUCCESS")
        #expect(daemon.ledgerLines().count == 2)
    }

    @Test func ledgerReplacedByRenameStopsAcknowledgementsAndItsLinesAreRecoverable() throws {
        let (platform, daemon, late) = try startWithABindingAndALateRequest()
        defer { daemon.stop(signal: SIGKILL) }
        _ = platform

        try replaceByRename(daemon.ledgerPath)
        let answer = try daemon.callback(
            token: late.token, body: callbackBody(serialNo: late.serialNo, openId: "oid-2"))
        #expect(answer.status == 503)
        #expect(answer.text == "FAIL storage")
        try expectHealthNames(daemon.ledgerPath, "replaced", daemon)
        // The replacement was left as it was.
        #expect(daemon.ledgerLines().count == 1)

        let descriptor = try recoveryDescriptor(in: daemon.log, file: daemon.ledgerPath, event: "replaced")
        try copyBack(descriptor, to: daemon.ledgerPath)
        daemon.stop(signal: SIGTERM)
        try daemon.start()
        #expect(try daemon.ipc("GET", "/v1/bindings?userId=bound-user").json["openId"] as? String == "oid-1")
        #expect(try daemon.ipc("GET", "/v1/health").status == 200)
    }

    @Test func deletedJournalStopsAuthLinksAndItsRequestsAreRecoverable() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        defer { daemon.stop(signal: SIGKILL) }
        let issued = try daemon.issue(userId: "early-user")

        try FileManager.default.removeItem(atPath: daemon.journalPath)
        for index in 0..<3 {
            let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"late-\#(index)"}"#)
            #expect(answer.status == 503)
            #expect(answer.errorCode == "storage_failed")
        }
        #expect(!FileManager.default.fileExists(atPath: daemon.journalPath))
        try expectHealthNames(daemon.journalPath, "deleted", daemon)

        let descriptor = try recoveryDescriptor(in: daemon.log, file: daemon.journalPath, event: "deleted")
        try copyBack(descriptor, to: daemon.journalPath)
        daemon.stop(signal: SIGKILL)
        try daemon.start()
        // The request issued before the journal went away still binds.
        #expect(
            try daemon.callback(
                token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "oid-1")
            ).text == "SUCCESS")
        #expect(try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"after"}"#).status == 200)
    }

    @Test func journalReplacedByRenameStopsAuthLinksAndItsRequestsAreRecoverable() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        defer { daemon.stop(signal: SIGKILL) }
        let issued = try daemon.issue(userId: "early-user")

        let edited = try replaceByRename(daemon.journalPath)
        let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"late-user"}"#)
        #expect(answer.status == 503)
        #expect(answer.errorCode == "storage_failed")
        try expectHealthNames(daemon.journalPath, "replaced", daemon)
        // The replacement was left as it was.
        #expect(try Data(contentsOf: URL(fileURLWithPath: daemon.journalPath)) == edited)

        let descriptor = try recoveryDescriptor(in: daemon.log, file: daemon.journalPath, event: "replaced")
        try copyBack(descriptor, to: daemon.journalPath)
        daemon.stop(signal: SIGTERM)
        try daemon.start()
        #expect(
            try daemon.callback(
                token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "oid-1")
            ).text == "SUCCESS")
        #expect(try daemon.ipc("GET", "/v1/health").status == 200)
    }

    /// A daemon that has bound `bound-user` to `oid-1` and issued a link for `late-user`, not yet bound.
    /// The platform is returned so that it lives as long as the test.
    private func startWithABindingAndALateRequest() throws -> (
        FakePlatform, DaemonUnderTest, late: (serialNo: String, token: String, answer: DaemonUnderTest.Answer)
    ) {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let bound = try daemon.issue(userId: "bound-user")
        try #require(
            try daemon.callback(
                token: bound.token, body: callbackBody(serialNo: bound.serialNo, openId: "oid-1")
            ).text == "SUCCESS")
        return (platform, daemon, try daemon.issue(userId: "late-user"))
    }

    /// An edit the way editors and `cp` + `mv` make one: a copy renamed over the file. Returns the copy's bytes.
    @discardableResult
    private func replaceByRename(_ path: String) throws -> Data {
        let copy = path + ".edit"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: copy))
        try #require(rename(copy, path) == 0)
        return bytes
    }

    /// Health answers 503 and names the file and what happened to it.
    private func expectHealthNames(_ file: String, _ event: String, _ daemon: DaemonUnderTest) throws {
        let health = try daemon.ipc("GET", "/v1/health")
        #expect(health.status == 503)
        let storage = health.json["storage"] as? String ?? ""
        #expect(storage.contains(file) && storage.contains(event), "\(storage)")
    }

    /// As the log line tells the operator: `cp /proc/PID/fd/N <file>`.
    private func copyBack(_ descriptor: String, to path: String) throws {
        let copied = try run("/bin/cp", [descriptor, path])
        try #require(copied.status == 0, "\(copied.stderr)")
    }

    /// Exactly one critical line names the file and what happened, and where its acknowledged lines
    /// can be copied from: returns that `/proc/PID/fd/N` path.
    private func recoveryDescriptor(in log: String, file: String, event: String) throws -> String {
        let critical = log.split(separator: "\n").filter { $0.hasPrefix("<2>") }
        try #require(critical.count == 1, "\(critical)")
        let line = String(critical[0])
        #expect(line.contains(file) && line.contains(event) && line.contains("inode"), "\(line)")
        let match = try #require(line.firstMatch(of: /\/proc\/[0-9]+\/fd\/[0-9]+/), "\(line)")
        return String(match.output)
    }
}
