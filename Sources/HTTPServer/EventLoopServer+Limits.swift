import HTTP1

extension EventLoopServer {
    /// What one listener allows: connections, request sizes (the parser's), and how long a peer may take.
    public struct Limits: Sendable {
        public var parser = RequestParser.Limits()
        public var maxConnections = 1024
        /// Connections one client address may hold at once; over → 503. nil: no such cap.
        public var maxConnectionsPerClient: Int? = nil
        /// Addresses the per-client cap does not apply to (trusted proxies speak for many clients).
        public var isExemptFromClientCap: @Sendable (String) -> Bool = { _ in false }
        /// A started request (headers and body), and a new connection's first request, must arrive
        /// within this time.
        public var requestTimeoutSeconds = 10.0
        /// A keep-alive connection with no request in progress is closed after this time.
        public var idleTimeoutSeconds = 60.0
        /// A response the peer does not read within this time ends the connection.
        public var writeTimeoutSeconds = 10.0
        public init() {}

        /// How long a connection closed after an error answer reads and drops the client's remaining
        /// bytes.
        var lingerSeconds: Double { min(requestTimeoutSeconds, 2) }
    }
}
