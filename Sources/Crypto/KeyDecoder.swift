import COpenSSL

/// Turns key bytes into an EVP_PKEY with OpenSSL's decoder, which reads PKCS#8, PKCS#1 and SPKI
/// alike (the PEM_read_bio_RSA* readers are deprecated in OpenSSL 3).
enum KeyDecoder {
    enum Part {
        case privateKey, publicKey

        var selection: Int32 {
            switch self {
            case .privateKey: openidd_EVP_PKEY_KEYPAIR()
            case .publicKey: openidd_EVP_PKEY_PUBLIC_KEY()
            }
        }
    }

    /// Returns an owned EVP_PKEY (caller frees). `structure` pins DER input to one ASN.1 structure
    /// ("PrivateKeyInfo", "SubjectPublicKeyInfo") so a public key is never taken for a private one.
    static func decode(
        _ bytes: [UInt8], inputType: String, structure: String?, part: Part, what: String
    ) throws(CryptoError) -> OpaquePointer {
        var pkey: OpaquePointer? = nil
        guard let decoder = OSSL_DECODER_CTX_new_for_pkey(&pkey, inputType, structure, nil, part.selection, nil, nil)
        else {
            throw CryptoError.openSSL("Could not set up OpenSSL's key decoder for the \(what)")
        }
        defer { OSSL_DECODER_CTX_free(decoder) }
        // Never prompt on a terminal for a passphrase: a daemon has none to give.
        OSSL_DECODER_CTX_set_passphrase_cb(decoder, refusePassphrase, nil)
        let decoded = bytes.withUnsafeBufferPointer { buffer -> Bool in
            var data = buffer.baseAddress
            var length = buffer.count
            return OSSL_DECODER_from_data(decoder, &data, &length) == 1
        }
        guard decoded, let pkey else {
            if let pkey { EVP_PKEY_free(pkey) }
            throw CryptoError.openSSL("The \(what) could not be decoded; check that it is complete and is that kind of key")
        }
        guard EVP_PKEY_is_a(pkey, "RSA") == 1 else {
            let type = EVP_PKEY_get0_type_name(pkey).map { String(cString: $0) } ?? "non-RSA"
            EVP_PKEY_free(pkey)
            throw CryptoError("The \(what) is a key of type \(type); openidd signs and verifies with RSA (SHA256withRSA) only.")
        }
        return pkey
    }
}

private func refusePassphrase(
    _ pass: UnsafeMutablePointer<CChar>?, _ size: Int, _ length: UnsafeMutablePointer<Int>?,
    _ params: UnsafePointer<OSSL_PARAM>?, _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    0
}

/// PEM text of whatever `write` puts into a memory BIO.
func pemText(_ write: (OpaquePointer) -> Int32) -> String? {
    guard let bio = BIO_new(BIO_s_mem()) else { return nil }
    defer { BIO_free(bio) }
    guard write(bio) == 1 else { return nil }
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = openidd_BIO_get_mem_data(bio, &data)
    guard let data, length > 0 else { return nil }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
}
