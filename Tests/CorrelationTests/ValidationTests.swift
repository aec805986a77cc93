import Testing

@testable import Correlation

@Suite struct ValidationTests {
    @Test func tokenAlphabetIsLettersDigitsUnderscoreAndHyphen() {
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".utf8)
        for value in 0...255 {
            #expect(Validation.isTokenByte(UInt8(value)) == alphabet.contains(UInt8(value)), "\(value)")
        }
    }

    @Test func openIdBoundaries() {
        #expect(Validation.isValidOpenId("a"))
        #expect(Validation.isValidOpenId("2088102122524333"))
        #expect(Validation.isValidOpenId("A-z_0-9"))
        #expect(Validation.isValidOpenId(String(repeating: "x", count: 128)))
        #expect(!Validation.isValidOpenId(String(repeating: "x", count: 129)))
        #expect(!Validation.isValidOpenId(""))
    }

    @Test(arguments: [
        "a b", "a\nb", "a\u{0}", "a\tb", "a.b", "a/b", "a+b", "a=", "é", "ａ", "验", "a\u{7F}", "😀",
    ])
    func openIdAndSerialNoRejectOtherCharacters(value: String) {
        #expect(!Validation.isValidOpenId(value))
        #expect(!Validation.isValidSerialNo(value))
    }

    @Test func openIdLengthCountsBytesNotCharacters() {
        // 128 characters, but not all in the alphabet anyway; the limit must not be fooled by multi-byte text.
        #expect(!Validation.isValidOpenId(String(repeating: "é", count: 64)))
    }

    /// serialNo is 1–64 characters (see `Validation.isValidSerialNo`): the platform's field, the daemon's
    /// 128-bit tokens fit in 22.
    @Test func serialNoBoundaries() {
        #expect(Validation.isValidSerialNo("s-1"))
        #expect(Validation.isValidSerialNo(String(repeating: "s", count: 64)))
        #expect(!Validation.isValidSerialNo(String(repeating: "s", count: 65)))
        #expect(!Validation.isValidSerialNo(String(repeating: "s", count: 128)))
        #expect(!Validation.isValidSerialNo(""))
    }

    @Test func userIdBoundaries() {
        #expect(Validation.isValidUserId("u-42"))
        #expect(Validation.isValidUserId("user@example.com"))
        #expect(Validation.isValidUserId("a b"))
        #expect(Validation.isValidUserId("用户-42"), "non-ASCII customer ids are the merchant's business")
        #expect(Validation.isValidUserId(String(repeating: "u", count: 128)))
        #expect(Validation.isValidUserId(String(repeating: "验", count: 128)))
        #expect(!Validation.isValidUserId(String(repeating: "u", count: 129)))
        #expect(!Validation.isValidUserId(String(repeating: "验", count: 129)))
        #expect(!Validation.isValidUserId(""))
    }

    /// SPEC: 1–128 Unicode scalars and at most 512 UTF-8 bytes; one Character may hold any number of scalars.
    @Test func userIdIsCountedInScalarsAndBytesNotCharacters() {
        let stacked = "e" + String(repeating: "\u{301}", count: 32_000)
        #expect(stacked.count == 1)
        #expect(!Validation.isValidUserId(stacked), "one Character, 32,001 scalars, 64,001 bytes")
        // 128 four-byte scalars: exactly 512 bytes.
        let emoji = String(repeating: "😀", count: 128)
        #expect(emoji.utf8.count == 512)
        #expect(Validation.isValidUserId(emoji))
        // A scalar is at most 4 bytes, so 128 scalars are at most 512 bytes: 513 bytes are 129 scalars.
        let over = emoji + "u"
        #expect(over.utf8.count == 513)
        #expect(!Validation.isValidUserId(over))
        #expect(!Validation.isValidUserId(String(repeating: "u", count: 129)))
        // A family emoji is 7 scalars and 25 bytes as one Character: 18 of them are 126 scalars, 450 bytes.
        let family = "👨‍👩‍👧‍👦"
        #expect(Validation.isValidUserId(String(repeating: family, count: 18)))
        #expect(!Validation.isValidUserId(String(repeating: family, count: 19)), "133 scalars")
    }

    @Test(arguments: ["a\nb", "a\rb", "a\tb", "\u{0}", "a\u{1F}", "a\u{7F}", "a\u{80}", "a\u{9F}", "a\u{85}"])
    func userIdRejectsControlCharacters(value: String) {
        #expect(!Validation.isValidUserId(value))
    }

    @Test func userIdAcceptsTheFirstCharactersPastTheControlRanges() {
        #expect(Validation.isValidUserId(" "))
        #expect(Validation.isValidUserId("~"))
        #expect(Validation.isValidUserId("\u{A0}"))
    }
}
