import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// One-shot message digests from libcrypto.
public enum Digest {
    /// MD5, for the platform's `MD5` signType only (a keyed hash it defines; not a choice of ours).
    public static func md5(_ bytes: [UInt8]) -> [UInt8] {
        digest(bytes, Fetched.md5.algorithm ?? EVP_md5(), name: "MD5")
    }

    /// MD5 of `first` then `second` into `output` (16 bytes), without joining them: the callback check
    /// hashes the string to sign and then the key, and neither the joined copy nor the digest needs the
    /// heap.
    public static func md5(
        _ first: [UInt8], then second: [UInt8], into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        precondition(output.count >= 16, "an MD5 digest is 16 bytes")
        let algorithm = Fetched.md5.algorithm ?? EVP_md5()
        let context = threadMD5Context()
        var length: UInt32 = 0
        let status =
            EVP_DigestInit_ex2(context, algorithm, nil) == 1
            && first.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) } == 1
            && second.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) } == 1
            && EVP_DigestFinal_ex(context, output.baseAddress, &length) == 1
        // As in `digest` below: only a broken libcrypto fails here.
        guard status, length == 16 else { fatalError("libcrypto could not compute MD5\(openSSLReasons())") }
    }

    /// Each thread's MD5 context, made for its first digest and kept: a new context per digest costs
    /// two allocations (the context and its provider's state) and a wipe, on every callback. Freed, and
    /// so wiped, when the thread ends. Between digests it holds the state of the last one, which ended
    /// with the MD5 key: no more than the key's own copy, in memory for the process's life, exposes.
    private static let md5ContextKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { EVP_MD_CTX_free(OpaquePointer($0)) }
        return key
    }()

    private static func threadMD5Context() -> OpaquePointer {
        if let existing = pthread_getspecific(md5ContextKey) { return OpaquePointer(existing) }
        guard let context = EVP_MD_CTX_new() else {
            fatalError("libcrypto could not allocate a digest context")
        }
        pthread_setspecific(md5ContextKey, UnsafeRawPointer(context))
        return context
    }

    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        digest(bytes, Fetched.sha256.algorithm ?? EVP_sha256(), name: "SHA-256")
    }

    /// An implementation fetched from OpenSSL 3's providers once. `EVP_md5()` is a legacy handle that
    /// makes every digest fetch the implementation again (a locked lookup in the provider store, several
    /// times the cost of hashing a callback's few hundred bytes). A fetched `EVP_MD` is immutable and
    /// may be shared by threads. Nil where the provider lacks it (MD5 under a FIPS-only configuration):
    /// the legacy handle is used instead and fails with OpenSSL's own reasons.
    struct Fetched: @unchecked Sendable {
        let algorithm: OpaquePointer?

        static let md5 = Fetched(algorithm: EVP_MD_fetch(nil, "MD5", nil))
        static let sha256 = Fetched(algorithm: EVP_MD_fetch(nil, "SHA256", nil))
    }

    private static func digest(_ bytes: [UInt8], _ algorithm: OpaquePointer?, name: String) -> [UInt8] {
        // The digest lands on the stack and is copied out once, at its real length.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(EVP_MAX_MD_SIZE)) { output in
            var length: UInt32 = 0
            let status = bytes.withUnsafeBytes { input in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, algorithm, nil)
            }
            // A built-in digest over memory fails only if libcrypto is broken (e.g. MD5 removed by a
            // FIPS-only configuration); nothing sensible can continue from there.
            guard status == 1 else { fatalError("libcrypto could not compute \(name)\(openSSLReasons())") }
            return Array(UnsafeBufferPointer(rebasing: output[..<Int(length)]))
        }
    }
}
