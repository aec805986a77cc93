import POSIX

/// Who is on the other end of a connection, as far as the socket knows.
public struct Peer: Sendable {
    /// The TCP peer's address; nil on a Unix socket.
    public let host: String?
    /// Who connected to a Unix socket (SO_PEERCRED); nil on TCP.
    public var credentials: PeerCredentials? = nil
    /// Names this request in log lines, e.g. `callback-1f`: unique within the process.
    public var requestId: String = ""
}
