import Crypto
import Testing

@Suite struct RSAPublicKeyTests {
    static let publicKeyForms = ["merchant_spki.pem", "merchant_pkcs1_pub.pem", "merchant_spki.b64"]

    func knownAnswer() throws -> (message: [UInt8], signature: [UInt8]) {
        let signature = try #require(Base64.decode(try fixture("string_to_sign_rsa.sig.b64")))
        return (try fixtureBytes("string_to_sign_rsa.txt"), signature)
    }

    @Test(arguments: publicKeyForms)
    func verifiesOpenSSLSignature(form: String) throws {
        let key = try RSAPublicKey(text: try fixture(form))
        let (message, signature) = try knownAnswer()
        #expect(key.verifySHA256(message, signature: signature))
    }

    @Test(arguments: publicKeyForms)
    func fingerprintAndPEMMatchOpenSSL(form: String) throws {
        let key = try RSAPublicKey(text: try fixture(form))
        #expect(key.fingerprint == (try fixture("merchant_spki.fingerprint")))
        #expect(key.spkiPEM() == (try fixture("merchant_spki.pem")))
    }

    @Test func flippedSignatureBitFails() throws {
        let key = try RSAPublicKey(text: try fixture("merchant_spki.pem"))
        let (message, signature) = try knownAnswer()
        for index in [0, signature.count / 2, signature.count - 1] {
            var tampered = signature
            tampered[index] ^= 0x01
            #expect(!key.verifySHA256(message, signature: tampered))
        }
    }

    @Test func flippedMessageBitFails() throws {
        let key = try RSAPublicKey(text: try fixture("merchant_spki.pem"))
        var (message, signature) = try knownAnswer()
        message[message.count - 2] ^= 0x01
        #expect(!key.verifySHA256(message, signature: signature))
    }

    @Test func truncatedOrEmptySignatureFails() throws {
        let key = try RSAPublicKey(text: try fixture("merchant_spki.pem"))
        let (message, signature) = try knownAnswer()
        #expect(!key.verifySHA256(message, signature: Array(signature.dropLast())))
        #expect(!key.verifySHA256(message, signature: []))
    }

    @Test func wrongKeyFails() throws {
        let other = try RSAPrivateKey.generate()
        let (message, signature) = try knownAnswer()
        #expect(!other.publicKey.verifySHA256(message, signature: signature))
        let merchant = try RSAPublicKey(text: try fixture("merchant_spki.pem"))
        #expect(!merchant.verifySHA256(message, signature: try other.signSHA256(message)))
    }

    @Test func recoversTheDigestInfoOfAnOpenSSLSignature() throws {
        let key = try RSAPublicKey(text: try fixture("merchant_spki.pem"))
        let (message, signature) = try knownAnswer()
        let recovered = try #require(key.recoverPKCS1DigestInfo(signature))
        let info = try #require(DigestInfo(der: recovered))
        #expect(info.algorithm == "SHA-256")
        #expect(info.digest == Digest.sha256(message))
    }

    @Test func anotherKeysSignatureDoesNotRecover() throws {
        let merchant = try RSAPublicKey(text: try fixture("merchant_spki.pem"))
        let other = try RSAPrivateKey.generate()
        let (message, signature) = try knownAnswer()
        #expect(merchant.recoverPKCS1DigestInfo(try other.signSHA256(message)) == nil)
        #expect(other.publicKey.recoverPKCS1DigestInfo(signature) == nil)
    }

    @Test func malformedSignaturesDoNotRecover() throws {
        let key = try RSAPublicKey(text: try fixture("merchant_spki.pem"))
        let (_, signature) = try knownAnswer()
        #expect(key.recoverPKCS1DigestInfo([]) == nil)
        #expect(key.recoverPKCS1DigestInfo(Array(signature.dropLast())) == nil)
        #expect(key.recoverPKCS1DigestInfo(signature + [0]) == nil)
        #expect(key.recoverPKCS1DigestInfo([UInt8](repeating: 0xFF, count: signature.count)) == nil)
        // A failed recovery leaves nothing queued for an unrelated later error to report.
        #expect(openSSLReasons() == "")
    }

    @Test func colonFingerprintMatchesOpenSSL() throws {
        let key = try RSAPublicKey(text: try fixture("merchant_spki.pem"))
        // merchant_spki.fingerprint is `openssl dgst -sha256 -r` of the SPKI DER; `-c` adds the colons.
        let hex = Array(try fixture("merchant_spki.fingerprint").dropFirst("SHA256:".count))
        let pairs = stride(from: 0, to: hex.count, by: 2).map { String(hex[$0..<$0 + 2]) }
        #expect(key.colonFingerprint == "SHA256:" + pairs.joined(separator: ":"))
    }

    @Test func spkiPEMReloads() throws {
        let generated = try RSAPrivateKey.generate().publicKey
        let reloaded = try RSAPublicKey(text: generated.spkiPEM())
        #expect(reloaded.fingerprint == generated.fingerprint)
        #expect(generated.fingerprint.hasPrefix("SHA256:"))
        #expect(generated.fingerprint.count == 7 + 64)
    }

    /// Loading keys on many threads at once must not trip OpenSSL 3.0's decoder races (see KeyCoding).
    @Test func concurrentLoadingOfEveryForm() async throws {
        let texts = try (Self.publicKeyForms + RSAPrivateKeyTests.privateKeyForms).map { try fixture($0) }
        let fingerprints = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<48 {
                let text = texts[index % texts.count]
                group.addTask {
                    if text.contains("PRIVATE") || text.count > 1000 {
                        return try RSAPrivateKey(text: text).publicKey.fingerprint
                    }
                    return try RSAPublicKey(text: text).fingerprint
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(fingerprints.count == 48)
        #expect(Set(fingerprints) == [try fixture("merchant_spki.fingerprint")])
    }

    @Test func privateKeyIsRefusedWithAdvice() throws {
        let text = try fixture("merchant_pkcs8.pem")
        let error = try #require(throws: CryptoError.self) { try RSAPublicKey(text: text) }
        #expect(error.description.contains("-pubout"))
        #expect(!quotesKeyMaterial(error.description, keyText: text))
    }

    @Test func privateKeyAsBareBase64IsRefused() throws {
        let text = try fixture("merchant_pkcs8.b64")
        let error = try #require(throws: CryptoError.self) { try RSAPublicKey(text: text) }
        #expect(!quotesKeyMaterial(error.description, keyText: text))
    }

    @Test func ecPublicKeyIsRefusedByType() throws {
        let text = try fixture("ec_p256_spki.pem")
        let error = try #require(throws: CryptoError.self) { try RSAPublicKey(text: text) }
        #expect(error.description.contains("type EC"))
        #expect(!quotesKeyMaterial(error.description, keyText: text))
    }

    @Test(arguments: ["", "garbage!", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
    func nonKeysAreRefused(text: String) throws {
        #expect(throws: CryptoError.self) { try RSAPublicKey(text: text) }
    }
}
