import COpenSSL
import Crypto
import Glibc

/// A TLS failure: what was being done, with whom, and OpenSSL's reasons. `isTimeout` tells a
/// deadline that passed apart from a peer or certificate problem.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let isTimeout: Bool

    init(_ description: String, isTimeout: Bool = false) {
        self.description = description
        self.isTimeout = isTimeout
    }

    /// A failure reported by libssl: appends the reasons queued on this thread and clears the queue,
    /// so a later, unrelated call does not report them again.
    static func openSSL(_ summary: String) -> TLSError {
        TLSError(summary + openSSLReasons())
    }
}
