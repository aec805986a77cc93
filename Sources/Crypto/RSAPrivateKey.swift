import COpenSSL

/// The merchant's RSA signing key (the platform's `SHA256-RSA` signType).
///
/// Sendable because it is immutable after init and OpenSSL 3 allows concurrent use of one EVP_PKEY
/// when every operation has its own EVP_MD_CTX, which `signSHA256` creates per call.
public final class RSAPrivateKey: @unchecked Sendable {
    private let pkey: OpaquePointer
    public let publicKey: RSAPublicKey

    private static let what = "RSA private key"

    /// Accepts PEM PKCS#1 ("RSA PRIVATE KEY"), PEM PKCS#8 ("PRIVATE KEY"), or bare Base64 PKCS#8 DER
    /// (whitespace/newlines allowed) as the platform's Java samples use.
    public convenience init(text: String) throws(CryptoError) {
        let pkey: OpaquePointer
        switch try KeyText.classify(text, what: Self.what) {
        case .pem(let label, var bytes):
            defer { bytes.cleanse() }
            if label.contains("ENCRYPTED") || text.contains("Proc-Type: 4,ENCRYPTED") {
                throw CryptoError(
                    "The \(Self.what) is encrypted with a passphrase, which a daemon cannot enter; store it "
                        + "unencrypted (openssl pkey -in KEY -out KEY.pem) in a file only openidd can read.")
            }
            guard label == "PRIVATE KEY" || label == "RSA PRIVATE KEY" else {
                throw CryptoError(
                    "The \(Self.what) file holds a PEM \"\(label)\" block; expected \"PRIVATE KEY\" (PKCS#8) "
                        + "or \"RSA PRIVATE KEY\" (PKCS#1).")
            }
            pkey = try KeyCoding.decode(
                bytes, inputType: "PEM", structure: nil, part: .privateKey, what: Self.what)
        case .der(var bytes):
            defer { bytes.cleanse() }
            pkey = try KeyCoding.decode(
                bytes, inputType: "DER", structure: "PrivateKeyInfo", part: .privateKey,
                what: "\(Self.what) (Base64 PKCS#8 DER)")
        }
        try self.init(taking: pkey)
    }

    /// Takes ownership of `pkey`, freeing it if the public half cannot be derived.
    private init(taking pkey: OpaquePointer) throws(CryptoError) {
        do {
            self.publicKey = try RSAPublicKey(publicPartOf: pkey)
        } catch {
            KeyCoding.free(pkey)
            throw error
        }
        self.pkey = pkey
    }

    deinit {
        KeyCoding.free(pkey)
    }

    /// A fresh key, e.g. for the sandbox. Fewer than 2048 bits is refused (NIST SP 800-131A).
    public static func generate(bits: Int = 2048) throws(CryptoError) -> RSAPrivateKey {
        guard (2048...16384).contains(bits) else {
            throw CryptoError("RSA keys must have 2048 to 16384 bits; \(bits) was asked for.")
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw CryptoError.openSSL("Could not set up RSA key generation")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1,
            EVP_PKEY_generate(context, &pkey) == 1, let pkey
        else {
            throw CryptoError.openSSL("Generating a \(bits)-bit RSA key failed")
        }
        return try RSAPrivateKey(taking: pkey)
    }

    /// SHA256withRSA, RSASSA-PKCS1-v1_5 (RFC 8017 §8.2), as the platform's `SHA256-RSA` requires.
    public func signSHA256(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else {
            throw CryptoError.openSSL("Could not allocate a signing context")
        }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestSignInit_ex(context, &keyContext, "SHA256", nil, nil, pkey, nil) == 1,
            EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) == 1
        else {
            throw CryptoError.openSSL("Could not start a SHA256withRSA signature")
        }
        var signature = [UInt8](repeating: 0, count: Int(EVP_PKEY_get_size(pkey)))
        var length = signature.count
        let status = message.withUnsafeBufferPointer { input in
            EVP_DigestSign(context, &signature, &length, input.baseAddress, input.count)
        }
        guard status == 1 else {
            throw CryptoError.openSSL("SHA256withRSA signing failed")
        }
        return Array(signature.prefix(length))
    }

    /// PEM PKCS#8 ("PRIVATE KEY"), unencrypted: for writing the sandbox's throwaway keys.
    public func pkcs8PEM() -> String {
        guard let text = KeyCoding.pkcs8PEM(of: pkey) else {
            // Writing an in-memory key into memory fails only when allocation does.
            fatalError("OpenSSL could not write the RSA private key as PEM\(openSSLReasons())")
        }
        return text
    }
}

extension [UInt8] {
    /// Overwrites key bytes before the array is released (OPENSSL_cleanse resists dead-store removal).
    mutating func cleanse() {
        withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }
}
