/// PKCS#1 v1.5's DigestInfo (RFC 8017 §9.2): the DER prefix naming the hash, then the digest. What
/// `RSAPublicKey.recoverPKCS1DigestInfo` returns, split into the hash's name and the digest.
public struct DigestInfo: Sendable, Equatable {
    public let algorithm: String
    public let digest: [UInt8]

    /// The fixed DER prefixes of RFC 8017 §9.2, note 1, for the hashes signers commonly use.
    private static let prefixes: [(algorithm: String, prefix: [UInt8], digestLength: Int)] = [
        (
            "SHA-256",
            [
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                0x05, 0x00, 0x04, 0x20,
            ], 32
        ),
        (
            "SHA-1",
            [0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14], 20
        ),
        (
            "SHA-384",
            [
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
                0x05, 0x00, 0x04, 0x30,
            ], 48
        ),
        (
            "SHA-512",
            [
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
                0x05, 0x00, 0x04, 0x40,
            ], 64
        ),
        (
            "MD5",
            [
                0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05,
                0x00, 0x04, 0x10,
            ], 16
        ),
    ]

    /// Nil for bytes that are none of the known DigestInfo encodings (e.g. a bare digest, NONEwithRSA).
    public init?(der: [UInt8]) {
        for known in Self.prefixes
        where der.count == known.prefix.count + known.digestLength && der.starts(with: known.prefix) {
            algorithm = known.algorithm
            digest = Array(der.dropFirst(known.prefix.count))
            return
        }
        return nil
    }
}
