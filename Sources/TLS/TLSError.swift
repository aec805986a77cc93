import COpenSSL
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

/// The queued OpenSSL reasons as " (reason; reason)", or "" when none. Always empties the queue.
func openSSLReasons() -> String {
    var reasons: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        reasons.append(
            String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    ERR_clear_error()
    return reasons.isEmpty ? "" : " (" + reasons.joined(separator: "; ") + ")"
}
