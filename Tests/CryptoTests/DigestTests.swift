import Foundation
import Synchronization
import Testing

@testable import Crypto

@Suite struct DigestTests {
    /// The platform's MD5 signType: uppercase hex MD5 of string-to-sign + key, checked against md5sum.
    @Test func md5SignatureMatchesMd5sum() throws {
        let message = try fixtureBytes("string_to_sign_md5.txt")
        let signature = Hex.upper(Digest.md5(message + Array("md5-secret-key".utf8)))
        #expect(signature == (try fixture("string_to_sign_md5.expected")))
    }

    // RFC 1321 §A.5 and FIPS 180-2 appendix B.1 test vectors.
    @Test func md5KnownAnswers() {
        #expect(Hex.lower(Digest.md5([])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Hex.lower(Digest.md5(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
    }

    /// The callback check hashes the string to sign, then the key, without joining them: the digest must
    /// be the joined bytes', wherever the split falls (an empty part included).
    @Test func md5OfTwoPartsIsTheMD5OfThemJoined() {
        let message = Array("businessId=b&nonce=n&signType=MD5&timestamp=1{\"serialNo\":\"s\"}md5-key".utf8)
        for split in [0, 1, 17, 63, 64, 65, message.count - 1, message.count] {
            var digest = [UInt8](repeating: 0, count: 16)
            digest.withUnsafeMutableBufferPointer {
                Digest.md5(Array(message[..<split]), then: Array(message[split...]), into: $0)
            }
            #expect(digest == Digest.md5(message), "split at \(split)")
        }
    }

    /// Each thread keeps one MD5 context for its digests: a digest after others on the same thread,
    /// of a longer or a shorter message, and digests on threads that come and go, each equal the
    /// one-shot digest of the same bytes.
    @Test func md5OfTwoPartsOnReusedContextsInManyThreads() {
        final class Mismatches: Sendable { let count = Atomic<Int>(0) }
        let mismatches = Mismatches()
        let finished = DispatchGroup()
        for thread in 0..<8 {
            finished.enter()
            Thread {
                for round in 0..<200 {
                    let length = (thread * 37 + round * 11) % 300
                    let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ thread &+ round) }
                    let key = Array("key-\(thread)-\(round)".utf8)
                    var digest = [UInt8](repeating: 0, count: 16)
                    digest.withUnsafeMutableBufferPointer { Digest.md5(message, then: key, into: $0) }
                    if digest != Digest.md5(message + key) { mismatches.count.add(1, ordering: .relaxed) }
                }
                finished.leave()
            }.start()
        }
        finished.wait()
        #expect(mismatches.count.load(ordering: .relaxed) == 0)
    }

    @Test func sha256KnownAnswers() {
        #expect(
            Hex.lower(Digest.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        #expect(
            Hex.lower(Digest.sha256(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

@Suite struct HexIntoBufferTests {
    /// Hex written into a caller's buffer (the MD5 check keeps it on the stack) is `Hex.upper`'s.
    @Test func upperIntoABufferMatchesUpper() {
        let bytes: [UInt8] = Array(0...255)
        var output = [UInt8](repeating: 0, count: 512)
        bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { Hex.upper(input, into: $0) }
        }
        #expect(String(decoding: output, as: UTF8.self) == Hex.upper(bytes))
        #expect(Hex.upper([0x00, 0x9F, 0xA0, 0xFF]) == "009FA0FF")
    }

    @Test func constantTimeEqualsOverBuffers() {
        func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in constantTimeEquals(a, b) } }
        }
        #expect(equal(Array("ABCDEF".utf8), Array("ABCDEF".utf8)))
        #expect(!equal(Array("ABCDEF".utf8), Array("ABCDEE".utf8)))
        #expect(!equal(Array("ABCDEF".utf8), Array("BBCDEF".utf8)))
        #expect(!equal(Array("ABCDEF".utf8), Array("ABCDE".utf8)))
        #expect(equal([], []))
        #expect(!equal([], [0]))
    }
}

@Suite struct HexTests {
    /// The known answers above go through implementations fetched once from the default provider (the
    /// fast path); this machine's OpenSSL has both, so neither falls back to the legacy handle.
    @Test func digestsUseImplementationsFetchedOnceAndSharedByThreads() {
        #expect(Digest.Fetched.md5.algorithm != nil)
        #expect(Digest.Fetched.sha256.algorithm != nil)
        let messages = (0..<64).map { Array("message \($0)".utf8) }
        let expected = messages.map { Digest.md5($0) + Digest.sha256($0) }
        let mismatches = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: messages.count) { index in
            if Digest.md5(messages[index]) + Digest.sha256(messages[index]) != expected[index] {
                mismatches.add(1, ordering: .relaxed)
            }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }

    @Test func encodesBothCases() {
        #expect(Hex.upper([0x00, 0x0F, 0xA5, 0xFF]) == "000FA5FF")
        #expect(Hex.lower([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(Hex.upper([]) == "")
    }
}
