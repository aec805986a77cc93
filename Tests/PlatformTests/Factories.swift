import Crypto
import Platform

func makeAccount(signType: SignType = .sha256RSA, userIdField: String = "userId") -> PlatformAccount {
    PlatformAccount(
        baseUrl: "https://platform.example", businessId: "754e0c5d", merchantId: "eb1b", signType: signType,
        userIdField: userIdField)
}

/// The body of the README's known-answer vectors.
func makeBody(userIdField: String = "userId") -> [UInt8] {
    AuthLinkCall.body(
        account: makeAccount(userIdField: userIdField), serialNo: "s-1", userId: "u-42",
        callbackUrl: "https://m.example/cb/tok")
}

func makeHeaders(signType: String) -> [(name: String, value: String)] {
    [
        ("businessId", "754e0c5d"), ("nonce", "24bc8a1f"), ("signType", signType),
        ("timestamp", "1628772138668"),
    ]
}

let md5Key = Array("md5-secret-key".utf8)

func makeKeys() throws -> SigningKeys {
    let privateKey = try RSAPrivateKey(text: try fixture("merchant_pkcs8.pem"))
    return SigningKeys(
        merchantPrivateKey: privateKey,
        platformPublicKey: try RSAPublicKey(text: try fixture("merchant_spki.pem")),
        md5Key: md5Key)
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
