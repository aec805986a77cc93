import Config
import HTTP1
import HTTPServer
import Logging
import POSIX
import Synchronization

/// Local access control on the IPC socket: each request's peer (SO_PEERCRED, read once per connection)
/// is judged against the policy in force, so a reload applies at once, to open connections too.
final class IPCGate: Sendable {
    private let policy: Mutex<IPCAccessPolicy>
    private let logger: Logger

    init(policy: IPCAccessPolicy, logger: Logger) {
        self.policy = Mutex(policy)
        self.logger = logger
    }

    func reload(_ fresh: IPCAccessPolicy) {
        policy.withLock { $0 = fresh }
    }

    /// Nil lets the request through; otherwise the 403 to send, already logged.
    func refusal(for peer: Peer) -> HTTPResponse? {
        let policy = policy.withLock { $0 }
        if policy.isOpen { return nil }
        guard let credentials = peer.credentials else {
            // The kernel always knows a Unix socket's peer; if it could not be read, fail closed.
            logger.warning(
                "security: IPC peer refused",
                [("request", peer.requestId), ("reason", "credentials unknown")])
            return IPCError(
                status: 403, code: "forbidden", message: "openidd could not tell who you are, so it refused."
            ).response
        }
        if policy.allows(credentials) { return nil }
        var fields = [
            ("request", peer.requestId), ("uid", String(credentials.uid)), ("gid", String(credentials.gid)),
            ("pid", String(credentials.pid)),
        ]
        if let name = credentials.commandName { fields.append(("comm", name)) }
        logger.warning("security: IPC peer refused", fields)
        return IPCError(
            status: 403, code: "forbidden",
            message:
                "User \(credentials.uid) may not use the openidd IPC API: add the user or one of its groups to ipc.allowedUsers or ipc.allowedGroups in the openidd configuration."
        ).response
    }
}
