import Crypto
import HTTP1
import Platform
import Testing

/// Callbacks signed as the platform signs them, then spoiled in the ways operators meet.
@Suite struct SignatureDiagnosisTests {
    static let body = #"{"serialNo":"s-1","openId":"oid-1","callbackUrl":"https://m.example/cb"}"#

    /// The auth headers for `signedBody`, signed with `signer` over `signedHeaders` (default: all of them).
    func callback(
        signType: SignType = .sha256RSA, signedBody: String = body, signer: SigningKeys? = nil,
        businessId: String = "754e0c5d", leaveOutOfSigning: Set<String> = []
    ) throws -> [(name: String, value: String)] {
        let headers: [(name: String, value: String)] = [
            ("businessId", businessId), ("nonce", "n-1"), ("timestamp", "1700000000000"),
            ("signType", signType.rawValue),
        ]
        let keys = try signer ?? makeKeys()
        let signed = headers.filter { !leaveOutOfSigning.contains($0.name) }
        let sign = try keys.sign(
            StringToSign.make(headers: signed, body: Array(signedBody.utf8)), type: signType)
        return headers + [("sign", sign)]
    }

    func diagnose(
        _ headers: [(name: String, value: String)], body: String = body, signType: SignType = .sha256RSA,
        keys: SigningKeys? = nil
    ) throws -> SignatureDiagnosis {
        SignatureDiagnosis.diagnose(
            headers: HTTPHeaders(headers), body: Array(body.utf8), account: makeAccount(signType: signType),
            keys: try keys ?? makeKeys())
    }

    func without(_ name: String, _ headers: [(name: String, value: String)]) -> [(
        name: String, value: String
    )] {
        headers.filter { $0.name != name }
    }

    @Test(arguments: SignType.allCases)
    func aGoodCallbackIsValid(signType: SignType) throws {
        let headers = try callback(signType: signType)
        let diagnosis = try diagnose(headers, signType: signType)
        #expect(diagnosis.verdict == .valid)
        #expect(diagnosis.isValid)
        #expect(diagnosis.notes.isEmpty)
        #expect(diagnosis.stringToSign == StringToSign.make(headers: headers, body: Array(Self.body.utf8)))
    }

    @Test func headerNamesInAnotherCaseAreAcceptedAsTheDaemonDoes() throws {
        let headers = try callback().map { (name: $0.name.uppercased(), value: $0.value) }
        #expect(try diagnose(headers).verdict == .valid)
    }

    @Test func aLowercaseMD5SignatureIsAcceptedAsTheDaemonDoes() throws {
        let headers = try callback(signType: .md5).map {
            (name: $0.name, value: $0.name == "sign" ? $0.value.lowercased() : $0.value)
        }
        #expect(try diagnose(headers, signType: .md5).verdict == .valid)
    }

    @Test func withoutSignTypeTheConfiguredTypeApplies() throws {
        let headers = try callback(signType: .md5, leaveOutOfSigning: ["signType"])
        let diagnosis = try diagnose(without("signType", headers), signType: .md5)
        #expect(diagnosis.verdict == .valid)
        #expect(diagnosis.signType == .md5)
        #expect(!diagnosis.signTypeFromHeader)
    }

    @Test(arguments: ["sign", "businessId"])
    func aMissingRequiredHeaderIsNamed(name: String) throws {
        let diagnosis = try diagnose(without(name, try callback()))
        #expect(diagnosis.verdict == .missingHeader(name))
        #expect(diagnosis.message.contains("header \(name) is missing"))
    }

    @Test func aMissingSignedHeaderIsNamedWhenTheSignatureFails() throws {
        let diagnosis = try diagnose(without("nonce", try callback()))
        #expect(diagnosis.verdict == .missingHeader("nonce"))
    }

    @Test func aMissingUnsignedNonceIsOnlyANote() throws {
        let headers = without("nonce", try callback(leaveOutOfSigning: ["nonce"]))
        let diagnosis = try diagnose(headers)
        #expect(diagnosis.verdict == .valid)
        #expect(diagnosis.notes.count == 1)
        #expect(diagnosis.notes[0].contains("nonce"))
    }

    @Test func anUnknownSignTypeIsNamed() throws {
        let headers = without("signType", try callback()) + [("signType", "sha256-rsa")]
        let diagnosis = try diagnose(headers)
        #expect(diagnosis.verdict == .unknownSignType("sha256-rsa"))
        #expect(!diagnosis.isValid)
    }

    @Test func aSignTypeWithoutAKeyIsNamed() throws {
        let keys = try makeKeys()
        let rsaOnly = SigningKeys(
            merchantPrivateKey: keys.merchantPrivateKey, platformPublicKey: keys.platformPublicKey)
        let diagnosis = try diagnose(try callback(signType: .md5), keys: rsaOnly)
        #expect(diagnosis.verdict == .noKey(.md5))
        #expect(diagnosis.message.contains("platform.md5KeyFile"))
    }

    @Test func anotherBusinessIdIsNamedWhetherOrNotTheSignatureHolds() throws {
        let validForOther = try diagnose(try callback(businessId: "other"))
        #expect(validForOther.verdict == .businessIdMismatch(received: "other", configured: "754e0c5d"))
        let stranger = SigningKeys(merchantPrivateKey: try RSAPrivateKey.generate())
        let invalid = try diagnose(try callback(signer: stranger, businessId: "other"))
        #expect(invalid.verdict == .businessIdMismatch(received: "other", configured: "754e0c5d"))
    }

    @Test func anotherKeyIsDiagnosedWithTheConfiguredFingerprint() throws {
        let stranger = SigningKeys(merchantPrivateKey: try RSAPrivateKey.generate())
        let diagnosis = try diagnose(try callback(signer: stranger))
        let configured = try #require(try makeKeys().platformPublicKey)
        #expect(diagnosis.verdict == .differentKey(fingerprint: configured.colonFingerprint))
        #expect(diagnosis.message.contains("different key"))
        #expect(diagnosis.keyFingerprint == configured.colonFingerprint)
    }

    @Test func aPrettyPrintedBodyIsDiagnosedAsReEncoded() throws {
        let pretty = """
            {
              "serialNo": "s-1",
              "openId": "oid-1",
              "callbackUrl": "https://m.example/cb"
            }
            """
        for signType in SignType.allCases {
            let diagnosis = try diagnose(try callback(signType: signType), body: pretty, signType: signType)
            guard case .bytesDiffer(let change) = diagnosis.verdict else {
                Issue.record("\(signType): \(diagnosis.verdict)")
                continue
            }
            #expect(change.contains("compact JSON"))
        }
    }

    @Test func escapedSlashesAreDiagnosed() throws {
        let escaped = #"{"serialNo":"s-1","openId":"oid-1","callbackUrl":"https:\/\/m.example\/cb"}"#
        let diagnosis = try diagnose(try callback(), body: escaped)
        guard case .bytesDiffer(let change) = diagnosis.verdict else {
            Issue.record("\(diagnosis.verdict)")
            return
        }
        #expect(change.contains("unescaped"))
    }

    @Test func nonASCIIEscapedBySignerIsDiagnosed() throws {
        let signed = #"{"serialNo":"s-1","openId":"oid-1","name":"\u4e2d\ud83d\ude00"}"#
        let received = #"{"serialNo":"s-1","openId":"oid-1","name":"中😀"}"#
        let diagnosis = try diagnose(try callback(signedBody: signed), body: received)
        guard case .bytesDiffer(let change) = diagnosis.verdict else {
            Issue.record("\(diagnosis.verdict)")
            return
        }
        #expect(change.contains("\\uXXXX"))
    }

    @Test func aTrailingNewlineIsDiagnosed() throws {
        let diagnosis = try diagnose(try callback(), body: Self.body + "\n")
        guard case .bytesDiffer(let change) = diagnosis.verdict else {
            Issue.record("\(diagnosis.verdict)")
            return
        }
        #expect(change.contains("trailing newline"))
    }

    @Test func aSignerThatLeavesSignTypeOutIsDiagnosed() throws {
        let diagnosis = try diagnose(try callback(leaveOutOfSigning: ["signType"]))
        guard case .bytesDiffer(let change) = diagnosis.verdict else {
            Issue.record("\(diagnosis.verdict)")
            return
        }
        #expect(change.contains("without signType"))
    }

    @Test func unrecognisedBytesUnderTheRightKey() throws {
        let diagnosis = try diagnose(try callback(signedBody: #"{"serialNo":"s-2"}"#))
        #expect(diagnosis.verdict == .unexplainedBytes)
    }

    @Test func md5WithAnotherKeyOrBytes() throws {
        let other = SigningKeys(md5Key: Array("another-md5-key".utf8))
        let diagnosis = try diagnose(try callback(signType: .md5, signer: other), signType: .md5)
        #expect(diagnosis.verdict == .md5KeyOrBytesDiffer)
    }

    @Test func malformedSignaturesAreNamed() throws {
        let rsa = without("sign", try callback()) + [("sign", "abc%2Bdef%3D")]
        #expect(try diagnose(rsa).code == "malformed_signature")
        let notBase64 = without("sign", try callback()) + [("sign", "not*base64")]
        #expect(try diagnose(notBase64).code == "malformed_signature")
        let md5 = without("sign", try callback(signType: .md5)) + [("sign", "ABC")]
        #expect(try diagnose(md5, signType: .md5).code == "malformed_signature")
    }

    @Test func theExpectedSignatureIsNeverShown() throws {
        let keys = try makeKeys()
        for signType in SignType.allCases {
            let forged = without("sign", try callback(signType: signType))
            let expected = try keys.sign(
                StringToSign.make(headers: forged, body: Array(Self.body.utf8)), type: signType)
            let wrong = try callback(signType: signType, signedBody: "{}")
            let diagnosis = try diagnose(
                without("sign", forged) + [("sign", wrong.last!.value)], signType: signType)
            #expect(!diagnosis.isValid)
            let shown =
                diagnosis.message + diagnosis.notes.joined()
                + String(decoding: diagnosis.stringToSign, as: UTF8.self)
            #expect(!shown.contains(expected))
            #expect(!shown.contains(Hex.upper(Digest.md5(Array(Self.body.utf8)))))
        }
    }
}

@Suite struct KeyFingerprintTests {
    @Test func md5KeyShowsOnlyAShortHashPrefixAndLength() {
        let key = Array("md5-secret-key".utf8)
        let shown = KeyFingerprint.ofMD5Key(key)
        #expect(shown == "SHA256 prefix \(Hex.lower(Array(Digest.sha256(key).prefix(4)))), 14 bytes")
        #expect(!shown.contains("md5-secret-key"))
    }
}
