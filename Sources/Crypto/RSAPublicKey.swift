import COpenSSL

/// An RSA public key: the platform's, for verifying its callbacks, or ours, for showing which key
/// the platform must be given.
public final class RSAPublicKey: @unchecked Sendable {
    private let pkey: OpaquePointer
    /// SubjectPublicKeyInfo DER, kept for the fingerprint and PEM export.
    private let spkiDER: [UInt8]

    private static let what = "RSA public key"

    /// Accepts PEM SubjectPublicKeyInfo ("PUBLIC KEY"), PEM PKCS#1 ("RSA PUBLIC KEY"), bare Base64 SPKI DER.
    public init(text: String) throws(CryptoError) {
        let pkey: OpaquePointer
        switch try KeyText.classify(text, what: Self.what) {
        case .pem(let label, let bytes):
            guard label == "PUBLIC KEY" || label == "RSA PUBLIC KEY" else {
                let hint =
                    label.contains("PRIVATE")
                    ? " This is a private key; extract its public half with `openssl pkey -in KEY -pubout`."
                    : ""
                throw CryptoError(
                    "The \(Self.what) file holds a PEM \"\(label)\" block; expected \"PUBLIC KEY\" (SPKI) "
                        + "or \"RSA PUBLIC KEY\" (PKCS#1).\(hint)")
            }
            pkey = try KeyCoding.decode(
                bytes, inputType: "PEM", structure: nil, part: .publicKey, what: Self.what)
        case .der(let bytes):
            pkey = try KeyCoding.decode(
                bytes, inputType: "DER", structure: "SubjectPublicKeyInfo", part: .publicKey,
                what: "\(Self.what) (Base64 SPKI DER)")
        }
        do {
            self.spkiDER = try KeyCoding.spkiDER(of: pkey)
        } catch {
            KeyCoding.free(pkey)
            throw error
        }
        self.pkey = pkey
    }

    /// A public-only copy of `pkey` (which may hold a private key); does not take ownership.
    init(publicPartOf source: OpaquePointer) throws(CryptoError) {
        let der = try KeyCoding.spkiDER(of: source)
        self.pkey = try KeyCoding.publicKey(spkiDER: der)
        self.spkiDER = der
    }

    deinit {
        KeyCoding.free(pkey)
    }

    /// True only for a valid SHA256withRSA (RSASSA-PKCS1-v1_5) signature of `message` by this key.
    public func verifySHA256(_ message: [UInt8], signature: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else {
            _ = openSSLReasons()
            return false
        }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        let valid =
            EVP_DigestVerifyInit_ex(context, &keyContext, "SHA256", nil, nil, pkey, nil) == 1
            && EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) == 1
            && message.withUnsafeBufferPointer { input in
                signature.withUnsafeBufferPointer { sig in
                    EVP_DigestVerify(
                        context, sig.baseAddress, sig.count, input.baseAddress,
                        input.count) == 1
                }
            }
        // A bad signature leaves reasons queued; they must not surface in an unrelated later error.
        if !valid { _ = openSSLReasons() }
        return valid
    }

    /// The DigestInfo inside a PKCS#1 v1.5 signature (RFC 8017 §8.2.2 steps 2–3: RSAVP1, then the
    /// EMSA-PKCS1-v1_5 padding check), compared with no message. Nil when the signature was not made
    /// with this key's private half: wrong length, or the padding does not check out under this key.
    /// Tells "another key signed this" apart from "this key signed other bytes"; never accepts anything.
    public func recoverPKCS1DigestInfo(_ signature: [UInt8]) -> [UInt8]? {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else {
            _ = openSSLReasons()
            return nil
        }
        defer { EVP_PKEY_CTX_free(context) }
        var length = Int(EVP_PKEY_get_size(pkey))
        var recovered = [UInt8](repeating: 0, count: length)
        let status =
            EVP_PKEY_verify_recover_init(context) == 1
            && EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1
            && signature.withUnsafeBufferPointer { sig in
                EVP_PKEY_verify_recover(context, &recovered, &length, sig.baseAddress, sig.count) == 1
            }
        // A signature from another key leaves reasons queued; they must not surface in a later error.
        guard status else {
            _ = openSSLReasons()
            return nil
        }
        return Array(recovered.prefix(length))
    }

    /// "SHA256:" + lowercase hex with colons between bytes over the SPKI DER, as
    /// `openssl pkey -pubin -outform DER | openssl dgst -sha256 -c` prints it.
    public var colonFingerprint: String {
        "SHA256:" + Digest.sha256(spkiDER).map { Hex.lower([$0]) }.joined(separator: ":")
    }

    /// PEM SubjectPublicKeyInfo ("PUBLIC KEY"), the form the platform's console takes.
    public func spkiPEM() -> String {
        let body = Base64.encode(spkiDER)
        var lines: [Substring] = []
        var start = body.startIndex
        while start < body.endIndex {
            let end = body.index(start, offsetBy: 64, limitedBy: body.endIndex) ?? body.endIndex
            lines.append(body[start..<end])
            start = end
        }
        return "-----BEGIN PUBLIC KEY-----\n" + lines.joined(separator: "\n") + "\n-----END PUBLIC KEY-----\n"
    }

    /// "SHA256:" + lowercase hex of SHA-256 over the SPKI DER: safe to print, identifies the key.
    public var fingerprint: String {
        "SHA256:" + Hex.lower(Digest.sha256(spkiDER))
    }
}
