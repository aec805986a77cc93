import COpenSSL

/// Unpredictable bytes from OpenSSL's CSPRNG, for nonces and path tokens.
public enum SecureRandom {
    /// Traps if the CSPRNG fails: continuing with predictable nonces or tokens would be worse than
    /// stopping.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "SecureRandom.bytes needs a non-negative count, got \(count)")
        var output = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return output }
        guard RAND_bytes(&output, Int32(count)) == 1 else {
            fatalError("OpenSSL's random generator failed\(openSSLReasons())")
        }
        return output
    }

    /// base64url without padding of `byteCount` random bytes: usable in a URL path as is.
    public static func token(byteCount: Int) -> String {
        Base64.urlEncode(bytes(byteCount))
    }
}
