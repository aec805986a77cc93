import Config
import HTTP1
import HTTPServer
import Logging
import POSIX
import Synchronization

/// Local access control on the IPC socket: each request's peer (SO_PEERCRED, read once per connection)
/// is judged against the policy in force, so a reload applies at once, to open connections too.
final class IPCGate: Sendable {
    private let policy: Locked<IPCAccessPolicy>
    private let logger: Logger

    init(policy: IPCAccessPolicy, logger: Logger) {
        self.policy = Locked(policy)
        self.logger = logger
    }

    func reload(_ fresh: IPCAccessPolicy) {
        policy.withLock { $0 = fresh }
    }

    /// Nil lets the request through; otherwise the 403 to send, already logged.
    func refusal(for peer: Peer) -> HTTPResponse? {
        if policy.withLock({ $0.allows(peer.credentials) }) { return nil }
        var fields = [("request", peer.requestId)]
        let user: String
        if let credentials = peer.credentials {
            fields += [
                ("uid", String(credentials.uid)), ("gid", String(credentials.gid)),
                ("pid", String(credentials.pid)),
            ]
            if let name = credentials.commandName { fields.append(("comm", name)) }
            user = "User \(credentials.uid)"
        } else {
            fields.append(("uid", "unknown"))
            user = "A peer whose user could not be read"
        }
        logger.security(.peerRefused, "IPC peer refused", fields)
        return IPCError(
            status: 403, code: "forbidden",
            message:
                "\(user) may not use the openidd IPC API: add the user or one of its groups to ipc.allowedUsers or ipc.allowedGroups in the openidd configuration."
        ).response
    }
}
