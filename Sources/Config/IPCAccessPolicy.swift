import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// Who may use the IPC API (`ipc.allowedUsers`, `ipc.allowedGroups`), judged from the peer's
/// credentials (SO_PEERCRED). With both lists empty, the socket file's mode alone decides.
///
/// No implicit exceptions: root (uid 0), and the daemon's own user, pass only if a list names them,
/// so the lists read as the whole truth. Root could get past any local check anyway; refusing it by
/// default keeps an operator's `openidctl` from working by accident where the apps' would not.
public struct IPCAccessPolicy: Sendable, Equatable {
    public var users: Set<uid_t>
    public var groups: Set<gid_t>

    public init(users: Set<uid_t> = [], groups: Set<gid_t> = []) {
        self.users = users
        self.groups = groups
    }

    /// No lists: every peer that can open the socket is served (the socket's mode decides who can).
    public var isOpen: Bool { users.isEmpty && groups.isEmpty }

    /// Whether the peer's uid is listed, or its primary gid, or one of its supplementary groups. When
    /// its supplementary groups are unknown (`groups == nil`), only the primary gid can match. A peer
    /// whose credentials could not be read at all (nil) is refused unless the policy is open.
    public func allows(_ peer: PeerCredentials?) -> Bool {
        if isOpen { return true }
        guard let peer else { return false }
        if users.contains(peer.uid) || groups.contains(peer.gid) { return true }
        return peer.groups?.contains(where: groups.contains) ?? false
    }
}
