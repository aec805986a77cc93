import Foundation
import HTTP1
import HTTPServer
import Logging
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// How the handler answers: inline (on the loop's thread), or from another thread (as the ledger's sync
/// thread and the worker pool do).
enum ServerKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case loopInline, loopAsync
    var testDescription: String { rawValue }
}

/// Answers a request at once; `LiveServer` calls it inline or from another thread.
typealias Handler = @Sendable (HTTPRequest, Peer) -> HTTPResponse

/// A live server on an ephemeral loopback port with short limits, and raw client sockets.
final class LiveServer: @unchecked Sendable {
    private let server: EventLoopServer
    let listener: FileDescriptor
    let port: UInt16
    let log = MemorySink()

    init(
        _ kind: ServerKind = .loopInline, name: String = "test", maxConnections: Int = 16,
        requestTimeout: Double = 5,
        idleTimeout: Double = 0.6, writeTimeout: Double = 10, maxConnectionsPerClient: Int? = nil,
        handler: @escaping Handler = { request, _ in
            HTTPResponse(status: 200, body: Array("path=\(request.path) body=\(request.body.count)".utf8))
        }
    ) throws {
        listener = try Socket.listenTCP(host: "127.0.0.1", port: 0)
        port = Socket.localPort(listener)!
        var limits = EventLoopServer.Limits()
        limits.maxConnections = maxConnections
        limits.requestTimeoutSeconds = requestTimeout
        limits.idleTimeoutSeconds = idleTimeout
        limits.writeTimeoutSeconds = writeTimeout
        limits.parser.maxBodyBytes = 1024
        limits.maxConnectionsPerClient = maxConnectionsPerClient
        limits.isExemptFromClientCap = { $0 == "127.0.0.3" }
        let inline = kind == .loopInline
        // Two loops, so connections are dealt from the accepting loop to another one as well.
        server = try EventLoopServer(
            name: name, listener: listener, limits: limits, loops: 2, logger: Logger(sink: log),
            renderError: { status, reason in HTTPResponse(status: status, body: Array("FAIL \(reason)".utf8))
            },
            handler: { request, peer, responder in
                if inline {
                    responder.respond(handler(request, peer))
                } else {
                    DispatchQueue.global().async { responder.respond(handler(request, peer)) }
                }
            })
        server.start()
    }

    @discardableResult
    func shutdown(graceSeconds: Double) -> Bool {
        server.shutdown(graceSeconds: graceSeconds)
    }

    var connectionCount: Int { server.connectionCount }

    deinit {
        shutdown(graceSeconds: 2)
        listener.close()
    }

    func connect(from source: String? = nil) throws -> Client {
        guard let source else { return try Client(port: port) }
        return try Client(port: port, from: source)
    }
}

final class Client: @unchecked Sendable {
    let fd: FileDescriptor

    init(port: UInt16) throws {
        fd = try Socket.connectTCP(
            host: "127.0.0.1", port: port, deadlineNanos: MonotonicClock.deadline(afterSeconds: 5))
    }

    /// A connection from another loopback address (all of 127/8 is local on Linux).
    init(port: UInt16, from source: String) throws {
        let raw = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard raw >= 0 else { throw SystemCallError(call: "socket", errno: errno, subject: source) }
        fd = FileDescriptor(rawValue: raw)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, source, &local.sin_addr)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(raw, $0, length) }
        }
        guard bound == 0 else { throw SystemCallError(call: "bind", errno: errno, subject: source) }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(raw, $0, length) }
        }
        guard connected == 0 else { throw SystemCallError(call: "connect", errno: errno, subject: source) }
    }

    deinit { fd.close() }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends all of `text` within `seconds`; false if the connection failed first.
    func sendAll(_ text: String, seconds: Double = 5) -> Bool {
        let bytes = Array(text.utf8)
        let deadline = MonotonicClock.deadline(afterSeconds: seconds)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes {
                Glibc.send(fd.rawValue, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN {
                guard (try? Poll.wait(fd, for: .writable, deadlineNanos: deadline)) == true else {
                    return false
                }
                continue
            }
            if count < 0 { return false }
            sent += count
        }
        return true
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
    @Test(arguments: ServerKind.allCases) func keepAliveServesSeveralRequestsOnOneConnection(kind: ServerKind)
        throws
    {
        let live = try LiveServer(kind)
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

    @Test(arguments: ServerKind.allCases) func aStalledRequestGets408AndIsClosed(kind: ServerKind) throws {
        let live = try LiveServer(kind, requestTimeout: 0.3)
        let client = try live.connect()
        client.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        let reply = client.receive(seconds: 3)
        #expect(reply.hasPrefix("HTTP/1.1 408"), "\(reply)")
        #expect(reply.contains("FAIL request not received in time"))
    }

    @Test(arguments: ServerKind.allCases) func slowHeadersCountAgainstTheRequestDeadline(kind: ServerKind)
        throws
    {
        let live = try LiveServer(kind, requestTimeout: 0.5)
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

    @Test(arguments: ServerKind.allCases) func idleKeepAliveConnectionsAreClosed(kind: ServerKind) throws {
        let live = try LiveServer(kind, idleTimeout: 0.3)
        let client = try live.connect()
        client.send(get)
        #expect(client.receive(until: "path=/x").contains("200"))
        #expect(client.isClosedByPeer(within: 3))
    }

    @Test(arguments: ServerKind.allCases) func connectionsOverTheCapAreRefusedWith503AndServiceContinues(
        kind: ServerKind
    ) throws {
        let live = try LiveServer(kind, maxConnections: 3, idleTimeout: 30)
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

    @Test(arguments: ServerKind.allCases) func manySlowClientsDoNotBlockARealRequest(kind: ServerKind) throws
    {
        let live = try LiveServer(kind, maxConnections: 1024, requestTimeout: 10)
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

    @Test(arguments: ServerKind.allCases) func malformedAndOversizedRequestsAreRefusedAndClosed(
        kind: ServerKind
    ) throws {
        let live = try LiveServer(kind)
        let cases: [(String, String)] = [
            (
                "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 400"
            ),
            ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 501"),
            (
                "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n", "HTTP/1.1 413"
            ),
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

    @Test(arguments: ServerKind.allCases) func aChunkedBodyIsDecodedAndTheConnectionGoesOn(kind: ServerKind)
        throws
    {
        let live = try LiveServer(kind)
        let client = try live.connect()
        client.send("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        usleep(50_000)
        client.send("6;x=y\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        let reply = client.receive(until: "body=11")
        #expect(reply.hasPrefix("HTTP/1.1 200"), "\(reply)")
        #expect(reply.contains("path=/c body=11"))
        client.send(get)
        #expect(client.receive(until: "path=/x").contains("200"))
    }

    @Test(arguments: ServerKind.allCases) func expect100ContinueIsAnsweredBeforeTheBody(kind: ServerKind)
        throws
    {
        let live = try LiveServer(kind)
        let client = try live.connect()
        client.send("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        #expect(client.receive(until: "\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n")
        client.send("abc")
        #expect(client.receive(until: "body=3").contains("HTTP/1.1 200"))
        // A head refused on its own gets its final status at once, and no 100.
        let tooLarge = try live.connect()
        tooLarge.send("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
        #expect(tooLarge.receive().hasPrefix("HTTP/1.1 413"))
    }

    @Test(arguments: ServerKind.allCases) func aOneMegabyteHeadIsAnswered431(kind: ServerKind) throws {
        let live = try LiveServer(kind)
        let client = try live.connect()
        let head = "GET /x HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 1 << 20))\r\n\r\n"
        // The client writes all of it before it reads, as curl does, and most of it is still to send
        // when the server answers (a small send buffer stands for a real network's: on loopback the
        // kernel would otherwise take the whole megabyte at once). A server that closes on the unread
        // rest resets the connection under the client's write (ECONNRESET): the answer is never read.
        var small: Int32 = 16 * 1024
        setsockopt(client.fd.rawValue, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let sent = client.sendAll(head)
        let sendError = errno
        #expect(sent, "send failed: \(String(cString: strerror(sendError)))")
        let reply = client.receive(seconds: 5)
        #expect(reply.hasPrefix("HTTP/1.1 431"), "\(reply.prefix(80))")
    }

    @Test(arguments: ServerKind.allCases) func aConnectionThatSendsNothingIsClosedAfterTheRequestTimeout(
        kind: ServerKind
    ) throws {
        let live = try LiveServer(kind, requestTimeout: 0.3, idleTimeout: 60)
        let silent = try live.connect()
        #expect(silent.isClosedByPeer(within: 5))
    }

    @Test(arguments: ServerKind.allCases) func oneClientAddressCannotTakeEveryConnection(kind: ServerKind)
        throws
    {
        let live = try LiveServer(kind, idleTimeout: 30, maxConnectionsPerClient: 2)
        var held = try (0..<2).map { _ in try live.connect(from: "127.0.0.2") }
        for client in held {
            client.send(get)
            #expect(client.receive(until: "path=/x").contains("200"))
        }
        let refused = try live.connect(from: "127.0.0.2")
        let reply = refused.receive(seconds: 3)
        #expect(reply.hasPrefix("HTTP/1.1 503"), "\(reply)")
        #expect(reply.contains("Retry-After: 1"))
        #expect(refused.isClosedByPeer(within: 1))
        // Another address, and an exempt one (a trusted proxy) beyond the cap, are served.
        let other = try live.connect()
        other.send(get)
        #expect(other.receive(until: "path=/x").contains("200"))
        let proxied = try (0..<3).map { _ in try live.connect(from: "127.0.0.3") }
        for client in proxied {
            client.send(get)
            #expect(client.receive(until: "path=/x").contains("200"))
        }
        // A slot given back is usable again.
        held.removeFirst()
        let deadline = MonotonicClock.deadline(afterSeconds: 3)
        var served = false
        while !served && MonotonicClock.nowNanos() < deadline {
            let again = try live.connect(from: "127.0.0.2")
            again.send(get)
            served = again.receive(until: "path=/x").contains("200")
            if !served { usleep(50_000) }
        }
        #expect(served)
    }

    @Test(arguments: [ServerKind.loopAsync])
    func shutdownFinishesTheRequestInFlightAndClosesIdleConnections(kind: ServerKind) throws {
        let gate = DispatchSemaphore(value: 0)
        let live = try LiveServer(kind, idleTimeout: 30) { request, _ in
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
            result.set(live.shutdown(graceSeconds: 5))
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
