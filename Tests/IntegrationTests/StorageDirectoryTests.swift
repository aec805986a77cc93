import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One writer per storage directory, held on the directory itself; the ledger and the journal are
/// regular files inside it, never symbolic links.
@Suite struct StorageDirectoryTests {
    @Test func twoDaemonsRacingForOneDirectoryStartExactlyOne() throws {
        for _ in 0..<3 {
            let first = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
            let second = try daemonSharingStorage(with: first)
            let daemons = [first, second]
            let results = Mutex<[Int: Bool]>([:])
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                let started = (try? daemons[index].start()) != nil
                results.withLock { $0[index] = started }
            }
            defer { for daemon in daemons { daemon.stop(signal: SIGKILL) } }
            let started = results.withLock { $0 }
            try #require(started.values.filter { $0 }.count == 1, "\(first.log)\n\(second.log)")
            let winner = started[0] == true ? first : second
            let loser = started[0] == true ? second : first
            #expect(loser.process?.terminationStatus == 1)
            let state = first.directory.path + "/state"
            #expect(loser.log.contains("\(state) is in use by another openidd process"), "\(loser.log)")
            #expect(loser.log.contains("pid \(winner.process!.processIdentifier)"), "\(loser.log)")
            #expect(try winner.ipc("GET", "/v1/health").status == 200)
        }
    }

    @Test func removingALockFileDoesNotLetASecondDaemonIn() throws {
        let first = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        // A `lock` file left by an older openidd is left alone.
        try FileManager.default.createDirectory(
            atPath: first.directory.path + "/state", withIntermediateDirectories: true)
        let oldLock = first.directory.write("state/lock", "")
        try first.start()
        defer { first.stop(signal: SIGKILL) }
        let second = try daemonSharingStorage(with: first)
        defer { second.stop(signal: SIGKILL) }
        #expect(throws: TestFailure.self) { try second.start() }
        #expect(FileManager.default.fileExists(atPath: oldLock))

        try? FileManager.default.removeItem(atPath: oldLock)
        #expect(throws: TestFailure.self) { try second.start() }
        #expect(second.log.contains("is in use by another openidd process"), "\(second.log)")
        #expect(try first.ipc("GET", "/v1/health").status == 200)
    }

    @Test(arguments: ["bindings.jsonl", "pending.jsonl"])
    func symlinkedLedgerOrJournalRefusesStartUpNamingTheFile(name: String) throws {
        let directory = TemporaryDirectory()
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9", directory: directory)
        try FileManager.default.createDirectory(
            atPath: directory.path + "/state", withIntermediateDirectories: true)
        let outside = directory.write("outside.jsonl", "")
        #expect(symlink(outside, directory.path + "/state/" + name) == 0)

        #expect(throws: TestFailure.self) { try daemon.start() }
        #expect(daemon.process?.terminationStatus == 1)
        #expect(daemon.log.contains("\(directory.path)/state/\(name) is a symbolic link"), "\(daemon.log)")
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "")
    }

    @Test func storageDirectoryReachedThroughASymlinkWorks() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try FileManager.default.createDirectory(
            atPath: directory.path + "/real-state", withIntermediateDirectories: true)
        #expect(symlink(directory.path + "/real-state", directory.path + "/state") == 0)
        try daemon.start()
        defer { daemon.stop(signal: SIGKILL) }
        let request = try daemon.issue(userId: "u-1")
        #expect(
            try daemon.callback(
                token: request.token, body: callbackBody(serialNo: request.serialNo, openId: "oid-1")
            ).text == "SUCCESS")
        #expect(daemon.ledgerLines().count == 1)
    }

    /// A daemon with its own socket and port whose storage directory is `other`'s.
    private func daemonSharingStorage(with other: DaemonUnderTest) throws -> DaemonUnderTest {
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try config.replacingOccurrences(
            of: #""directory": "state""#, with: "\"directory\": \"\(other.directory.path)/state\""
        ).write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        return daemon
    }
}
