import Foundation
import HTTP1
import Logging
import POSIX
import Synchronization

/// One event loop: an epoll set, the connections dealt to it, and its thread. The first loop also
/// accepts. Everything below "Owned by the loop thread" is touched by that thread only; other threads
/// reach the loop through its mailbox and wake-up counter.
final class EventLoop: @unchecked Sendable {
    unowned let server: EventLoopServer
    let index: Int
    let epoll: Epoll
    let wakeup: EventCounter
    let lastBeat = Atomic<UInt64>(0)
    /// The loop's thread while it runs (0 otherwise), so a handler answering inline skips the mailbox.
    private let loopThread = Atomic<UInt>(0)

    /// Responses finished on other threads, and connections the accepting loop dealt to this one.
    private let mailbox = Locked<Mailbox>(Mailbox())
    struct Mailbox {
        var responses: [(ConnectionToken, HTTPResponse)] = []
        var connections: [(FileDescriptor, Peer)] = []
        /// The loop has stopped: nothing posted from now on will be read.
        var closed = false
        var isEmpty: Bool { responses.isEmpty && connections.isEmpty }
    }

    // Owned by the loop thread.
    var connections: [Connection?] = []
    var freeSlots: [Int] = []
    var generation: UInt64 = 0
    var openHere = 0
    /// The connection whose handler is being called: an answer it gives inline is written by
    /// `advance`, which is still on the stack.
    var inHandler: Connection?
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var listening = false
    private var acceptPausedUntil: UInt64 = 0
    private var lastAcceptErrorLog: UInt64 = 0
    private var lastRefusalLog: UInt64 = 0
    private var refusalsSinceLog = 0
    private var nextSweep: UInt64 = 0
    private var spareResponses: [(ConnectionToken, HTTPResponse)] = []

    /// "name-", so each request's id is one append (no interpolation on every request).
    let requestIdPrefix: String
    var limits: EventLoopServer.Limits { server.limits }
    var stopRequested: Bool { server.stopRequested.load(ordering: .relaxed) }
    private var logger: Logger { server.logger }
    private var listener: FileDescriptor { server.listener }

    init(server: EventLoopServer, index: Int) throws {
        self.server = server
        self.index = index
        requestIdPrefix = server.name + "-"
        epoll = try Epoll()
        wakeup = try EventCounter()
    }

    deinit { readBuffer.deallocate() }

    // MARK: - From other threads

    func complete(_ token: ConnectionToken, _ response: HTTPResponse) {
        if loopThread.load(ordering: .relaxed) == CurrentThread.id {
            answered(token, response)
            return
        }
        let wasEmpty = mailbox.withLock { box in
            let empty = box.isEmpty
            box.responses.append((token, response))
            return empty
        }
        // One wake-up per batch: the loop empties the whole mailbox each time it wakes.
        if wasEmpty { wakeup.signal() }
    }

    /// A connection accepted by the first loop, for this one to serve.
    func adopt(_ fd: FileDescriptor, peer: Peer) {
        let taken = mailbox.withLock { box in
            if box.closed { return false }
            box.connections.append((fd, peer))
            return true
        }
        if taken {
            wakeup.signal()
        } else {
            // Dealt while this loop was stopping (the accept raced the shutdown).
            fd.close()
            server.connectionEnded(peer)
        }
    }

    // MARK: - The loop

    func run() {
        loopThread.store(CurrentThread.id, ordering: .relaxed)
        // Named for top/perf/gdb (and the kernel's 15-byte limit).
        CurrentThread.setName(index == 0 ? "loop-\(server.name)" : "loop\(index)-\(server.name)")
        do {
            if index == 0 {
                try epoll.add(listener, [.readable], token: ConnectionToken.listener.rawValue)
                listening = true
            }
            try epoll.add(wakeup.descriptor, [.readable], token: ConnectionToken.wakeup.rawValue)
        } catch {
            logger.critical("event loop set-up failed", [("error", "\(error)")])
        }
        var stopping = false
        while true {
            let now = MonotonicClock.nowNanos()
            lastBeat.store(now, ordering: .relaxed)
            if server.abandonRequested.load(ordering: .relaxed) { break }
            if !stopping && stopRequested {
                stopping = true
                beginStopping()
            }
            if stopping && openHere == 0 { break }
            if now >= nextSweep {
                sweep(now: now)
                nextSweep = now + server.sweepInterval
            }
            if index == 0 && !listening && !stopping && acceptPausedUntil != 0 && now >= acceptPausedUntil {
                acceptPausedUntil = 0
                listening =
                    (try? epoll.add(listener, [.readable], token: ConnectionToken.listener.rawValue)) != nil
            }
            let timeout = EventLoop.waitTimeout(
                now: now, nextSweep: openHere > 0 ? nextSweep : nil,
                acceptPausedUntil: acceptPausedUntil == 0 ? nil : acceptPausedUntil,
                heartbeatNanos: server.heartbeatNanos)
            do {
                try epoll.wait(timeoutMilliseconds: timeout) { event in
                    switch ConnectionToken(rawValue: event.token) {
                    case .listener: acceptConnections()
                    case .wakeup: drainMailbox()
                    case let token: handle(event.events, for: token)
                    }
                }
            } catch {
                logger.critical("epoll_wait failed", [("error", "\(error)")])
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        for connection in connections { if let connection { close(connection) } }
        if listening { epoll.remove(listener) }
        // Completions that arrive from now on find no connection and are dropped; connections dealt
        // to a stopped loop are closed.
        loopThread.store(0, ordering: .relaxed)
        for (fd, peer) in mailbox.withLock({ box in
            box.closed = true
            defer { box.connections = [] }
            return box.connections
        }) {
            fd.close()
            server.connectionEnded(peer)
        }
    }

    /// How long `epoll_wait` may sleep, in milliseconds: until the next deadline sweep while
    /// connections are open, the end of an accept back-off, or the heartbeat; -1 (until something
    /// happens) when none applies, so an idle loop without a watchdog does not poll.
    static func waitTimeout(
        now: UInt64, nextSweep: UInt64?, acceptPausedUntil: UInt64?, heartbeatNanos: UInt64?
    )
        -> Int32
    {
        var wakeAt = UInt64.max
        if let nextSweep { wakeAt = nextSweep }
        if let acceptPausedUntil { wakeAt = min(wakeAt, acceptPausedUntil) }
        if let heartbeatNanos { wakeAt = min(wakeAt, now + heartbeatNanos) }
        if wakeAt == .max { return -1 }
        return wakeAt <= now ? 0 : Int32(min((wakeAt - now + 999_999) / 1_000_000, 60_000))
    }

    private func beginStopping() {
        if listening {
            epoll.remove(listener)
            listening = false
        }
        for connection in connections { if let connection { stopping(connection) } }
    }

    private func drainMailbox() {
        wakeup.drain()
        // Swapped with an emptied array kept from the last round, so the mailbox refills storage it
        // already has instead of growing a new array for every batch of answers.
        var responses = spareResponses
        spareResponses = []
        var dealt: [(FileDescriptor, Peer)] = []
        mailbox.withLock { box in
            swap(&box.responses, &responses)
            swap(&box.connections, &dealt)
        }
        for (fd, peer) in dealt { admit(fd, peer: peer) }
        for (token, response) in responses { answered(token, response) }
        responses.removeAll(keepingCapacity: true)
        spareResponses = responses
    }

    /// Enforces deadlines: see `deadlinePassed`.
    private func sweep(now: UInt64) {
        for connection in connections {
            guard let connection, let deadline = connection.state.deadline, deadline <= now else { continue }
            deadlinePassed(connection)
        }
    }

    // MARK: - Accepting

    private func acceptConnections() {
        // A bounded batch per wake-up keeps a connection flood from starving the connections already open.
        for _ in 0..<64 {
            let accepted: FileDescriptor?
            do {
                accepted = try Socket.acceptNonBlocking(listener)
            } catch {
                // EMFILE/ENFILE/ENOBUFS: the connection stays queued. Stop watching the listener for
                // 100 ms instead of spinning on it, and say so once per 10 s.
                let now = MonotonicClock.nowNanos()
                if lastAcceptErrorLog == 0 || now - lastAcceptErrorLog > 10_000_000_000 {
                    lastAcceptErrorLog = now
                    logger.error("accept failed; retrying every 100 ms", [("error", "\(error)")])
                }
                epoll.remove(listener)
                listening = false
                acceptPausedUntil = now + 100_000_000
                return
            }
            guard let fd = accepted else { return }
            // The cap counts every loop's connections; a slot is taken before the connection is dealt.
            guard server.openConnections.load(ordering: .relaxed) < limits.maxConnections else {
                refuse(fd, "connection refused: limit reached", limit: limits.maxConnections)
                continue
            }
            var peer = Peer(host: Socket.peerHost(fd))
            // One address must not take every slot (a peer holding idle connections).
            if let host = peer.host, !server.admitClient(host) {
                refuse(
                    fd, "connection refused: client's limit reached",
                    limit: limits.maxConnectionsPerClient ?? 0,
                    client: host)
                continue
            }
            server.openConnections.add(1, ordering: .relaxed)
            // A Unix-socket peer is known by its credentials (SO_PEERCRED), read once, at accept.
            if peer.host == nil { peer.credentials = try? PeerCredentials.of(fd) }
            // Answers are written whole; never hold one back waiting for the peer's ACK (Nagle).
            if peer.host != nil { Socket.setNoDelay(fd) }
            server.assign(fd, peer: peer, from: self)
        }
    }

    /// Over a cap: say so and close, so the client neither hangs nor retries blindly. Logged first,
    /// so the line exists by the time the client sees the refusal, and at most once per 10 s with the
    /// count since, so a flood cannot fill the disk.
    private func refuse(_ fd: FileDescriptor, _ message: String, limit: Int, client: String? = nil) {
        refusalsSinceLog += 1
        let now = MonotonicClock.nowNanos()
        if lastRefusalLog == 0 || now - lastRefusalLog > 10_000_000_000 {
            var fields = [("limit", String(limit)), ("refusedSinceLastReport", String(refusalsSinceLog))]
            if let client { fields.append(("client", client)) }
            logger.warning(message, fields)
            lastRefusalLog = now
            refusalsSinceLog = 0
        }
        // One attempt: a new connection's socket buffer takes a short answer whole.
        let answer = Refusal.tooManyConnections.serialized(server.renderError)
        _ = answer.withUnsafeBytes { try? Socket.sendNonBlocking(fd, $0) }
        fd.close()
    }
}
