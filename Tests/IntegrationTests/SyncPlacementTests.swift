import Foundation
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `storage.syncCPU` in the real daemon: the kernel's view of its ledger sync thread, the metric, and
/// the log, after a real callback.
@Suite struct SyncPlacementIntegrationTests {
    /// The CPUs the daemon's `ledger-sync` thread may run on, from `/proc`.
    static func syncThreadCPUs(of daemon: DaemonUnderTest) throws -> CPUSet? {
        let pid = try #require(daemon.process?.processIdentifier)
        for task in FileSystem.entries("/proc/\(pid)/task") {
            let base = "/proc/\(pid)/task/\(task)"
            guard let name = try? FileSystem.readSmall(base + "/comm"),
                String(decoding: name, as: UTF8.self) == "ledger-sync\n"
            else { continue }
            let status = String(decoding: try FileSystem.readSmall(base + "/status"), as: UTF8.self)
            let line = try #require(
                status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
            return CPUSet(list: String(line.dropFirst("Cpus_allowed_list:".count).filter { $0 != "\t" }))
        }
        return nil
    }

    /// Starts the daemon with `"syncCPU": setting` and answers one callback, so its sync thread has
    /// run. The platform is not needed after that.
    static func daemonAfterOneBinding(syncCPU setting: String) throws -> DaemonUnderTest {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(
            platformUrl: platform.baseUrl, extraStorage: ", \"syncCPU\": \(setting)", directory: directory)
        try daemon.start()
        let issued = try daemon.issue(userId: "u-1")
        let answer = try daemon.callback(
            token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "oid-1"))
        #expect(answer.text == "SUCCESS")
        #expect(daemon.ledgerLines().count == 1)
        return daemon
    }

    @Test func aFixedCPUKeepsTheSyncThreadThere() throws {
        let cpu = try #require(try CurrentThread.affinity().cpus.last)
        let daemon = try Self.daemonAfterOneBinding(syncCPU: "\(cpu)")
        #expect(try Self.syncThreadCPUs(of: daemon) == CPUSet([cpu]))
        #expect(try MetricsTests.scrape(daemon)["openidd_ledger_sync_cpu{}"] == Double(cpu))
        #expect(daemon.log.contains("ledger sync thread kept on CPU \(cpu)"))
    }

    @Test func anyLeavesItToTheScheduler() throws {
        let all = try CurrentThread.affinity()
        let daemon = try Self.daemonAfterOneBinding(syncCPU: "\"any\"")
        #expect(try Self.syncThreadCPUs(of: daemon) == all)
        #expect(try MetricsTests.scrape(daemon)["openidd_ledger_sync_cpu{}"] == -1)
        #expect(!daemon.log.contains("ledger sync thread kept"))
    }

    @Test func aCPUTheDaemonMayNotUseIsAWarningNotAFailure() throws {
        let all = try CurrentThread.affinity()
        let daemon = try Self.daemonAfterOneBinding(syncCPU: "4095")
        #expect(try Self.syncThreadCPUs(of: daemon) == all)
        #expect(try MetricsTests.scrape(daemon)["openidd_ledger_sync_cpu{}"] == -1)
        #expect(daemon.log.contains("cannot place the ledger sync thread"))
        #expect(daemon.log.contains("CPU 4095 is not one this process may use"))
    }

    @Test func aReloadDoesNotMoveTheSyncThread() throws {
        let all = try CurrentThread.affinity()
        let cpu = try #require(all.cpus.first)
        let daemon = try Self.daemonAfterOneBinding(syncCPU: "\"any\"")
        let text = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: #""syncCPU": "any""#, with: #""syncCPU": \#(cpu)"#)
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        kill(try #require(daemon.process?.processIdentifier), SIGHUP)
        let deadline = Date().addingTimeInterval(10)
        while !daemon.log.contains("reload failed") && Date() < deadline { usleep(20_000) }
        #expect(daemon.log.contains("storage.syncCPU changed; that needs a restart"))
        #expect(try Self.syncThreadCPUs(of: daemon) == all)
        #expect(try MetricsTests.scrape(daemon)["openidd_ledger_sync_cpu{}"] == -1)
    }

    @Test func aBadSettingFailsTheConfigCheckNamingTheKey() throws {
        let directory = TemporaryDirectory()
        let daemon = DaemonUnderTest(
            platformUrl: "https://platform.example", extraStorage: #", "syncCPU": "CPU1""#,
            directory: directory)
        let check = try run(Binaries.openidd, ["--check-config", "--config", daemon.configPath])
        #expect(check.status == 1)
        #expect(check.stderr.contains("storage.syncCPU"))
        #expect(check.stderr.contains(#"must be "auto", "any" or a CPU number"#))
    }
}
