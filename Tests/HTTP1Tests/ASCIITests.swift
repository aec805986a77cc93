import Testing

@testable import HTTP1

@Suite struct ASCIITests {
    @Test func recognisesTokens() {
        #expect(ASCII.isToken("GET".utf8))
        #expect(ASCII.isToken("X-Custom_!#$%&'*+.^`|~09".utf8))
        for text in ["", "a b", "a:b", "a\"b", "(a)", "a/b", "a@b", "a=b", "é", "a\u{7F}"] {
            #expect(!ASCII.isToken(text.utf8), "\(text)")
        }
    }

    /// The masks are written out as literals: they must say exactly what `isTokenChar` says.
    @Test func tokenMasksAgreeWithTheTokenCharacters() {
        for value in 0...255 {
            let byte = UInt8(value)
            let mask = byte < 64 ? ASCII.tokenCharsLow : byte < 128 ? ASCII.tokenCharsHigh : 0
            #expect(((mask >> UInt64(byte & 63)) & 1 == 1) == ASCII.isTokenChar(byte), "\(byte)")
            [byte].withUnsafeBufferPointer {
                #expect(ASCII.isToken($0) == ASCII.isTokenChar(byte), "\(byte)")
            }
        }
        [UInt8]().withUnsafeBufferPointer { #expect(!ASCII.isToken($0)) }
        for text in ["GET", "X-Custom_!#$%&'*+.^`|~09", "a b", "a:b", "é", "a\u{7F}"] {
            Array(text.utf8).withUnsafeBufferPointer {
                #expect(ASCII.isToken($0) == ASCII.isToken(text.utf8), "\(text)")
            }
        }
    }

    /// Eight bytes at a time against byte by byte: every length up to 24, with each byte on either side
    /// of the range's ends (and a tab, which field values may hold but this test does not accept) put
    /// at every position, in buffers that start at every offset within a word.
    @Test func findsBytesOutsideVisibleASCIIAtAnyPosition() {
        let plain = Array("Visible text, and spaces".utf8)
        for length in 0...24 {
            for offset in 0..<8 {
                var storage = [UInt8](repeating: UInt8(ascii: "x"), count: offset) + plain.prefix(length)
                storage.withUnsafeBufferPointer {
                    #expect(ASCII.isVisibleOrSpace(UnsafeBufferPointer(rebasing: $0[offset...])))
                }
                for position in 0..<length {
                    for byte: UInt8 in [0x00, 0x09, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xA0, 0xFF] {
                        let saved = storage[offset + position]
                        storage[offset + position] = byte
                        let expected = byte >= 0x20 && byte < 0x7F
                        storage.withUnsafeBufferPointer {
                            let found = ASCII.isVisibleOrSpace(UnsafeBufferPointer(rebasing: $0[offset...]))
                            #expect(found == expected, "length \(length), \(byte) at \(position)")
                        }
                        storage[offset + position] = saved
                    }
                }
            }
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
