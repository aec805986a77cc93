import Foundation
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SO_PEERCRED over a socketpair: both ends are this process, so the answer is known.
@Suite struct PeerCredentialsTests {
    /// A connected pair of Unix stream sockets, closed when the value goes away.
    final class SocketPair {
        let ends: (FileDescriptor, FileDescriptor)
        init() throws {
            var fds: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
                throw SystemCallError(call: "socketpair", errno: errno)
            }
            ends = (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
        }
        deinit {
            ends.0.close()
            ends.1.close()
        }
    }

    static func ownGroups() -> [gid_t] {
        var groups = [gid_t](repeating: 0, count: Int(getgroups(0, nil)))
        let count = getgroups(Int32(groups.count), &groups)
        return Array(groups.prefix(Int(max(count, 0))))
    }

    @Test func readsThePeersPidUidGidAndGroups() throws {
        let pair = try SocketPair()
        let credentials = try PeerCredentials.of(pair.ends.0)
        #expect(credentials.pid == getpid())
        #expect(credentials.uid == geteuid())
        #expect(credentials.gid == getegid())
        #expect(credentials.groups.map { Set($0) } == Set(Self.ownGroups()))
        #expect(try PeerCredentials.of(pair.ends.1) == credentials)
    }

    @Test func commandNameIsThisProcesssComm() throws {
        let pair = try SocketPair()
        let credentials = try PeerCredentials.of(pair.ends.0)
        let comm = try #require(credentials.commandName)
        #expect(!comm.isEmpty && !comm.hasSuffix("\n"))
        #expect(CommandLine.arguments[0].split(separator: "/").last.map(String.init)?.hasPrefix(comm) == true)
    }

    @Test func commandNameOfAProcessThatIsGoneIsNil() {
        // Above /proc/sys/kernel/pid_max's ceiling (2^22), so no process has it.
        #expect(PeerCredentials(pid: 5_000_000, uid: 0, gid: 0).commandName == nil)
    }

    /// The groups come from the socket (SO_PEERGROUPS), not from /proc/PID/status, which is gone once the
    /// peer exits and hidden under systemd's ProtectProc=invisible.
    @Test func groupsAreKnownAfterThePeerHasExited() throws {
        var template = Array("/tmp/openidd-posix-test.XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/peer.sock"
        let listener = try Socket.listenUnix(path: path, mode: 0o600)
        defer { listener.close() }

        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        client.arguments = [
            "python3", "-c", "import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])", path,
        ]
        try client.run()
        client.waitUntilExit()
        try #require(client.terminationStatus == 0)
        #expect(ProcessStatus.read(pid: client.processIdentifier) == nil, "the client is gone")

        let connection = try #require(try Socket.accept(listener))
        defer { connection.close() }
        let credentials = try PeerCredentials.of(connection)
        #expect(credentials.pid == client.processIdentifier)
        #expect(credentials.uid == geteuid())
        #expect(credentials.groups.map { Set($0) } == Set(Self.ownGroups()))
        #expect(credentials.commandName == nil)
    }

    @Test func aDescriptorThatIsNotASocketIsAnError() throws {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        defer { fds.forEach { close($0) } }
        #expect(throws: SystemCallError(call: "getsockopt(SO_PEERCRED)", errno: ENOTSOCK)) {
            try PeerCredentials.of(FileDescriptor(rawValue: fds[0]))
        }
    }
}
