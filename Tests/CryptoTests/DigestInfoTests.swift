import Crypto
import Testing

@Suite struct DigestInfoTests {
    static let sha256Prefix: [UInt8] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
        0x04, 0x20,
    ]

    @Test func splitsSHA256() throws {
        let digest = Digest.sha256(Array("abc".utf8))
        let info = try #require(DigestInfo(der: Self.sha256Prefix + digest))
        #expect(info == DigestInfo(der: Self.sha256Prefix + digest))
        #expect(info.algorithm == "SHA-256")
        #expect(info.digest == digest)
    }

    @Test func namesSHA1() throws {
        let prefix: [UInt8] = [
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
        ]
        let info = try #require(DigestInfo(der: prefix + [UInt8](repeating: 7, count: 20)))
        #expect(info.algorithm == "SHA-1")
    }

    @Test func refusesWrongLengthsAndBareDigests() {
        let digest = Digest.sha256(Array("abc".utf8))
        #expect(DigestInfo(der: Self.sha256Prefix + digest.dropLast()) == nil)
        #expect(DigestInfo(der: Self.sha256Prefix + digest + [0]) == nil)
        #expect(DigestInfo(der: digest) == nil)
        #expect(DigestInfo(der: []) == nil)
    }
}
