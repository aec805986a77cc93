import COpenSSL
import Foundation

/// The one place key bytes enter and leave libcrypto: decoding PKCS#8, PKCS#1 and SPKI with
/// OpenSSL's decoder (the PEM_read_bio_RSA* readers are deprecated in OpenSSL 3) and encoding SPKI
/// and PKCS#8.
///
/// Calls are serialised by `lock`: keys are coded rarely (start-up, reload), so it costs nothing,
/// and it keeps OpenSSL's decoder and encoder contexts out of any concurrency question.
enum KeyCoding {
    enum Part {
        case privateKey, publicKey

        var selection: Int32 {
            switch self {
            case .privateKey: openidd_EVP_PKEY_KEYPAIR()
            case .publicKey: openidd_EVP_PKEY_PUBLIC_KEY()
            }
        }
    }

    private static let lock = NSLock()

    /// Returns an owned RSA EVP_PKEY (caller frees). `structure` pins DER input to one ASN.1
    /// structure ("PrivateKeyInfo", "SubjectPublicKeyInfo") so a public key is never taken for a
    /// private one. `what` names the key in error sentences.
    static func decode(
        _ bytes: [UInt8], inputType: String, structure: String?, part: Part, what: String
    ) throws(CryptoError) -> OpaquePointer {
        lock.lock()
        defer { lock.unlock() }
        guard let pkey = decodeOnce(bytes, inputType: inputType, structure: structure, part: part) else {
            throw CryptoError.openSSL(
                "The \(what) could not be decoded; check that it is complete and is that kind of key")
        }
        ERR_clear_error()
        return try requireRSA(pkey, what: what)
    }

    private static func decodeOnce(
        _ bytes: [UInt8], inputType: String, structure: String?, part: Part
    ) -> OpaquePointer? {
        // OSSL_DECODER_CTX_new_for_pkey keeps the input type and structure *pointers* (it does not
        // copy the strings) and reads them again in OSSL_DECODER_from_data, so both C strings must
        // outlive the whole decode. Passing Swift Strings directly left them dangling: decodes then
        // failed at random with "DECODER routines::unsupported", every time under ThreadSanitizer.
        inputType.withCString { typeName in
            withOptionalCString(structure) { structureName in
                var pkey: OpaquePointer? = nil
                guard
                    let decoder = OSSL_DECODER_CTX_new_for_pkey(
                        &pkey, typeName, structureName, nil, part.selection, nil, nil)
                else { return nil }
                defer { OSSL_DECODER_CTX_free(decoder) }
                // Never prompt on a terminal for a passphrase: a daemon has none to give.
                OSSL_DECODER_CTX_set_passphrase_cb(decoder, refusePassphrase, nil)
                let decoded = bytes.withUnsafeBufferPointer { buffer -> Bool in
                    var data = buffer.baseAddress
                    var length = buffer.count
                    return OSSL_DECODER_from_data(decoder, &data, &length) == 1
                }
                guard decoded else {
                    if let pkey { EVP_PKEY_free(pkey) }
                    return nil
                }
                return pkey
            }
        }
    }

    private static func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }

    private static func requireRSA(_ pkey: OpaquePointer, what: String) throws(CryptoError) -> OpaquePointer {
        guard EVP_PKEY_is_a(pkey, "RSA") == 1 else {
            let type = EVP_PKEY_get0_type_name(pkey).map { String(cString: $0) } ?? "non-RSA"
            EVP_PKEY_free(pkey)
            throw CryptoError(
                "The \(what) is a key of type \(type); openidd signs and verifies with RSA (SHA256withRSA) only."
            )
        }
        return pkey
    }

    /// SubjectPublicKeyInfo DER of `pkey`'s public half.
    static func spkiDER(of pkey: OpaquePointer) throws(CryptoError) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        let length = i2d_PUBKEY(pkey, nil)
        guard length > 0 else { throw CryptoError.openSSL("Could not encode the RSA public key") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(pkey, &cursor)
        }
        guard written == length else { throw CryptoError.openSSL("Could not encode the RSA public key") }
        return der
    }

    /// An owned, public-only EVP_PKEY from SPKI DER we encoded ourselves.
    static func publicKey(spkiDER der: [UInt8]) throws(CryptoError) -> OpaquePointer {
        lock.lock()
        defer { lock.unlock() }
        let pkey = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let pkey else { throw CryptoError.openSSL("Could not derive the public half of the RSA key") }
        return pkey
    }

    /// Frees a key from `decode` or `publicKey(spkiDER:)`.
    static func free(_ pkey: OpaquePointer) {
        lock.lock()
        defer { lock.unlock() }
        EVP_PKEY_free(pkey)
    }

    /// Unencrypted PEM PKCS#8 ("PRIVATE KEY"); nil only if memory runs out.
    static func pkcs8PEM(of pkey: OpaquePointer) -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        // BIO_free clears a memory BIO's buffer before releasing it (BUF_MEM_free).
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else { return nil }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = openidd_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }
}

private func refusePassphrase(
    _ pass: UnsafeMutablePointer<CChar>?, _ size: Int, _ length: UnsafeMutablePointer<Int>?,
    _ params: UnsafePointer<OSSL_PARAM>?, _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    0
}
