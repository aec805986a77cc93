import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A ledger that contradicts itself stops start-up, and `openidctl check` reads the storage directory
/// as start-up does, listing every problem.
@Suite struct CheckTests {
    /// A daemon's directory with `state/` made, not started.
    func daemonWithState() throws -> DaemonUnderTest {
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        try FileManager.default.createDirectory(
            atPath: daemon.directory.path + "/state", withIntermediateDirectories: true)
        return daemon
    }

    @Test func aLedgerBindingOneSerialNoToTwoOpenIdsStopsStartUp() throws {
        let daemon = try daemonWithState()
        let content =
            ledgerLine("s-1", openId: "oid-first") + ledgerLine("s-2", userId: "u-2", openId: "oid-2")
            + ledgerLine("s-1", openId: "oid-second")
        _ = daemon.directory.write("state/bindings.jsonl", content)
        #expect(throws: TestFailure.self) { try daemon.start() }
        #expect(daemon.process?.terminationStatus == 1)
        #expect(
            daemon.log.contains(
                "\(daemon.ledgerPath) line 3 binds serialNo s-1 to openId oid-second, but line 1 bound it to openId oid-first"
            ), "\(daemon.log)")
        #expect(daemon.log.contains("refusing to start"))
        #expect(try String(contentsOfFile: daemon.ledgerPath, encoding: .utf8) == content, "nothing changed")
    }

    @Test func checkListsEveryProblemWithFileAndLineAndChangesNothing() throws {
        let daemon = try daemonWithState()
        let journal = #"{"op":"pending","serialNo":"p-1"}"# + "\n"
        let ledger =
            ledgerLine("s-1", openId: "oid-first") + "{not json}\n" + ledgerLine("s-1", openId: "oid-second")
            + ledgerLine("s-2", userId: "u-2", openId: "oid-2") + #"{"serialNo":"s-3","#
        _ = daemon.directory.write("state/pending.jsonl", journal)
        _ = daemon.directory.write("state/bindings.jsonl", ledger)

        let result = try run(Binaries.openidctl, ["check", "--config", daemon.configPath])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 5, "\(result.stdout)\(result.stderr)")
        #expect(lines[0].hasPrefix("\(daemon.journalPath) line 1 is corrupt (missing string \"userId\")"))
        #expect(lines[1].hasPrefix("\(daemon.ledgerPath) line 2 is corrupt"))
        #expect(
            lines[2]
                == "\(daemon.ledgerPath) line 3 binds serialNo s-1 to openId oid-second, but line 1 bound it to openId oid-first"
        )
        #expect(lines[3].hasPrefix("\(daemon.ledgerPath) line 5 is torn"))
        #expect(lines[3].contains("start-up saves it aside and cuts it off"))
        #expect(
            lines[4].hasPrefix(
                "4 problem(s) in \(daemon.directory.path)/state; openidd refuses to start on 3"))
        #expect(try String(contentsOfFile: daemon.journalPath, encoding: .utf8) == journal)
        #expect(try String(contentsOfFile: daemon.ledgerPath, encoding: .utf8) == ledger)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: daemon.directory.path + "/state").sorted()
                == [
                    "bindings.jsonl", "pending.jsonl",
                ], "no torn tail saved, no lock file made")

        // The start-up it predicts: refused on the first problem, the others announced.
        let start = try run(Binaries.openidd, ["--config", daemon.configPath])
        #expect(start.status == 1)
        #expect(start.stderr.contains("\(daemon.journalPath) line 1 is corrupt"), "\(start.stderr)")
        #expect(
            start.stderr.contains("2 more problem(s) follow; `openidctl check --config FILE` lists them all"))
    }

    @Test func checkBesideARunningDaemonSaysOkWithCounts() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let bound = try daemon.issue(userId: "u-1")
        #expect(
            try daemon.callback(
                token: bound.token, body: callbackBody(serialNo: bound.serialNo, openId: "oid-1")
            )
            .text == "SUCCESS")
        _ = try daemon.issue(userId: "u-2")

        // The daemon holds its lock; check needs none.
        let result = try run(Binaries.openidctl, ["check", "--config", daemon.configPath])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout
                == "ok: \(directory.path)/state: bindings.jsonl 1 lines, 1 bindings; pending.jsonl 2 lines, 1 requests pending\n"
        )
        #expect(try run(Binaries.openidctl, ["check", "--storage", directory.path + "/state"]).status == 0)
    }
}
