import COpenSSL

/// A failure in key handling, signing or randomness. The description is a sentence a person can act
/// on; it never contains key material.
public struct CryptoError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }

    /// A failure reported by libcrypto: appends the reasons queued on this thread and clears the
    /// queue, so a later, unrelated call does not report them again.
    static func openSSL(_ summary: String) -> CryptoError {
        CryptoError(summary + openSSLReasons())
    }
}

/// The queued OpenSSL reasons as " (reason; reason)", or "" when none. Always empties the queue.
/// OpenSSL's reason strings name the failing routine and never include key bytes. Shared with the
/// TLS module, which reports libssl's failures the same way.
public func openSSLReasons() -> String {
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
