import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// Listening sockets passed by systemd (sd_listen_fds(3)): descriptors from 3 on, `LISTEN_FDS` of them,
/// named by `LISTEN_FDNAMES` (the unit's `FileDescriptorName=`), meant for us only if `LISTEN_PID` is
/// this process.
public enum SocketActivation {
    public static let firstDescriptor: Int32 = 3

    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The passed sockets by name; empty when none were passed to this process.
    public static func listeners(environment: [String: String], pid: Int32 = getpid()) throws -> [String:
        FileDescriptor]
    {
        guard let pidText = environment["LISTEN_PID"], Int32(pidText) == pid,
            let countText = environment["LISTEN_FDS"], let count = Int32(countText), count > 0
        else { return [:] }
        let names = (environment["LISTEN_FDNAMES"] ?? "").split(
            separator: ":", omittingEmptySubsequences: false
        ).map(String.init)
        guard names.count == Int(count) else {
            throw Error(
                description:
                    "systemd passed \(count) sockets but LISTEN_FDNAMES names \(names.count); set FileDescriptorName=ipc and FileDescriptorName=callback in openidd.socket"
            )
        }
        var result: [String: FileDescriptor] = [:]
        for (offset, name) in names.enumerated() {
            let fd = firstDescriptor + Int32(offset)
            // Not inherited by anything we might start.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard result[name] == nil else {
                throw Error(description: "systemd passed two sockets named \(name)")
            }
            result[name] = FileDescriptor(rawValue: fd)
        }
        return result
    }
}
