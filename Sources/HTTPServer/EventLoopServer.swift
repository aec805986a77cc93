import Foundation
import HTTP1
import Logging
import POSIX
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Completes one request handed to an `AsyncRequestHandler`. Call `respond` exactly once, from any
/// thread: on the loop's thread the answer is written at once, from another it is queued for the loop.
public struct Responder: Sendable {
    fileprivate let loop: Loop
    fileprivate let token: UInt64

    public func respond(_ response: HTTPResponse) { loop.complete(token, response) }
}

/// Answers one request without blocking the loop: quick work inline, then `respond`, now or later
/// (say, once a ledger sync covering the request has finished on another thread).
public typealias AsyncRequestHandler = @Sendable (HTTPRequest, Peer, Responder) -> Void

/// Refuses a request on its head alone (404, 405), or nil: asked when a client waits with
/// `Expect: 100-continue`, so it gets the final status instead of sending a body for nothing.
public typealias HeadCheck = @Sendable (HTTPRequest) -> HTTPResponse?

/// Serves HTTP/1.1 on one listening socket from epoll event loops, one thread each.
///
/// For endpoints whose work never blocks, so thousands of connections cost a thread per core and no
/// context switch per request: the public callback port, where the only wait (the ledger's fsync)
/// happens on the ledger's own thread and comes back as a `Responder` call. The first loop accepts and
/// deals connections out in turn, so the loops share the work evenly. Limits, deadlines, refusals and
/// the shutdown contract are those of `HTTPServer`, the thread-per-connection server for handlers that
/// block.
public final class EventLoopServer: @unchecked Sendable {
    public typealias Limits = HTTPServer.Limits

    public let name: String
    public let listener: FileDescriptor
    let limits: Limits
    let logger: Logger
    let handler: AsyncRequestHandler
    let renderError: ErrorRenderer
    let headCheck: HeadCheck?
    fileprivate var loops: [Loop] = []

    // Shared by the loops.
    let stopRequested = Atomic<Bool>(false)
    /// Set when shutdown's grace ran out: close everything now.
    let abandonRequested = Atomic<Bool>(false)
    let openConnections = Atomic<Int>(0)
    /// Open connections per client address, while `limits.maxConnectionsPerClient` is set.
    private let connectionsPerClient = Locked<[String: Int]>([:])
    let finished = Condition()
    var loopsRunning = 0  // guarded by `finished`
    /// Set once, before the loops start.
    var heartbeatNanos: UInt64?
    let sweepInterval: UInt64

    /// `loops` threads serve the connections (at least one); a core each is the natural number.
    public init(
        name: String, listener: FileDescriptor, limits: Limits = Limits(), loops: Int = 1, logger: Logger,
        renderError: @escaping ErrorRenderer, headCheck: HeadCheck? = nil,
        handler: @escaping AsyncRequestHandler
    ) throws {
        self.name = name
        self.listener = listener
        self.limits = limits
        self.logger = logger.with("listener", name)
        self.handler = handler
        self.renderError = renderError
        self.headCheck = headCheck
        try listener.setNonBlocking()
        // Deadlines are checked by a sweep; a quarter of the shortest timeout keeps each within 25 %.
        let shortest = min(
            limits.requestTimeoutSeconds, limits.idleTimeoutSeconds, limits.writeTimeoutSeconds)
        sweepInterval = UInt64(min(max(shortest / 4, 0.01), 1) * 1e9)
        for index in 0..<max(loops, 1) { self.loops.append(try Loop(server: self, index: index)) }
    }

    public var connectionCount: Int { openConnections.load(ordering: .relaxed) }

    /// Counts a new connection from `host` against the per-client cap; false if `host` has reached it.
    fileprivate func admitClient(_ host: String) -> Bool {
        guard let cap = limits.maxConnectionsPerClient else { return true }
        let exempt = limits.isExemptFromClientCap(host)
        return connectionsPerClient.withLock { counts in
            guard exempt || counts[host, default: 0] < cap else { return false }
            counts[host, default: 0] += 1
            return true
        }
    }

    /// A connection counted at accept is gone (closed, or never served).
    fileprivate func connectionEnded(_ peer: Peer) {
        openConnections.subtract(1, ordering: .relaxed)
        guard limits.maxConnectionsPerClient != nil, let host = peer.host else { return }
        connectionsPerClient.withLock { counts in
            let left = counts[host, default: 1] - 1
            counts[host] = left > 0 ? left : nil
        }
    }

    /// Whether every loop has run within the last `seconds` (only meaningful with a heartbeat).
    public func acceptLoopRan(within seconds: Double) -> Bool {
        let now = MonotonicClock.nowNanos()
        return loops.allSatisfy {
            beatIsRecent($0.lastBeat.load(ordering: .relaxed), now: now, within: seconds)
        }
    }

    /// Starts the loops. With `heartbeatSeconds`, each wakes at least that often and records that it
    /// ran, so a supervisor (the systemd watchdog) can tell live loops from a stuck one.
    public func start(heartbeatSeconds: Double? = nil) {
        heartbeatNanos = heartbeatSeconds.map { UInt64($0 * 1e9) }
        finished.withLock { loopsRunning = loops.count }
        for loop in loops {
            loop.lastBeat.store(MonotonicClock.nowNanos(), ordering: .relaxed)
            // The thread keeps the server alive while its loop runs: loops refer to it unowned.
            let thread = Thread { [self] in
                loop.run()
                withExtendedLifetime(self) {}
            }
            thread.start()
        }
    }

    /// Stops accepting, closes idle connections, lets requests in flight finish and waits up to
    /// `graceSeconds` for them. Returns true if all did; otherwise the rest are closed.
    @discardableResult
    public func shutdown(graceSeconds: Double) -> Bool {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        for loop in loops { loop.wakeup.signal() }
        let deadline = MonotonicClock.deadline(afterSeconds: graceSeconds)
        let done = finished.withLock {
            while loopsRunning > 0 {
                if !finished.wait(untilNanos: deadline) && MonotonicClock.nowNanos() >= deadline {
                    return false
                }
            }
            return true
        }
        if !done {
            abandonRequested.store(true, ordering: .sequentiallyConsistent)
            for loop in loops { loop.wakeup.signal() }
        }
        return done
    }

    /// Hands an accepted connection to the next loop in turn.
    fileprivate func assign(_ fd: FileDescriptor, peer: Peer, from acceptor: Loop) {
        let target = loops[nextLoop % loops.count]
        nextLoop &+= 1
        if target === acceptor {
            acceptor.admit(fd, peer: peer)
        } else {
            target.adopt(fd, peer: peer)
        }
    }
    /// Used by the accepting loop only.
    private var nextLoop = 0
}

/// One event loop: an epoll set, the connections dealt to it, and its thread. The first loop also
/// accepts.
fileprivate final class Loop: @unchecked Sendable {
    unowned let server: EventLoopServer
    let index: Int
    let epoll: Epoll
    let wakeup: EventCounter
    let lastBeat = Atomic<UInt64>(0)
    /// The loop's pthread while it runs (0 otherwise), so a handler answering inline skips the mailbox.
    private let loopThread = Atomic<UInt>(0)

    // Shared with other threads.
    /// Responses finished on other threads, and connections the accepting loop dealt to this one.
    private let mailbox = Locked<Mailbox>(Mailbox())
    struct Mailbox {
        var responses: [(UInt64, HTTPResponse)] = []
        var connections: [(FileDescriptor, Peer)] = []
        /// The loop has stopped: nothing posted from now on will be read.
        var closed = false
        var isEmpty: Bool { responses.isEmpty && connections.isEmpty }
    }

    // Owned by the loop thread.
    private var connections: [Connection?] = []
    private var freeSlots: [Int] = []
    private var generation: UInt64 = 0
    private var listening = false
    private var acceptPausedUntil: UInt64 = 0
    private var lastAcceptErrorLog: UInt64 = 0
    private var lastRefusalLog: UInt64 = 0
    private var refusalsSinceLog = 0
    private var nextSweep: UInt64 = 0
    private var openHere = 0
    private var spareResponses: [(UInt64, HTTPResponse)] = []
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    private static let listenerToken = UInt64.max
    private static let wakeupToken = UInt64.max - 1

    private var name: String { server.name }
    /// "name-", so each request's id is one append (no interpolation on every request).
    private let requestIdPrefix: String
    private var limits: EventLoopServer.Limits { server.limits }
    private var logger: Logger { server.logger }
    private var renderError: ErrorRenderer { server.renderError }
    private var listener: FileDescriptor { server.listener }
    private var stopRequested: Bool { server.stopRequested.load(ordering: .relaxed) }

    init(server: EventLoopServer, index: Int) throws {
        self.server = server
        self.index = index
        requestIdPrefix = server.name + "-"
        epoll = try Epoll()
        wakeup = try EventCounter()
    }

    deinit { readBuffer.deallocate() }

    // MARK: - From other threads

    func complete(_ token: UInt64, _ response: HTTPResponse) {
        if loopThread.load(ordering: .relaxed) == pthread_self() {
            deliver(token, response)
            return
        }
        post { $0.responses.append((token, response)) }
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

    private func post(_ body: (inout Mailbox) -> Void) {
        let wasEmpty = mailbox.withLock { box in
            let empty = box.isEmpty
            body(&box)
            return empty
        }
        // One wake-up per batch: the loop empties the whole mailbox each time it wakes.
        if wasEmpty { wakeup.signal() }
    }

    // MARK: - The loop

    func run() {
        loopThread.store(pthread_self(), ordering: .relaxed)
        // Named for top/perf/gdb (and the kernel's 15-byte limit).
        CurrentThread.setName(index == 0 ? "loop-\(name)" : "loop\(index)-\(name)")
        do {
            if index == 0 {
                try epoll.add(listener, [.readable], token: Self.listenerToken)
                listening = true
            }
            try epoll.add(wakeup.descriptor, [.readable], token: Self.wakeupToken)
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
                listening = (try? epoll.add(listener, [.readable], token: Self.listenerToken)) != nil
            }
            do {
                try epoll.wait(timeoutMilliseconds: timeout(now: now)) { event in
                    switch event.token {
                    case Self.listenerToken: acceptConnections()
                    case Self.wakeupToken: drainMailbox()
                    default: handle(event)
                    }
                }
            } catch {
                logger.critical("epoll_wait failed", [("error", "\(error)")])
                usleep(100_000)
            }
        }
        for slot in connections.indices { if let connection = connections[slot] { close(connection) } }
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
        server.finished.withLock {
            server.loopsRunning -= 1
            server.finished.broadcast()
        }
    }

    /// How long `epoll_wait` may sleep: until the next deadline sweep while connections are open, the
    /// end of an accept back-off, or the heartbeat; forever when idle without a watchdog (no polling).
    private func timeout(now: UInt64) -> Int32 {
        var until = UInt64.max
        if openHere > 0 { until = nextSweep }
        if acceptPausedUntil != 0 { until = min(until, acceptPausedUntil) }
        if let heartbeatNanos = server.heartbeatNanos { until = min(until, now + heartbeatNanos) }
        if until == .max { return -1 }
        return until <= now ? 0 : Int32(min((until - now + 999_999) / 1_000_000, 60_000))
    }

    private func beginStopping() {
        if listening {
            epoll.remove(listener)
            listening = false
        }
        // Idle connections close now; a request in progress may finish (and its answer closes).
        for slot in connections.indices {
            guard let connection = connections[slot] else { continue }
            if !connection.awaiting && connection.pendingOutput == 0 && !connection.parser.hasBufferedBytes {
                close(connection)
            }
        }
    }

    private func drainMailbox() {
        wakeup.drain()
        // Swapped with an emptied array kept from the last round, so the mailbox refills storage it
        // already has instead of growing a new array for every batch of answers.
        var responses = spareResponses
        spareResponses = []
        var connections: [(FileDescriptor, Peer)] = []
        mailbox.withLock { box in
            swap(&box.responses, &responses)
            swap(&box.connections, &connections)
        }
        for (fd, peer) in connections { admit(fd, peer: peer) }
        for (token, response) in responses { deliver(token, response) }
        responses.removeAll(keepingCapacity: true)
        spareResponses = responses
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

    /// Starts serving a connection (already counted against the cap) on this loop.
    func admit(_ fd: FileDescriptor, peer: Peer) {
        if stopRequested {
            fd.close()
            server.connectionEnded(peer)
            return
        }
        generation += 1
        let slot = freeSlots.popLast() ?? connections.count
        if slot == connections.count { connections.append(nil) }
        let token = generation << 24 | UInt64(slot)
        let connection = Connection(
            fd: fd, token: token, slot: slot, peer: peer,
            parser: RequestParser(limits: limits.parser))
        do {
            try epoll.add(fd, [.readable, .writable, .readHangUp, .edgeTriggered], token: token)
        } catch {
            fd.close()
            freeSlots.append(slot)
            server.connectionEnded(peer)
            return
        }
        connections[slot] = connection
        openHere += 1
        connection.readable = true  // data may have arrived with the handshake
        drive(connection)
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
        var response = renderError(503, "too many connections")
        response.headers.set("Retry-After", "1")
        let bytes = response.serialized(keepAlive: false)
        _ = bytes.withUnsafeBytes {
            Glibc.send(fd.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        fd.close()
    }

    // MARK: - Connections

    private func connection(for token: UInt64) -> Connection? {
        let slot = Int(token & 0xFF_FFFF)
        guard slot < connections.count, let connection = connections[slot], connection.token == token else {
            return nil
        }
        return connection
    }

    private func handle(_ event: Epoll.Event) {
        guard let connection = connection(for: event.token) else { return }
        if !event.events.isDisjoint(with: [.readable, .readHangUp, .hangUp, .error]) {
            connection.readable = true
        }
        drive(connection)
    }

    /// Moves a connection as far as it can go without waiting: write what is owed, then parse and hand
    /// on the next request, reading more bytes when needed. Returns when the peer, the handler or the
    /// socket buffer must act next.
    private func drive(_ connection: Connection) {
        while !connection.closed {
            if connection.awaiting { return }
            if connection.pendingOutput > 0 {
                guard flush(connection) else { return }
                if connection.closeAfterWrite {
                    if connection.lingerAfterWrite {
                        beginLingering(connection)
                    } else {
                        close(connection)
                        return
                    }
                }
            }
            if connection.lingerDeadline != 0 {
                discardInput(connection)
                return
            }
            let request: HTTPRequest?
            do {
                request = try connection.parser.next()
            } catch {
                queue(renderError(error.status, error.reason), on: connection, keepAlive: false)
                connection.lingerAfterWrite = true
                continue
            }
            if let request {
                dispatch(request, on: connection)
                continue
            }
            // More bytes needed.
            if let head = connection.parser.takeContinueExpectation() {
                if let refusal = server.headCheck?(head) {
                    // The body is never read: the connection cannot carry another request.
                    queue(refusal, on: connection, keepAlive: false)
                    connection.lingerAfterWrite = true
                } else {
                    connection.output = HTTPResponse.continueInterim
                    connection.outputOffset = 0
                }
                continue
            }
            let midRequest = connection.parser.hasBufferedBytes
            if !midRequest && stopRequested {
                close(connection)
                return
            }
            guard connection.readable else {
                let now = MonotonicClock.nowNanos()
                // A new connection's first request is due within the request timeout too: one that
                // sends nothing must not hold a slot for the keep-alive time.
                if midRequest || !connection.served {
                    if connection.requestDeadline == 0 {
                        connection.requestDeadline = now + UInt64(limits.requestTimeoutSeconds * 1e9)
                    }
                    connection.deadline = connection.requestDeadline
                } else {
                    connection.requestDeadline = 0
                    connection.deadline = now + UInt64(limits.idleTimeoutSeconds * 1e9)
                }
                return
            }
            let count = recv(connection.fd.rawValue, readBuffer.baseAddress, readBuffer.count, 0)
            if count > 0 {
                if connection.requestDeadline == 0 {
                    connection.requestDeadline =
                        MonotonicClock.nowNanos() + UInt64(limits.requestTimeoutSeconds * 1e9)
                }
                connection.parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
                // A short read emptied the socket: skip the recv that would only say EAGAIN. Bytes that
                // arrive later raise a new edge.
                if count < readBuffer.count { connection.readable = false }
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                if errno == EAGAIN { connection.readable = false }
            } else {
                // The peer closed (or reset): a half-sent request is abandoned.
                close(connection)
                return
            }
        }
    }

    private func dispatch(_ request: HTTPRequest, on connection: Connection) {
        connection.awaiting = true
        connection.served = true
        connection.requestDeadline = 0
        connection.deadline = 0  // the handler's time is not the client's
        connection.keepAlive = request.keepAlive
        var peer = connection.peer
        peer.requestId = nextRequestId(prefix: requestIdPrefix)
        connection.inHandler = true
        server.handler(request, peer, Responder(loop: self, token: connection.token))
        connection.inHandler = false
    }

    /// A handler's answer, on the loop thread.
    private func deliver(_ token: UInt64, _ response: HTTPResponse) {
        // The connection may be gone (peer closed, shutdown): the answer has nowhere to go.
        guard let connection = connection(for: token), connection.awaiting else { return }
        connection.awaiting = false
        let keepAlive = connection.keepAlive && !stopRequested
        queue(response, on: connection, keepAlive: keepAlive)
        // Inside the handler call, `drive` is still on the stack and carries on by itself.
        if !connection.inHandler { drive(connection) }
    }

    private func queue(_ response: HTTPResponse, on connection: Connection, keepAlive: Bool) {
        connection.output = response.serialized(keepAlive: keepAlive)
        connection.outputOffset = 0
        connection.closeAfterWrite = !keepAlive
    }

    /// Writes what the connection owes; true once all of it is sent, false if the socket is full (an
    /// EPOLLOUT edge resumes it) or the connection failed (and is closed).
    private func flush(_ connection: Connection) -> Bool {
        while connection.pendingOutput > 0 {
            let count = connection.output.withUnsafeBytes { bytes in
                Glibc.send(
                    connection.fd.rawValue, bytes.baseAddress! + connection.outputOffset,
                    bytes.count - connection.outputOffset, Int32(MSG_NOSIGNAL))
            }
            if count >= 0 {
                connection.outputOffset += count
                continue
            }
            if errno == EINTR { continue }
            if errno == EAGAIN {
                connection.deadline = MonotonicClock.nowNanos() + UInt64(limits.writeTimeoutSeconds * 1e9)
                return false
            }
            close(connection)
            return false
        }
        connection.output = []
        connection.outputOffset = 0
        return true
    }

    /// Enforces deadlines: a request not received in time gets 408, an idle keep-alive connection and a
    /// peer that does not read its answer are closed.
    private func sweep(now: UInt64) {
        for slot in connections.indices {
            guard let connection = connections[slot], connection.deadline != 0, connection.deadline <= now
            else { continue }
            connection.deadline = 0
            if connection.pendingOutput > 0 || connection.awaiting || connection.lingerDeadline != 0 {
                close(connection)
            } else if connection.parser.hasBufferedBytes {
                queue(renderError(408, "request not received in time"), on: connection, keepAlive: false)
                connection.lingerAfterWrite = true
                drive(connection)
            } else {
                close(connection)
            }
        }
    }

    /// After an error answer to a request not read to its end: closing now, with its bytes unread,
    /// would reset the connection and could destroy the answer before the client reads it (RFC 9112
    /// §9.6). So send a FIN, and read and drop what the client still sends, until it closes or the
    /// linger time passes (the sweep then closes it).
    private func beginLingering(_ connection: Connection) {
        Socket.shutdownWrite(connection.fd)
        connection.lingerDeadline =
            MonotonicClock.nowNanos() + UInt64(lingerSeconds(limits) * 1e9)
        connection.deadline = connection.lingerDeadline
    }

    private func discardInput(_ connection: Connection) {
        while connection.readable {
            let count: Int?
            do {
                count = try Socket.receive(connection.fd, into: readBuffer)
            } catch {
                close(connection)
                return
            }
            guard let count else {
                connection.readable = false
                return
            }
            if count == 0 {
                close(connection)  // the client has closed: nothing more to wait for
                return
            }
        }
    }

    private func close(_ connection: Connection) {
        guard !connection.closed else { return }
        connection.closed = true
        // Closing the descriptor also drops it from the epoll set.
        connection.fd.close()
        connections[connection.slot] = nil
        freeSlots.append(connection.slot)
        openHere -= 1
        server.connectionEnded(connection.peer)
    }
}

/// One connection's state, touched by the loop thread only.
private final class Connection {
    let fd: FileDescriptor
    let token: UInt64
    let slot: Int
    let peer: Peer
    var parser: RequestParser
    /// Whether the socket may have unread bytes (edge-triggered: true until a read says EAGAIN).
    var readable = false
    /// A request is with the handler; nothing more is read or parsed until it answers (in order).
    var awaiting = false
    var inHandler = false
    var keepAlive = true
    var output: [UInt8] = []
    var outputOffset = 0
    var closeAfterWrite = false
    /// The answer being written refuses a request not read to its end: linger after it (see
    /// `beginLingering`).
    var lingerAfterWrite = false
    /// While lingering, when the connection is closed at the latest; 0 otherwise.
    var lingerDeadline: UInt64 = 0
    /// A request has been handed to the handler (the idle timeout applies between requests).
    var served = false
    var closed = false
    /// When the current request must be complete (set at its first byte).
    var requestDeadline: UInt64 = 0
    /// The deadline the sweep enforces now: request, idle or write; 0 for none.
    var deadline: UInt64 = 0

    var pendingOutput: Int { output.count - outputOffset }

    init(fd: FileDescriptor, token: UInt64, slot: Int, peer: Peer, parser: RequestParser) {
        self.fd = fd
        self.token = token
        self.slot = slot
        self.peer = peer
        self.parser = parser
    }
}
