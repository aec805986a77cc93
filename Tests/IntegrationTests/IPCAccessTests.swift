import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `ipc.allowedUsers` / `ipc.allowedGroups` against real clients of other users: curl started by
/// setpriv(1) with a chosen uid, gid and supplementary groups, on a socket whose mode lets anyone connect.
@Suite(.enabled(if: getuid() == 0, "runs clients as other users with setpriv, which needs root"))
struct IPCAccessTests {
    /// A daemon with the given access lists (JSON text), socket mode 0666 in a directory others can enter.
    static func daemon(_ lists: String) throws -> DaemonUnderTest {
        let daemon = DaemonUnderTest(
            platformUrl: "http://127.0.0.1:9", socketMode: "0666", extraIPC: lists.isEmpty ? "" : ", " + lists
        )
        try #require(chmod(daemon.directory.path, 0o755) == 0)
        try daemon.start()
        return daemon
    }

    /// curl on the daemon's socket as `uid`/`gid` with exactly `groups` as supplementary groups.
    static func curl(
        _ daemon: DaemonUnderTest, uid: Int, gid: Int, groups: [Int] = [], method: String = "GET",
        path: String = "/v1/health"
    ) throws -> (status: Int, body: String) {
        let groupOption =
            groups.isEmpty ? "--clear-groups" : "--groups=" + groups.map(String.init).joined(separator: ",")
        let result = try run(
            "/usr/bin/setpriv",
            [
                "--reuid=\(uid)", "--regid=\(gid)", groupOption, "/usr/bin/curl", "-q", "-s", "-X", method,
                "-w", "\n%{http_code}", "--unix-socket", daemon.socketPath, "http://localhost" + path,
            ])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    static func errorCode(_ body: String) -> String? {
        let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (json?["error"] as? [String: Any])?["code"] as? String
    }

    /// Waits for `text` to appear in the daemon's log.
    static func waitForLog(_ daemon: DaemonUnderTest, _ text: String, occurrences: Int = 1) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if daemon.log.components(separatedBy: text).count - 1 >= occurrences { return true }
            usleep(20_000)
        }
        return false
    }

    @Test func listedUsersAndGroupsAreServedOthersGet403AndALogLine() throws {
        let daemon = try Self.daemon(#""allowedUsers": ["root", 4243], "allowedGroups": ["4242"]"#)
        // Root by name; start() has already been answered as root.
        #expect(try daemon.ipc("GET", "/v1/health").status == 200)
        #expect(try Self.curl(daemon, uid: 0, gid: 0).status == 200)
        // A listed uid, a listed primary gid, a listed supplementary group.
        #expect(try Self.curl(daemon, uid: 4243, gid: 4243).status == 200)
        #expect(try Self.curl(daemon, uid: 65534, gid: 4242).status == 200)
        #expect(try Self.curl(daemon, uid: 65534, gid: 65534, groups: [4244, 4242]).status == 200)
        #expect(!daemon.log.contains("IPC peer refused"))

        let refused = try Self.curl(daemon, uid: 65534, gid: 65534, groups: [4244])
        #expect(refused.status == 403)
        #expect(Self.errorCode(refused.body) == "forbidden", "\(refused.body)")
        #expect(refused.body.contains("ipc.allowedUsers"))
        let line = try #require(
            daemon.log.split(separator: "\n").first { $0.contains("security: IPC peer refused") })
        #expect(line.hasPrefix("<4>"))
        #expect(line.contains(" uid=65534 gid=65534 pid="))
        #expect(line.contains(" comm=curl"))
        #expect(line.range(of: #"request=ipc-[0-9a-f]+ "#, options: .regularExpression) != nil)

        // Refused before the router: an auth-url call never reaches the (unreachable) platform, which
        // would have answered 502.
        let issue = try Self.curl(daemon, uid: 4244, gid: 4244, method: "POST", path: "/v1/auth-url")
        #expect(issue.status == 403)
        #expect(Self.waitForLog(daemon, "uid=4244 gid=4244"))
        #expect(
            try Self.curl(daemon, uid: 4243, gid: 4243, method: "POST", path: "/v1/auth-url").status == 400)
    }

    @Test func openidctlSaysWhyItWasRefused() throws {
        let daemon = try Self.daemon(#""allowedUsers": ["root"]"#)
        for arguments in [["status"], ["get", "alice"]] {
            let result = try run(
                "/usr/bin/setpriv",
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", Binaries.openidctl, "--socket",
                    daemon.socketPath,
                ] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(
                result.stderr.contains("may not use the openidd IPC API"), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
        }
    }

    @Test func withoutListsTheSocketModeAloneDecides() throws {
        let daemon = try Self.daemon("")
        #expect(try Self.curl(daemon, uid: 65534, gid: 65534).status == 200)
        #expect(!daemon.log.contains("IPC peer refused"))
    }

    @Test func aReloadAppliesNewListsAndRootIsNotImplicit() throws {
        let daemon = try Self.daemon(#""allowedUsers": ["root"]"#)
        #expect(try Self.curl(daemon, uid: 65534, gid: 65534).status == 403)
        let original = try String(contentsOfFile: daemon.configPath, encoding: .utf8)

        // An unknown name refuses the whole reload; the running lists stay.
        try original.replacingOccurrences(of: #"["root"]"#, with: #"["openidd-no-such-user"]"#)
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        kill(daemon.process!.processIdentifier, SIGHUP)
        #expect(Self.waitForLog(daemon, "reload failed"))
        #expect(daemon.log.contains(#"ipc.allowedUsers[0]: there is no user named \"openidd-no-such-user\""#))
        #expect(try daemon.ipc("GET", "/v1/health").status == 200)

        // Only nobody now: root, no longer listed, is refused like anyone else.
        try original.replacingOccurrences(of: #"["root"]"#, with: #"["nobody"]"#)
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        kill(daemon.process!.processIdentifier, SIGHUP)
        #expect(Self.waitForLog(daemon, "configuration reloaded"))
        #expect(try Self.curl(daemon, uid: 65534, gid: 65534).status == 200)
        let root = try daemon.ipc("GET", "/v1/health")
        #expect(root.status == 403)
        #expect(root.errorCode == "forbidden")
        #expect(daemon.log.contains(" uid=0 gid=0 pid="))
    }

    @Test func anUnknownNameStopsTheStartWithTheKey() throws {
        let daemon = DaemonUnderTest(
            platformUrl: "http://127.0.0.1:9", extraIPC: #", "allowedGroups": ["openidd-no-such-group"]"#)
        let check = try run(Binaries.openidd, ["--check-config", "--config", daemon.configPath])
        #expect(check.status == 1)
        #expect(
            check.stderr.contains(#"ipc.allowedGroups[0]: there is no group named "openidd-no-such-group""#))
        #expect(throws: TestFailure.self) { try daemon.start() }
        #expect(daemon.log.contains("ipc.allowedGroups[0]"))
    }
}
