import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a newcomer sees first: `openidctl`'s help, version and usage errors, and `openidd` with nothing
/// to run.
@Suite struct UsageTests {
    @Test func openidctlVersionMatchesTheDaemons() throws {
        let daemon = try run(Binaries.openidd, ["--version"])
        let version = try run(Binaries.openidctl, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == daemon.stdout.replacingOccurrences(of: "openidd ", with: "openidctl "))
    }

    @Test func helpAsACommandPrintsTheUsage() throws {
        let help = try run(Binaries.openidctl, ["help"])
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("Usage: openidctl"))
        #expect(help.stdout.contains("verify-callback"))
    }

    @Test(arguments: [
        ("get", "get USER_ID", "auth-url"),
        ("wait", "--timeout SECONDS", "verify-callback"),
        ("sign-test", "--sign-type", "export"),
        ("export", "--since TIME", "sign-test"),
    ])
    func aCommandsHelpIsItsUsageOnly(command: String, mentions: String, omits: String) throws {
        let help = try run(Binaries.openidctl, [command, "--help"])
        #expect(help.status == 0, "\(help.stderr)")
        #expect(help.stdout.contains(mentions), "\(help.stdout)")
        #expect(!help.stdout.contains(omits), "\(help.stdout)")
    }

    @Test(arguments: [
        (["frobnicate"], "openidctl: unknown command frobnicate"),
        (["get"], "openidctl: get takes exactly one USER_ID"),
        (["--bogus", "status"], "openidctl: unknown option --bogus"),
        ([String](), "openidctl: no command given"),
    ])
    func aUsageErrorIsItsReasonAndAPointerToHelp(arguments: [String], reason: String) throws {
        let result = try run(Binaries.openidctl, arguments)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "\(reason)\nTry 'openidctl --help' for the usage.\n")
    }

    @Test func socketIsAcceptedWithAnEqualsSign() throws {
        let path = "/tmp/openidd-no-such-dir/openidd.sock"
        let result = try run(Binaries.openidctl, ["--socket=\(path)", "status"])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "openidctl: is openidd running? socket \(path) not found (use --socket or OPENIDD_SOCKET)\n"
        )
    }

    @Test func aStaleSocketAsksWhetherTheDaemonRunsNamingThePathOnce() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        try daemon.start()
        daemon.stop(signal: SIGKILL)
        try #require(FileManager.default.fileExists(atPath: daemon.socketPath))
        let result = try run(Binaries.openidctl, ["--socket", daemon.socketPath, "status"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("openidctl: is openidd running? "), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: daemon.socketPath).count == 2, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test func aFileThatIsNotASocketAsksWhetherTheDaemonRuns() throws {
        let directory = TemporaryDirectory()
        let path = directory.write("not-a-socket", "")
        let result = try run(Binaries.openidctl, ["--socket", path, "get", "alice"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("openidctl: is openidd running? "), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: path).count == 2, "\(result.stderr)")
    }

    @Test(
        .enabled(
            if: !FileManager.default.fileExists(atPath: "/etc/openidd/config.json"),
            "this machine has a configuration at the default path, so openidd would start"))
    func openiddWithNothingToRunPointsAtTheSandboxAndHelp() throws {
        let result = try run(Binaries.openidd, [])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("/etc/openidd/config.json"), "\(result.stderr)")
        #expect(result.stderr.contains("openidd --sandbox"), "\(result.stderr)")
        #expect(result.stderr.contains("openidd --help"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count <= 3, "\(result.stderr)")
    }
}
