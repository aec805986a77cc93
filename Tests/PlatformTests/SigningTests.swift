import Crypto
import HTTP1
import Platform
import Testing

@Suite struct StringToSignTests {
    @Test func matchesTheRSAFixture() throws {
        let made = StringToSign.make(headers: makeHeaders(signType: "SHA256-RSA"), body: makeBody())
        #expect(made == (try fixtureBytes("string_to_sign_rsa.txt")))
    }

    @Test func matchesTheMD5Fixture() throws {
        let made = StringToSign.make(headers: makeHeaders(signType: "MD5"), body: makeBody())
        #expect(made == (try fixtureBytes("string_to_sign_md5.txt")))
    }

    @Test func sortsByNameWhateverTheInputOrder() {
        let shuffled: [(name: String, value: String)] = [
            ("timestamp", "1628772138668"), ("signType", "MD5"), ("nonce", "24bc8a1f"),
            ("businessId", "754e0c5d"),
        ]
        #expect(
            text(StringToSign.make(headers: shuffled, body: Array("{}".utf8)))
                == "businessId=754e0c5d&nonce=24bc8a1f&signType=MD5&timestamp=1628772138668{}")
    }

    @Test func excludesSignEmptyValuesAndOtherHeaders() {
        let headers: [(name: String, value: String)] = [
            ("sign", "AAAA"), ("businessId", "b"), ("nonce", ""), ("Content-Type", "application/json"),
            ("timestamp", "1"), ("Host", "x"),
        ]
        #expect(
            text(StringToSign.make(headers: headers, body: Array("B".utf8))) == "businessId=b&timestamp=1B")
    }

    @Test func inputAlreadyPickedAndSortedGivesTheSameString() {
        let sorted: [(name: String, value: String)] = [
            ("businessId", "754e0c5d"), ("nonce", "24bc8a1f"), ("signType", "MD5"),
            ("timestamp", "1628772138668"),
        ]
        let expected = "businessId=754e0c5d&nonce=24bc8a1f&signType=MD5&timestamp=1628772138668{}"
        #expect(text(StringToSign.make(headers: sorted, body: Array("{}".utf8))) == expected)
        // Sorted, but with an empty value or a header that is not signed: those still drop out.
        let withEmpty = sorted + [("zzz", "1")]
        #expect(text(StringToSign.make(headers: withEmpty, body: Array("{}".utf8))) == expected)
        let emptyNonce: [(name: String, value: String)] = [
            ("businessId", "b"), ("nonce", ""), ("timestamp", "1"),
        ]
        #expect(text(StringToSign.make(headers: emptyNonce, body: [])) == "businessId=b&timestamp=1")
        // Two names out of order by one swap.
        let swapped: [(name: String, value: String)] = [("nonce", "n"), ("businessId", "b")]
        #expect(text(StringToSign.make(headers: swapped, body: [])) == "businessId=b&nonce=n")
    }

    /// A received request's headers, read as bytes, give what `make(headers:)` gives over the first
    /// value of each header name (as the subscript reads it): whatever the case and order of the names,
    /// with repeats, empty values, missing headers, `sign`, look-alike names and non-ASCII values.
    @Test(arguments: [
        [
            ("SIGN", "AAAA"), ("TimeStamp", "1628772138668"), ("signtype", "MD5"), ("Nonce", "24bc8a1f"),
            ("BUSINESSID", "754e0c5d"),
        ],
        [("businessId", "b1"), ("businessId", "b2"), ("nonce", ""), ("timestamp", "1"), ("nonce", "late")],
        [("timestamp", "1"), ("Accept", "x"), ("signs", "no"), ("nonces", "no"), ("businessIds", "no")],
        [("sign", "S"), ("signType", ""), ("businessId", "caf\u{E9}\u{4E2D}")],
        [("Accept", "x")],
    ])
    func receivedHeadersGiveTheSameStringAsTheirFirstValues(fields: [(String, String)]) throws {
        let body = Array(#"{"serialNo":"s"}"#.utf8)
        var parser = RequestParser()
        let head = "POST /cb/t HTTP/1.1\r\nHost: m\r\n" + fields.map { "\($0.0): \($0.1)\r\n" }.joined()
        parser.append(Array("\(head)Content-Length: \(body.count)\r\n\r\n".utf8) + body)
        let request = try #require(try parser.next())
        let firstValues: [(name: String, value: String)] = StringToSign.signedHeaderNames.compactMap { name in
            request.headers[name].map { (name, $0) }
        }
        let expected = StringToSign.make(headers: firstValues, body: body)
        #expect(StringToSign.make(receivedHeaders: request.headers, body: request.body) == expected)
        // The same fields built from strings, not received.
        let built = HTTPHeaders(fields.map { (name: $0.0, value: $0.1) })
        #expect(StringToSign.make(receivedHeaders: ReceivedHeaders(built), body: body) == expected)
    }

    @Test func signTypeOnlyWhenSent() {
        let headers: [(name: String, value: String)] = [
            ("businessId", "b"), ("nonce", "n"), ("timestamp", "1"),
        ]
        #expect(text(StringToSign.make(headers: headers, body: [])) == "businessId=b&nonce=n&timestamp=1")
    }

    @Test func namesAreCaseSensitive() {
        let headers: [(name: String, value: String)] = [
            ("BusinessId", "b"), ("signtype", "MD5"), ("nonce", "n"),
        ]
        #expect(text(StringToSign.make(headers: headers, body: [])) == "nonce=n")
    }

    @Test func bodyBytesAreUsedAsGiven() {
        let body: [UInt8] = Array(#"{"a" : "https:\/\/x", "b":"验"}"#.utf8) + [0xFF]
        let made = StringToSign.make(headers: [("nonce", "n")], body: body)
        #expect(made == Array("nonce=n".utf8) + body)
    }
}

@Suite struct SigningKeysTests {
    @Test func rsaSignatureEqualsTheRecordedOne() throws {
        let keys = try makeKeys()
        let signature = try keys.sign(try fixtureBytes("string_to_sign_rsa.txt"), type: .sha256RSA)
        #expect(signature == (try fixture("string_to_sign_rsa.sig.b64")))
    }

    @Test(arguments: ["merchant_pkcs1.pem", "merchant_pkcs8.b64"])
    func everyPrivateKeyFormSignsAlike(name: String) throws {
        let keys = SigningKeys(merchantPrivateKey: try RSAPrivateKey(text: try fixture(name)))
        #expect(
            try keys.sign(try fixtureBytes("string_to_sign_rsa.txt"), type: .sha256RSA)
                == (try fixture("string_to_sign_rsa.sig.b64")))
    }

    @Test func md5EqualsTheExpectedValue() throws {
        let keys = try makeKeys()
        let signature = try keys.sign(try fixtureBytes("string_to_sign_md5.txt"), type: .md5)
        #expect(signature == (try fixture("string_to_sign_md5.expected")))
        #expect(signature == signature.uppercased())
        #expect(signature.count == 32)
    }

    @Test func signingWithoutTheKeyThrows() {
        #expect(throws: SigningKeys.MissingKey.self) {
            try SigningKeys(md5Key: md5Key).sign([1], type: .sha256RSA)
        }
        #expect(throws: SigningKeys.MissingKey.self) { try SigningKeys().sign([1], type: .md5) }
    }

    @Test func authHeadersHaveExactNamesAndOrder() throws {
        let keys = try makeKeys()
        for (type, expected) in [
            (SignType.sha256RSA, "string_to_sign_rsa.sig.b64"), (.md5, "string_to_sign_md5.expected"),
        ] {
            let headers = try keys.authHeaders(
                businessId: "754e0c5d", nonce: "24bc8a1f", timestamp: 1_628_772_138_668, signType: type,
                body: makeBody())
            #expect(headers.map(\.name) == ["businessId", "nonce", "timestamp", "signType", "sign"])
            #expect(
                headers.map(\.value).dropLast() == ["754e0c5d", "24bc8a1f", "1628772138668", type.rawValue])
            #expect(headers.last?.value == (try fixture(expected)), "\(type)")
        }
    }

    @Test func authHeadersWithoutAKeyThrow() {
        #expect(throws: SigningKeys.MissingKey.self) {
            try SigningKeys().authHeaders(businessId: "b", nonce: "n", timestamp: 1, signType: .md5, body: [])
        }
    }

    @Test func signTypeRawValues() {
        #expect(SignType.sha256RSA.rawValue == "SHA256-RSA")
        #expect(SignType.md5.rawValue == "MD5")
        #expect(SignType(rawValue: "md5") == nil)
    }

    @Test func verifyRSA() throws {
        let keys = try makeKeys()
        let message = try fixtureBytes("string_to_sign_rsa.txt")
        let signature = try fixture("string_to_sign_rsa.sig.b64")
        #expect(keys.verify(message, signature: signature, type: .sha256RSA) == .valid)
        #expect(keys.verify(message + [0x20], signature: signature, type: .sha256RSA) == .invalid)
        var flipped = Array(try #require(Base64.decode(signature)))
        flipped[10] ^= 1
        #expect(keys.verify(message, signature: Base64.encode(flipped), type: .sha256RSA) == .invalid)
        #expect(keys.verify(message, signature: "", type: .sha256RSA) == .invalid)
        #expect(keys.verify(message, signature: "not base64!*", type: .sha256RSA) == .invalid)
        #expect(keys.verify(message, signature: "AAAA", type: .sha256RSA) == .invalid)
        #expect(SigningKeys(md5Key: md5Key).verify(message, signature: signature, type: .sha256RSA) == .noKey)
    }

    @Test func verifyRejectsASignatureByAnotherKey() throws {
        let other = try RSAPrivateKey.generate(bits: 2048)
        let message = try fixtureBytes("string_to_sign_rsa.txt")
        let forged = Base64.encode(try other.signSHA256(message))
        #expect(try makeKeys().verify(message, signature: forged, type: .sha256RSA) == .invalid)
    }

    @Test func verifyMD5() throws {
        let keys = try makeKeys()
        let message = try fixtureBytes("string_to_sign_md5.txt")
        let expected = try fixture("string_to_sign_md5.expected")
        #expect(keys.verify(message, signature: expected, type: .md5) == .valid)
        #expect(
            keys.verify(message, signature: expected.lowercased(), type: .md5) == .valid,
            "lowercase hex accepted")
        #expect(keys.verify(message + [0x20], signature: expected, type: .md5) == .invalid)
        #expect(keys.verify(message, signature: String(expected.dropLast()), type: .md5) == .invalid)
        #expect(keys.verify(message, signature: expected + "0", type: .md5) == .invalid)
        #expect(keys.verify(message, signature: "", type: .md5) == .invalid)
        #expect(
            SigningKeys(md5Key: Array("other-key".utf8)).verify(message, signature: expected, type: .md5)
                == .invalid)
        #expect(SigningKeys().verify(message, signature: expected, type: .md5) == .noKey)
    }

    @Test func md5CaseFoldingIsASCIIOnly() throws {
        let keys = try makeKeys()
        // Unicode uppercasing turns the ligature "ﬀ" (U+FB00) into "FF"; a signature is hex, so only
        // ASCII letters fold and this must not match. Find a message whose signature holds "FF".
        var found: (message: [UInt8], signature: String)?
        for counter in 0..<2000 where found == nil {
            let message = Array("message \(counter)".utf8)
            let signature = try keys.sign(message, type: .md5)
            if signature.contains("FF") { found = (message, signature) }
        }
        let (message, signature) = try #require(found)
        let range = try #require(signature.range(of: "FF"))
        let ligature = signature.replacingCharacters(in: range, with: "\u{FB00}")
        #expect(ligature.uppercased() == signature)
        #expect(keys.verify(message, signature: ligature, type: .md5) == .invalid)
        // Mixed ASCII case still folds.
        let mixed = String(
            signature.enumerated().map {
                $0.offset % 2 == 0 ? Character($0.element.lowercased()) : $0.element
            })
        #expect(keys.verify(message, signature: mixed, type: .md5) == .valid)
    }
}
