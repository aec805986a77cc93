import Foundation
import HTTP1
import Logging
import POSIX
import Testing

@testable import HTTPServer

#if canImport(Glibc)
    import Glibc
#endif

/// The event loops' own concerns: answers that come back from other threads, partial writes, pipelining
/// while a request is with the handler, dealing connections to every loop, and sleeping when there is
/// nothing to do.
@Suite struct EventLoopServerTests {
    @Test(arguments: [ServerKind.loopInline, .loopAsync])
    func pipelinedRequestsAreAnsweredInOrder(kind: ServerKind) throws {
        let live = try LiveServer(kind)
        let client = try live.connect()
        client.send(
            "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
                + "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let reply = client.receive(seconds: 3)
        let first = try #require(reply.range(of: "path=/1 body=0"))
        let second = try #require(reply.range(of: "path=/2 body=2"))
        let third = try #require(reply.range(of: "path=/3 body=0"))
        #expect(first.upperBound <= second.lowerBound && second.upperBound <= third.lowerBound)
        #expect(client.isClosedByPeer(within: 1))
    }

    @Test func connectionsAreDealtToEveryLoopInTurn() throws {
        // Inline answers run on the loop that serves the connection: let it name itself.
        let live = try LiveServer(.loopInline, name: "deal") { _, _ in
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
            return HTTPResponse(
                status: 200,
                body: Array("served-by=\(name.trimmingCharacters(in: .whitespacesAndNewlines));".utf8))
        }
        var servedBy: [String: Int] = [:]
        let clients = try (0..<6).map { _ in try live.connect() }
        for client in clients {
            client.send(get)
            let reply = client.receive(until: ";")
            let name =
                reply.components(separatedBy: "served-by=").last?.components(separatedBy: ";").first ?? ""
            servedBy[name, default: 0] += 1
        }
        #expect(servedBy == ["loop-deal": 3, "loop1-deal": 3])
    }

    @Test func aLargeAnswerReachesASlowReaderWhole() throws {
        let body = [UInt8](repeating: UInt8(ascii: "z"), count: 4 << 20)
        let live = try LiveServer(.loopAsync, idleTimeout: 30) { _, _ in HTTPResponse(status: 200, body: body)
        }
        let client = try live.connect()
        client.send(get)
        // Let the socket buffers fill so the loop must wait for EPOLLOUT, then read it all.
        usleep(300_000)
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = MonotonicClock.deadline(afterSeconds: 10)
        var head = ""
        while received < body.count && MonotonicClock.nowNanos() < deadline {
            guard (try? Poll.wait(client.fd, for: .readable, deadlineNanos: deadline)) == true else { break }
            let count = buffer.withUnsafeMutableBytes {
                recv(client.fd.rawValue, $0.baseAddress, $0.count, 0)
            }
            if count <= 0 { break }
            var chunk = buffer[0..<count]
            if head.isEmpty, let end = chunk.firstRange(of: Array("\r\n\r\n".utf8)) {
                head = String(decoding: chunk[..<end.upperBound], as: UTF8.self)
                chunk = chunk[end.upperBound...]
            }
            received += chunk.count
        }
        #expect(head.contains("Content-Length: \(body.count)"))
        #expect(received == body.count)
    }

    @Test func aPeerThatNeverReadsItsAnswerIsClosedAfterTheWriteTimeout() throws {
        let body = [UInt8](repeating: UInt8(ascii: "z"), count: 16 << 20)
        let live = try LiveServer(.loopInline, idleTimeout: 30, writeTimeout: 0.4) { _, _ in
            HTTPResponse(status: 200, body: body)
        }
        let client = try live.connect()
        var small: Int32 = 4096
        setsockopt(client.fd.rawValue, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        client.send(get)
        let deadline = MonotonicClock.deadline(afterSeconds: 5)
        while live.connectionCount > 0 && MonotonicClock.nowNanos() < deadline { usleep(50_000) }
        #expect(live.connectionCount == 0)
        // The loop is not stuck on that peer.
        let next = try live.connect()
        next.send(get)
        #expect(next.receive(until: "\r\n\r\n").contains("HTTP/1.1 200"))
    }

    @Test func anAnswerForAClientThatLeftIsDroppedAndServiceGoesOn() throws {
        let live = try LiveServer(.loopAsync) { request, _ in
            if request.path == "/late" { usleep(300_000) }
            return HTTPResponse(status: 200, body: Array("path=\(request.path)".utf8))
        }
        do {
            let leaving = try live.connect()
            leaving.send("GET /late HTTP/1.1\r\nHost: a\r\n\r\n")
            usleep(50_000)
        }
        // The slot of the closed connection is reused while the late answer is still on its way.
        let client = try live.connect()
        usleep(400_000)
        client.send(get)
        let reply = client.receive(until: "path=/x")
        #expect(reply.hasPrefix("HTTP/1.1 200"))
        #expect(!reply.contains("/late"))
    }

    @Test func theHeartbeatCheckRacesTheLoopsSafely() throws {
        // The watchdog reads the clock, then each loop's last beat; a loop may beat in between. That
        // beat is newer than the clock reading, and once underflowed (trapping the daemon). Loops beating
        // every millisecond and a million checks make the race near certain.
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let server = try EventLoopServer(
            name: "beat", listener: listener, loops: 2, logger: Logger(sink: MemorySink()),
            renderError: { status, _ in HTTPResponse(status: status) },
            handler: { _, _, responder in responder.respond(HTTPResponse(status: 200)) })
        server.start(heartbeatSeconds: 0.001)
        defer { server.shutdown(graceSeconds: 2) }
        var allRecent = true
        for _ in 0..<1_000_000 where !server.acceptLoopRan(within: 5) { allRecent = false }
        #expect(allRecent)
    }

    @Test func aTokenNamesItsSlotAndTellsGenerationsApart() {
        let earlier = ConnectionToken(slot: 5, generation: 1)
        let later = ConnectionToken(slot: 5, generation: 2)
        #expect(earlier.slot == 5 && later.slot == 5)
        // An answer for the slot's earlier connection does not reach the later one.
        #expect(earlier != later)
        #expect(ConnectionToken(slot: 0xFF_FFFF, generation: 3).slot == 0xFF_FFFF)
        #expect(ConnectionToken(rawValue: later.rawValue) == later)
    }

    @Test func anIdleLoopWaitsWithoutATimeout() {
        // No connection, no accept back-off, no heartbeat: epoll_wait sleeps until something happens.
        #expect(
            EventLoop.waitTimeout(now: 7, nextSweep: nil, acceptPausedUntil: nil, heartbeatNanos: nil) == -1)
    }

    @Test func aBusyLoopWakesForItsEarliestDeadline() {
        let now: UInt64 = 5_000_000_000
        let millisecond: UInt64 = 1_000_000
        func timeout(sweep: UInt64? = nil, acceptPause: UInt64? = nil, heartbeat: UInt64? = nil) -> Int32 {
            EventLoop.waitTimeout(
                now: now, nextSweep: sweep.map { now + $0 }, acceptPausedUntil: acceptPause.map { now + $0 },
                heartbeatNanos: heartbeat)
        }
        #expect(timeout(sweep: 250 * millisecond) == 250)
        #expect(timeout(sweep: 250 * millisecond, acceptPause: 100 * millisecond) == 100)
        #expect(timeout(sweep: 250 * millisecond, heartbeat: 3 * millisecond) == 3)
        // Rounded up, so the loop never wakes just before a deadline and spins until it.
        #expect(timeout(acceptPause: 100 * millisecond + 1) == 101)
        #expect(
            EventLoop.waitTimeout(now: now, nextSweep: now - 1, acceptPausedUntil: nil, heartbeatNanos: nil)
                == 0)
        // At most a minute at a time.
        #expect(timeout(heartbeat: 3_600_000 * millisecond) == 60_000)
    }

    /// One IPv6 client is handed a /64 (RFC 6177), so the per-client cap counts a /64 as one client;
    /// an IPv4 address counts alone.
    @Test func thePerClientCapCountsAnIPv6Slash64AsOneClient() throws {
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        var limits = EventLoopServer.Limits()
        limits.maxConnectionsPerClient = 2
        let server = try EventLoopServer(
            name: "cap", listener: listener, limits: limits, logger: Logger(sink: MemorySink()),
            renderError: { status, _ in HTTPResponse(status: status) },
            handler: { _, _, responder in responder.respond(HTTPResponse(status: 200)) })
        #expect(server.admitClient("2001:db8:1:2::1"))
        #expect(server.admitClient("2001:db8:1:2:aaaa:bbbb:cccc:dddd"))
        #expect(!server.admitClient("2001:db8:1:2::3"))
        // Another /64, and IPv4 addresses, have their own counts.
        #expect(server.admitClient("2001:db8:1:3::1"))
        #expect(server.admitClient("10.0.0.5"))
        #expect(server.admitClient("10.0.0.6"))
        // A connection ended gives its /64 a slot back.
        server.connectionEnded(Peer(host: "2001:db8:1:2::1"))
        #expect(server.admitClient("2001:db8:1:2::ffff"))
    }

    @Test func aClientIsKeyedByItsIPv6Slash64OrItsIPv4Address() {
        #expect(EventLoopServer.clientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64")
        #expect(EventLoopServer.clientKey("::1") == "::/64")
        #expect(EventLoopServer.clientKey("10.0.0.5") == "10.0.0.5")
    }
}
