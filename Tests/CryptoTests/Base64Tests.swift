import Crypto
import Testing

@Suite struct Base64Tests {
    // RFC 4648 §10 test vectors.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: vectors)
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func urlEncodingUsesURLAlphabetWithoutPadding() {
        #expect(Base64.urlEncode([0xFB, 0xFF]) == "-_8")
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
        #expect(Base64.urlEncode(Array("foob".utf8)) == "Zm9vYg")
    }

    @Test func roundTripsEveryLengthAndByte() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 200) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        let all = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(all)) == all)
    }

    @Test func decodeIgnoresLineBreaksAndSpaces() {
        #expect(Base64.decode("Zm9v\r\nYmFy\n") == Array("foobar".utf8))
        #expect(Base64.decode(" Zm9v Yg== ") == Array("foob".utf8))
    }

    @Test(arguments: ["Zm9", "Zm9v!", "Zg=a", "Z===", "Zg==Zg==", "Zm9v-_8=", "=Zg="])
    func decodeRejectsMalformedInput(text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
