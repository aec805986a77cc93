import Foundation
import HTTP1
import HTTPServer
import Logging
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `Peer` a handler sees: credentials on a Unix socket, an address on TCP.
@Suite struct PeerTests {
    static let describePeer: Handler = { _, peer in
        let credentials = peer.credentials.map { "pid=\($0.pid) uid=\($0.uid) gid=\($0.gid)" } ?? "none"
        return HTTPResponse(status: 200, body: Array("host=\(peer.host ?? "none") \(credentials)".utf8))
    }

    @Test func aUnixSocketPeerCarriesItsCredentials() throws {
        let directory = NSTemporaryDirectory() + "openidd-peer-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/peer.sock"
        let listener = try Socket.listenUnix(path: path, mode: 0o600)
        // Two loops: the credentials travel with a connection dealt to the second one.
        let server = try EventLoopServer(
            name: "unix", listener: listener, loops: 2, logger: Logger(sink: MemorySink()),
            renderError: { status, _ in HTTPResponse(status: status) },
            handler: { request, peer, responder in responder.respond(Self.describePeer(request, peer)) })
        server.start()
        defer {
            server.shutdown(graceSeconds: 2)
            listener.close()
        }

        for _ in 0..<2 {
            let client = try Socket.connectUnix(path: path)
            defer { client.close() }
            let request = Array("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".utf8)
            _ = try request.withUnsafeBytes { try Socket.send(client, $0) }
            var reply: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = try buffer.withUnsafeMutableBytes { try client.read(into: $0) }
                if count == 0 { break }
                reply += buffer[0..<count]
            }
            #expect(
                String(decoding: reply, as: UTF8.self).hasSuffix(
                    "host=none pid=\(getpid()) uid=\(geteuid()) gid=\(getegid())"))
        }
    }

    @Test func aTCPPeerHasAnAddressAndNoCredentials() throws {
        let live = try LiveServer(handler: Self.describePeer)
        let client = try live.connect()
        client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        #expect(client.receive().hasSuffix("host=127.0.0.1 none"))
    }
}
