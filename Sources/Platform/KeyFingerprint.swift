import Crypto

/// Names a configured key without revealing it, so an operator can compare it with the platform's.
public enum KeyFingerprint {
    /// An RSA public key: SHA-256 of its DER SubjectPublicKeyInfo, hex with colons, as
    /// `openssl pkey -pubin -outform DER | openssl dgst -sha256 -c` prints it.
    public static func of(_ key: RSAPublicKey) -> String {
        key.colonFingerprint
    }

    /// The MD5 key is the secret itself: only the first 4 bytes of its SHA-256 (enough to tell two keys
    /// apart, far too few to help guess it) and its length, as `printf %s KEY | sha256sum | cut -c1-8`.
    public static func ofMD5Key(_ key: [UInt8]) -> String {
        "SHA256 prefix \(Hex.lower(Array(Digest.sha256(key).prefix(4)))), \(key.count) bytes"
    }
}
