import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The peer's address as the socket layer reports it, over real loopback sockets.
@Suite struct SocketTests {
    /// A dual-stack listener (`::`, no IPV6_V6ONLY, as systemd's `ListenStream=PORT` makes) sees an
    /// IPv4 peer as `::ffff:a.b.c.d`; the peer is reported in its IPv4 form.
    @Test func anIPv4PeerOfADualStackListenerIsReportedAsIPv4() throws {
        let listener = try Socket.listenTCP(host: "::", port: 0)
        defer { listener.close() }
        let port = try #require(Socket.localPort(listener))
        let client = try Socket.connectTCP(
            host: "127.0.0.1", port: port, deadlineNanos: MonotonicClock.deadline(afterSeconds: 5))
        defer { client.close() }
        let accepted = try #require(try Socket.accept(listener))
        defer { accepted.close() }
        #expect(Socket.peerHost(accepted) == "127.0.0.1")
    }

    @Test func anIPv6PeerIsReportedAsIPv6() throws {
        let listener = try Socket.listenTCP(host: "::1", port: 0)
        defer { listener.close() }
        let port = try #require(Socket.localPort(listener))
        let client = try Socket.connectTCP(
            host: "::1", port: port, deadlineNanos: MonotonicClock.deadline(afterSeconds: 5))
        defer { client.close() }
        let accepted = try #require(try Socket.accept(listener))
        defer { accepted.close() }
        #expect(Socket.peerHost(accepted) == "::1")
    }

    @Test func anIPv4MappedAddressIsWrittenInItsIPv4Form() throws {
        let mapped = try #require(IPAddress.bytes("::ffff:10.0.0.5"))
        #expect(mapped.count == 16)
        #expect(IPAddress.text(mapped) == "10.0.0.5")
        #expect(IPAddress.text(try #require(IPAddress.bytes("10.0.0.5"))) == "10.0.0.5")
        // Other IPv6 addresses, including ones that merely end in an IPv4 address, stay IPv6.
        #expect(IPAddress.text(try #require(IPAddress.bytes("2001:db8::1"))) == "2001:db8::1")
        #expect(IPAddress.text(try #require(IPAddress.bytes("64:ff9b::a00:5"))) == "64:ff9b::a00:5")
        #expect(IPAddress.bytes("10.0.0") == nil)
        #expect(IPAddress.text([1, 2, 3]) == nil)
    }
}
