import Foundation
import HTTP1
import HTTPServer
import Logging
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A live server on an ephemeral loopback port with short limits, and raw client sockets.
final class LiveServer: @unchecked Sendable {
    let server: HTTPServer
    let port: UInt16
    let log = MemorySink()

    init(
        maxConnections: Int = 16, requestTimeout: Double = 0.4, idleTimeout: Double = 0.6,
        handler: @escaping RequestHandler = { request, _ in
            HTTPResponse(status: 200, body: Array("path=\(request.path) body=\(request.body.count)".utf8))
        }
    ) throws {
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0)
        port = Socket.localPort(listener)!
        var limits = HTTPServer.Limits()
        limits.maxConnections = maxConnections
        limits.requestTimeoutSeconds = requestTimeout
        limits.idleTimeoutSeconds = idleTimeout
        limits.parser.maxBodyBytes = 1024
        server = try HTTPServer(
            name: "test", listener: listener, limits: limits, logger: Logger(sink: log),
            renderError: { status, reason in HTTPResponse(status: status, body: Array("FAIL \(reason)".utf8))
            },
            handler: handler)
        server.start()
    }

    deinit {
        server.shutdown(graceSeconds: 2)
        server.listener.close()
    }

    func connect() throws -> Client { try Client(port: port) }
}

final class Client {
    let fd: FileDescriptor

    init(port: UInt16) throws {
        fd = try Socket.connectTCP(
            host: "127.0.0.1", port: port, deadlineNanos: MonotonicClock.deadline(afterSeconds: 5))
    }

    deinit { fd.close() }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything received until the peer closes or `seconds` pass.
    func receive(seconds: Double = 3, until marker: String? = nil) -> String {
        var received: [UInt8] = []
        let deadline = MonotonicClock.deadline(afterSeconds: seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while MonotonicClock.nowNanos() < deadline {
            guard (try? Poll.wait(fd, for: .readable, deadlineNanos: deadline)) == true else { break }
            let count = buffer.withUnsafeMutableBytes { recv(fd.rawValue, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
            if let marker, String(decoding: received, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// True once the server has closed the connection.
    func isClosedByPeer(within seconds: Double) -> Bool {
        let deadline = MonotonicClock.deadline(afterSeconds: seconds)
        var byte: UInt8 = 0
        while MonotonicClock.nowNanos() < deadline {
            guard (try? Poll.wait(fd, for: .readable, deadlineNanos: deadline)) == true else { return false }
            let count = recv(fd.rawValue, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 && errno != EAGAIN && errno != EINTR { return true }
        }
        return false
    }
}

let get = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"

@Suite struct HTTPServerTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let live = try LiveServer()
        let client = try live.connect()
        client.send(get)
        #expect(client.receive(until: "path=/x").contains("HTTP/1.1 200"))
        client.send("POST /y HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
        #expect(client.receive(until: "body=3").contains("path=/y body=3"))
        client.send("GET /z HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let last = client.receive()
        #expect(last.contains("Connection: close"))
        #expect(last.contains("path=/z"))
    }

    @Test func aStalledRequestGets408AndIsClosed() throws {
        let live = try LiveServer(requestTimeout: 0.3)
        let client = try live.connect()
        client.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        let reply = client.receive(seconds: 3)
        #expect(reply.hasPrefix("HTTP/1.1 408"), "\(reply)")
        #expect(reply.contains("FAIL request not received in time"))
    }

    @Test func slowHeadersCountAgainstTheRequestDeadline() throws {
        let live = try LiveServer(requestTimeout: 0.5)
        let client = try live.connect()
        // Slowloris: one header byte at a time, each well within any per-read timeout.
        var closed = false
        for byte in "GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".map(
            String.init)
        {
            client.send(byte)
            usleep(50_000)
            if client.isClosedByPeer(within: 0) {
                closed = true
                break
            }
        }
        #expect(closed || client.isClosedByPeer(within: 1))
    }

    @Test func idleKeepAliveConnectionsAreClosed() throws {
        let live = try LiveServer(idleTimeout: 0.3)
        let client = try live.connect()
        client.send(get)
        #expect(client.receive(until: "path=/x").contains("200"))
        #expect(client.isClosedByPeer(within: 3))
    }

    @Test func connectionsOverTheCapAreRefusedWith503AndServiceContinues() throws {
        let live = try LiveServer(maxConnections: 3, idleTimeout: 30)
        var held = try (0..<3).map { _ in try live.connect() }
        for client in held {
            client.send(get)
            #expect(client.receive(until: "path=/x").contains("200"))
        }
        let refused = try live.connect()
        let reply = refused.receive(seconds: 3)
        #expect(reply.hasPrefix("HTTP/1.1 503"), "\(reply)")
        #expect(reply.contains("Retry-After: 1"))
        #expect(refused.isClosedByPeer(within: 1))
        #expect(live.log.lines.contains { $0.contains("connection refused: limit reached") })
        // A slot freed is a slot usable again.
        held.removeLast()
        usleep(200_000)
        let next = try live.connect()
        next.send(get)
        #expect(next.receive(until: "path=/x").contains("200"))
    }

    @Test func manySlowClientsDoNotBlockARealRequest() throws {
        let live = try LiveServer(maxConnections: 1024, requestTimeout: 10)
        let slow = try (0..<200).map { _ in try live.connect() }
        for client in slow { client.send("POST /slow HTTP/1.1\r\nHost: a\r\nContent-Le") }
        let started = MonotonicClock.nowNanos()
        let client = try live.connect()
        client.send(get)
        let reply = client.receive(until: "path=/x")
        let milliseconds = Double(MonotonicClock.nowNanos() - started) / 1e6
        #expect(reply.contains("200"))
        // Not a benchmark: only that the answer did not wait for any slow client's deadline.
        #expect(milliseconds < 5_000, "took \(milliseconds) ms")
        withExtendedLifetime(slow) {}
    }

    @Test func malformedAndOversizedRequestsAreRefusedAndClosed() throws {
        let live = try LiveServer()
        let cases: [(String, String)] = [
            (
                "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 400"
            ),
            ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 501"),
            ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", "HTTP/1.1 413"),
            ("GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 414"),
            (
                "GET /x HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 17_000))\r\n\r\n",
                "HTTP/1.1 431"
            ),
            ("GET /x HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n b\r\n\r\n", "HTTP/1.1 400"),
            ("GET /x HTTP/2.0\r\nHost: a\r\n\r\n", "HTTP/1.1 505"),
        ]
        for (request, status) in cases {
            let client = try live.connect()
            client.send(request)
            let reply = client.receive()
            #expect(reply.hasPrefix(status), "\(request.prefix(60)): \(reply.prefix(80))")
            #expect(reply.contains("Connection: close"))
        }
        let client = try live.connect()
        client.send(get)
        #expect(client.receive(until: "path=/x").contains("200"))
    }

    @Test func shutdownFinishesTheRequestInFlightAndClosesIdleConnections() throws {
        let gate = DispatchSemaphore(value: 0)
        let live = try LiveServer(idleTimeout: 30) { request, _ in
            if request.path == "/slow" { _ = gate.wait(timeout: .now() + 5) }
            return HTTPResponse(status: 200, body: Array("done \(request.path)".utf8))
        }
        let idle = try live.connect()
        idle.send(get)
        #expect(idle.receive(until: "done /x").contains("200"))
        let busy = try live.connect()
        busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        usleep(100_000)
        let finished = DispatchSemaphore(value: 0)
        let result = LockedFlag()
        Thread {
            result.set(live.server.shutdown(graceSeconds: 5))
            finished.signal()
        }.start()
        #expect(idle.isClosedByPeer(within: 2))
        gate.signal()
        let reply = busy.receive(until: "done /slow")
        #expect(reply.contains("done /slow"))
        #expect(reply.contains("Connection: close"))
        #expect(finished.wait(timeout: .now() + 5) == .success)
        #expect(result.value)
        // No new connections once stopped.
        #expect((try? live.connect())?.receive(seconds: 0.5).isEmpty ?? true)
    }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    func set(_ value: Bool) { lock.withLock { stored = value } }
    var value: Bool { lock.withLock { stored } }
}
