import Config
import Testing

@Suite struct CIDRTests {
    @Test(arguments: [
        ("10.0.0.0/8", 8), ("192.168.1.1", 32), ("0.0.0.0/0", 0), ("192.0.2.7/32", 32), ("::1/128", 128),
        ("::1", 128),
        ("fd00::/8", 8), ("::/0", 0), ("2001:db8::/33", 33),
    ])
    func valid(text: String, prefixLength: Int) throws {
        let cidr = try #require(CIDR(text))
        #expect(cidr.prefixLength == prefixLength)
    }

    @Test(arguments: [
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "::1/129", "10.0.0/8", "10.0.0.256/8", "host/8",
        "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/８", " 10.0.0.0/8", "[::1]/128", "10.0.0.0/x",
    ])
    func invalid(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test func description() throws {
        #expect(try #require(CIDR("10.0.0.0/8")).description == "10.0.0.0/8")
        #expect(try #require(CIDR("::1")).description == "::1/128")
        #expect(try #require(CIDR("FD00:0::/8")).description == "fd00::/8")
    }

    @Test func containsV4() throws {
        let block = try #require(CIDR("10.0.0.0/8"))
        #expect(block.contains("10.0.0.0"))
        #expect(block.contains("10.255.255.255"))
        #expect(!block.contains("11.0.0.0"))
        #expect(!block.contains("9.255.255.255"))

        let odd = try #require(CIDR("192.168.0.0/23"))
        #expect(odd.contains("192.168.1.255"))
        #expect(!odd.contains("192.168.2.0"))

        let host = try #require(CIDR("127.0.0.1"))
        #expect(host.contains("127.0.0.1"))
        #expect(!host.contains("127.0.0.2"))

        let bits = try #require(CIDR("10.0.0.128/25"))
        #expect(bits.contains("10.0.0.200"))
        #expect(!bits.contains("10.0.0.127"))

        let all = try #require(CIDR("0.0.0.0/0"))
        #expect(all.contains("203.0.113.9"))
        #expect(!all.contains("::1"), "a v4 block never contains a v6 address")
    }

    @Test func containsV6() throws {
        let block = try #require(CIDR("fd00::/8"))
        #expect(block.contains("fd12:3456::1"))
        #expect(!block.contains("fe80::1"))
        #expect(!block.contains("10.0.0.1"))

        let loopback = try #require(CIDR("::1/128"))
        #expect(loopback.contains("::1"))
        #expect(loopback.contains("0:0:0:0:0:0:0:1"))
        #expect(!loopback.contains("::2"))

        let odd = try #require(CIDR("2001:db8::/33"))
        #expect(odd.contains("2001:db8:7fff::1"))
        #expect(!odd.contains("2001:db8:8000::"))

        #expect(!(try #require(CIDR("::/0"))).contains("127.0.0.1"))
        // v4-mapped v6 addresses are v6 here: a v4 block does not match them.
        #expect(!(try #require(CIDR("10.0.0.0/8"))).contains("::ffff:10.0.0.1"))
    }

    @Test func containsRejectsNonAddresses() throws {
        let block = try #require(CIDR("0.0.0.0/0"))
        #expect(!block.contains(""))
        #expect(!block.contains("localhost"))
        #expect(!block.contains("10.0.0.1:80"))
        #expect(!block.contains("10.0.0.1/32"))
    }
}
