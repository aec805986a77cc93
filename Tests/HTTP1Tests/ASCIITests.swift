import Testing

@testable import HTTP1

@Suite struct ASCIITests {
    @Test func recognisesTokens() {
        #expect(ASCII.isToken("GET"))
        #expect(ASCII.isToken("X-Custom_!#$%&'*+.^`|~09"))
        for text in ["", "a b", "a:b", "a\"b", "(a)", "a/b", "a@b", "a=b", "é", "a\u{7F}"] {
            #expect(!ASCII.isToken(text), "\(text)")
        }
    }

    /// The token table against tchar as RFC 9110 §5.6.2 lists it, on every byte value.
    @Test func tokenTableHoldsExactlyTheTokenCharacters() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        for value in 0...255 {
            let byte = UInt8(value)
            #expect([byte].withUnsafeBufferPointer(ASCII.isToken) == tchar.contains(byte), "\(byte)")
            #expect(
                [UInt8(ascii: "a"), byte].withUnsafeBufferPointer(ASCII.isToken) == tchar.contains(byte),
                "\(byte)")
        }
    }

    @Test func comparesIgnoringASCIICaseOnly() {
        #expect("Content-Length".equalsIgnoringASCIICase("content-LENGTH"))
        #expect(!"Content-Length".equalsIgnoringASCIICase("Content-Lengths"))
        #expect(!"É".equalsIgnoringASCIICase("é"))
        #expect(!"[".equalsIgnoringASCIICase("{"))  // 0x5B and 0x7B differ only in the case bit
    }

    @Test func splitsListsAndDropsEmptyElements() {
        #expect(ASCII.listElements(" a ,b,, \t,c\t") == ["a", "b", "c"])
        #expect(ASCII.listElements("").isEmpty)
    }

    @Test func readsHexDigits() {
        #expect(ASCII.hexValue(UInt8(ascii: "0")) == 0)
        #expect(ASCII.hexValue(UInt8(ascii: "f")) == 15)
        #expect(ASCII.hexValue(UInt8(ascii: "F")) == 15)
        #expect(ASCII.hexValue(UInt8(ascii: "g")) == nil)
    }
}
