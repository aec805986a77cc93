import Crypto
import Testing

@Suite struct RSAPrivateKeyTests {
    static let privateKeyForms = ["merchant_pkcs1.pem", "merchant_pkcs8.pem", "merchant_pkcs8.b64"]

    @Test(arguments: privateKeyForms)
    func signatureMatchesOpenSSLCommandLine(form: String) throws {
        let key = try RSAPrivateKey(text: try fixture(form))
        let expected = try #require(Base64.decode(try fixture("string_to_sign_rsa.sig.b64")))
        let signature = try key.signSHA256(try fixtureBytes("string_to_sign_rsa.txt"))
        #expect(signature == expected)
        #expect(Base64.encode(signature) == (try fixture("string_to_sign_rsa.sig.b64")))
    }

    @Test func base64KeyAcceptsLineBreaksAndSurroundingWhitespace() throws {
        let oneLine = try fixture("merchant_pkcs8.b64")
        var wrapped = ""
        for (index, character) in oneLine.enumerated() {
            if index > 0 && index % 64 == 0 { wrapped += "\r\n" }
            wrapped.append(character)
        }
        let key = try RSAPrivateKey(text: "\n  " + wrapped + "\n\n")
        #expect(key.publicKey.fingerprint == (try fixture("merchant_spki.fingerprint")))
    }

    @Test(arguments: privateKeyForms)
    func publicKeyIsTheMatchingOne(form: String) throws {
        let key = try RSAPrivateKey(text: try fixture(form))
        #expect(key.publicKey.fingerprint == (try fixture("merchant_spki.fingerprint")))
        #expect(key.publicKey.spkiPEM() == (try fixture("merchant_spki.pem")))
    }

    @Test func pkcs8PEMRoundTrips() throws {
        let key = try RSAPrivateKey(text: try fixture("merchant_pkcs1.pem"))
        let pem = key.pkcs8PEM()
        #expect(pem == (try fixture("merchant_pkcs8.pem")))
        let reloaded = try RSAPrivateKey(text: pem)
        let message = Array("round trip".utf8)
        #expect(try reloaded.signSHA256(message) == (try key.signSHA256(message)))
    }

    @Test func generatedKeySignsAndVerifies() throws {
        let key = try RSAPrivateKey.generate()
        let message = Array("sandbox".utf8)
        let signature = try key.signSHA256(message)
        #expect(signature.count == 256)
        #expect(key.publicKey.verifySHA256(message, signature: signature))
        #expect(key.pkcs8PEM().hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let merchant = try RSAPrivateKey(text: try fixture("merchant_pkcs8.pem"))
        #expect(key.publicKey.fingerprint != merchant.publicKey.fingerprint)
    }

    @Test func generateRefusesWeakKeys() {
        #expect(throws: CryptoError.self) { try RSAPrivateKey.generate(bits: 1024) }
    }

    @Test func signsEmptyMessage() throws {
        let key = try RSAPrivateKey(text: try fixture("merchant_pkcs8.pem"))
        let signature = try key.signSHA256([])
        #expect(key.publicKey.verifySHA256([], signature: signature))
        #expect(!key.publicKey.verifySHA256([0], signature: signature))
    }

    @Test func concurrentSigningGivesTheDeterministicSignature() async throws {
        let key = try RSAPrivateKey(text: try fixture("merchant_pkcs8.pem"))
        let message = try fixtureBytes("string_to_sign_rsa.txt")
        let expected = try #require(Base64.decode(try fixture("string_to_sign_rsa.sig.b64")))
        let signatures = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<16 { group.addTask { try key.signSHA256(message) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(signatures.count == 16)
        #expect(signatures.allSatisfy { $0 == expected })
    }

    // MARK: - Refused keys: each a CryptoError that names the problem and quotes no key bytes.

    @Test func garbageIsRefused() throws {
        let garbage = "this is not a key at all; MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
        let error = try #require(throws: CryptoError.self) { try RSAPrivateKey(text: garbage) }
        #expect(error.description.contains("neither PEM"))
        #expect(!error.description.contains("MIIEvQIBADAN"))
    }

    @Test(arguments: ["", " \n\t\r\n"])
    func emptyTextIsRefused(text: String) throws {
        let error = try #require(throws: CryptoError.self) { try RSAPrivateKey(text: text) }
        #expect(error.description.contains("empty"))
    }

    @Test func validBase64ThatIsNotAKeyIsRefused() throws {
        let error = try #require(throws: CryptoError.self) {
            try RSAPrivateKey(text: Base64.encode(Array("definitely not DER".utf8)))
        }
        #expect(error.description.contains("could not be decoded"))
    }

    @Test func truncatedPEMIsRefusedWithoutQuotingIt() throws {
        let text = try fixture("merchant_pkcs8.pem")
        let lines = text.split(separator: "\n")
        let truncated = (lines.prefix(10) + lines.suffix(1)).joined(separator: "\n")
        let error = try #require(throws: CryptoError.self) { try RSAPrivateKey(text: truncated) }
        #expect(error.description.contains("could not be decoded"))
        #expect(!quotesKeyMaterial(error.description, keyText: text))
    }

    @Test func encryptedPKCS8IsRefusedWithAdvice() throws {
        let text = try fixture("merchant_pkcs8_encrypted.pem")
        let error = try #require(throws: CryptoError.self) { try RSAPrivateKey(text: text) }
        #expect(error.description.contains("encrypted"))
        #expect(error.description.contains("openssl pkey"))
        #expect(!quotesKeyMaterial(error.description, keyText: text))
    }

    @Test func encryptedPKCS8AsBareBase64IsRefusedWithoutPrompting() throws {
        let pem = try fixture("merchant_pkcs8_encrypted.pem")
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let error = try #require(throws: CryptoError.self) { try RSAPrivateKey(text: body) }
        #expect(!quotesKeyMaterial(error.description, keyText: pem))
    }

    @Test func ecKeyIsRefusedByType() throws {
        let text = try fixture("ec_p256_pkcs8.pem")
        let error = try #require(throws: CryptoError.self) { try RSAPrivateKey(text: text) }
        #expect(error.description.contains("type EC"))
        #expect(error.description.contains("RSA"))
        #expect(!quotesKeyMaterial(error.description, keyText: text))
    }

    @Test(arguments: ["merchant_spki.pem", "merchant_pkcs1_pub.pem", "merchant_spki.b64"])
    func publicKeyIsNotAPrivateKey(form: String) throws {
        let text = try fixture(form)
        let error = try #require(throws: CryptoError.self) { try RSAPrivateKey(text: text) }
        #expect(!quotesKeyMaterial(error.description, keyText: text))
    }
}
