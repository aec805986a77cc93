import Crypto
import Testing

@Suite struct SecureRandomTests {
    @Test(arguments: [0, 1, 16, 32, 1000])
    func bytesHaveTheRequestedCount(count: Int) {
        #expect(SecureRandom.bytes(count).count == count)
    }

    @Test func bytesDiffer() {
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }

    /// base64url without padding: 4 characters per 3 bytes, rounded up, from [A-Za-z0-9_-] only.
    @Test(arguments: [(1, 2), (2, 3), (3, 4), (16, 22), (32, 43)])
    func tokenLengthAndAlphabet(byteCount: Int, length: Int) {
        let token = SecureRandom.token(byteCount: byteCount)
        #expect(token.count == length)
        #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
    }

    @Test func tokensAreUnique() {
        let tokens = (0..<1000).map { _ in SecureRandom.token(byteCount: 16) }
        #expect(Set(tokens).count == tokens.count)
    }

    /// Every alphabet symbol turns up across many tokens, so none is stuck or mis-mapped.
    @Test func tokensUseTheWholeAlphabet() {
        let seen = Set((0..<200).flatMap { _ in SecureRandom.token(byteCount: 48) })
        #expect(seen.count == 64)
        #expect(seen.contains("-") && seen.contains("_"))
        #expect(!seen.contains("+") && !seen.contains("/") && !seen.contains("="))
    }
}

@Suite struct ConstantTimeEqualsTests {
    @Test func equalArrays() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(constantTimeEquals([], []))
    }

    @Test func differentContentOrLength() {
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([0, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!constantTimeEquals([], [0]))
    }

    @Test func strings() {
        let token = "0123456789abcdef0123456789abcdef0123456789a"
        #expect(constantTimeEquals(token, String(token.reversed().reversed())))
        #expect(constantTimeEquals("", ""))
        #expect(!constantTimeEquals(token, token.dropLast() + "b"))
        #expect(!constantTimeEquals(token, String(token.dropLast())))
        #expect(!constantTimeEquals("", "a"))
        // Not byte-equal, so not equal, although Swift's == would call them the same string.
        #expect(!constantTimeEquals("\u{E9}", "e\u{301}"))
        // Bridged or substring-backed strings take the same path.
        #expect(constantTimeEquals(String(Substring("abc")), "abc"))
    }
}
