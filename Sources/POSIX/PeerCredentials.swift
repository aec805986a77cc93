#if canImport(Glibc)
    import Glibc
#endif

/// Who is on the other end of a Unix socket, as the kernel recorded it when the peer called connect(2)
/// (SO_PEERCRED, unix(7)): not something the peer says, and not changed by what it does afterwards.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: pid_t
    /// The peer's effective user and group ids.
    public var uid: uid_t
    public var gid: gid_t
    /// Its supplementary groups; nil when they could not be learnt, and then only `gid` can count.
    public var groups: [gid_t]?

    public init(pid: pid_t, uid: uid_t, gid: gid_t, groups: [gid_t]? = nil) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// `struct ucred` from <sys/socket.h>, which Swift's Glibc module does not export (it needs _GNU_SOURCE).
    private struct UCred {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
    }

    /// The credentials of a connected Unix socket's peer. Only meaningful for AF_UNIX: on other sockets
    /// the kernel answers with overflow ids rather than an error.
    public static func of(_ socket: FileDescriptor) throws -> PeerCredentials {
        var raw = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        _ = try retryingEINTR("getsockopt(SO_PEERCRED)") {
            getsockopt(socket.rawValue, SOL_SOCKET, SO_PEERCRED, &raw, &length)
        }
        var credentials = PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid)
        // SO_PEERGROUPS (Linux 4.13) is recorded at connect(2) like SO_PEERCRED, so it cannot race with
        // the peer exiting and its pid being reused, and it works where /proc of other users is hidden
        // (openidd.service has ProtectProc=invisible). /proc/PID/status is the fallback for older kernels.
        credentials.groups =
            peerGroups(socket)
            ?? ProcessStatus.read(pid: raw.pid).flatMap {
                // A different effective uid means the pid now belongs to another process: ignore it.
                $0.effectiveUid == raw.uid ? $0.groups : nil
            }
        return credentials
    }

    /// The peer's command name from /proc/PID/comm, for log lines. The process chooses it (prctl), so it
    /// identifies nothing; nil when the process is gone or /proc hides it.
    public var commandName: String? {
        guard let bytes = try? FileSystem.readAll("/proc/\(pid)/comm") else { return nil }
        let name = String(decoding: bytes, as: UTF8.self)
        return name.hasSuffix("\n") ? String(name.dropLast()) : name
    }

    private static func peerGroups(_ socket: FileDescriptor) -> [gid_t]? {
        var groups = [gid_t](repeating: 0, count: 64)
        while true {
            var length = socklen_t(groups.count * MemoryLayout<gid_t>.size)
            let result = groups.withUnsafeMutableBytes {
                getsockopt(socket.rawValue, SOL_SOCKET, SO_PEERGROUPS, $0.baseAddress, &length)
            }
            if result == 0 { return Array(groups.prefix(Int(length) / MemoryLayout<gid_t>.size)) }
            // ERANGE: the kernel has put the size it needs in `length`.
            guard errno == ERANGE, Int(length) > groups.count * MemoryLayout<gid_t>.size else { return nil }
            groups = [gid_t](repeating: 0, count: Int(length) / MemoryLayout<gid_t>.size)
        }
    }
}
