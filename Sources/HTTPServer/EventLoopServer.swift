import Foundation
import HTTP1
import Logging
import POSIX
import Synchronization

/// Completes one request handed to an `AsyncRequestHandler`. Call `respond` exactly once, from any
/// thread: on the loop's thread the answer is written at once, from another it is queued for the loop.
public struct Responder: Sendable {
    let loop: EventLoop
    let token: ConnectionToken

    public func respond(_ response: HTTPResponse) { loop.complete(token, response) }
}

/// Answers one request without blocking the loop: quick work inline, then `respond`, now or later
/// (once a ledger sync covering the request has finished, or a `WorkerPool` job has).
public typealias AsyncRequestHandler = @Sendable (HTTPRequest, Peer, Responder) -> Void

/// Refuses a request on its head alone (404, 405), or nil: asked when a client waits with
/// `Expect: 100-continue`, so it gets the final status instead of sending a body for nothing.
public typealias HeadCheck = @Sendable (HTTPRequest) -> HTTPResponse?

/// Serves HTTP/1.1 on one listening socket from epoll event loops, one thread each.
///
/// Loops never block, so thousands of connections cost a thread per core and no context switch per
/// request. A handler's waits happen elsewhere and come back as a `Responder` call: the callback port's
/// ledger sync on the ledger's thread, platform calls and long-polls on a `WorkerPool`. The first loop
/// accepts and deals connections out in turn, so the loops share the work evenly.
///
/// Lifecycle: `start()`, then `shutdown(graceSeconds:)` stops accepting, closes idle connections, lets
/// requests in flight finish, and returns when all are done or time is up.
public final class EventLoopServer: @unchecked Sendable {
    public let name: String
    public let listener: FileDescriptor
    let limits: Limits
    let logger: Logger
    let handler: AsyncRequestHandler
    let renderError: ErrorRenderer
    let headCheck: HeadCheck?
    private var loops: [EventLoop] = []

    // Shared by the loops.
    let stopRequested = Atomic<Bool>(false)
    /// Set when shutdown's grace ran out: close everything now.
    let abandonRequested = Atomic<Bool>(false)
    let openConnections = Atomic<Int>(0)
    /// Open connections per client (`clientKey`), while `limits.maxConnectionsPerClient` is set.
    private let connectionsPerClient = Locked<[String: Int]>([:])
    private let finished = Condition()
    private var loopsRunning = 0  // guarded by `finished`
    /// Set once, before the loops start.
    private(set) var heartbeatNanos: UInt64?
    /// How often each loop enforces its connections' deadlines.
    let sweepInterval: UInt64
    /// Used by the accepting loop only.
    private var nextLoop = 0

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
        for index in 0..<max(loops, 1) { self.loops.append(try EventLoop(server: self, index: index)) }
    }

    public var connectionCount: Int { openConnections.load(ordering: .relaxed) }

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
                finished.withLock {
                    loopsRunning -= 1
                    finished.broadcast()
                }
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

    // MARK: - For the loops

    /// Hands an accepted connection to the next loop in turn.
    func assign(_ fd: FileDescriptor, peer: Peer, from acceptor: EventLoop) {
        let target = loops[nextLoop % loops.count]
        nextLoop &+= 1
        if target === acceptor {
            acceptor.admit(fd, peer: peer)
        } else {
            target.adopt(fd, peer: peer)
        }
    }

    /// Counts a new connection from `host` against the per-client cap; false if its client has reached it.
    func admitClient(_ host: String) -> Bool {
        guard let cap = limits.maxConnectionsPerClient else { return true }
        let exempt = limits.isExemptFromClientCap(host)
        let client = Self.clientKey(host)
        return connectionsPerClient.withLock { counts in
            guard exempt || counts[client, default: 0] < cap else { return false }
            counts[client, default: 0] += 1
            return true
        }
    }

    /// Whom the per-client cap counts `host` as: an IPv4 address alone, an IPv6 address by its /64
    /// (one site is handed a /64, RFC 6177, so a client could otherwise take a new address per connection).
    static func clientKey(_ host: String) -> String {
        guard var bytes = IPAddress.bytes(host), bytes.count == 16 else { return host }
        bytes.replaceSubrange(8..<16, with: repeatElement(0, count: 8))
        return (IPAddress.text(bytes) ?? host) + "/64"
    }

    /// A connection counted at accept is gone (closed, or never served).
    func connectionEnded(_ peer: Peer) {
        openConnections.subtract(1, ordering: .relaxed)
        guard limits.maxConnectionsPerClient != nil, let host = peer.host else { return }
        let client = Self.clientKey(host)
        connectionsPerClient.withLock { counts in
            let left = counts[client, default: 1] - 1
            counts[client] = left > 0 ? left : nil
        }
    }
}

/// Whether a loop's last beat lies within `seconds` of `now` (read first). A beat stored after the clock
/// was read is newer than `now` and counts as recent: a plain `now - beat` would underflow and trap,
/// taking the daemon down from its own watchdog.
func beatIsRecent(_ beat: UInt64, now: UInt64, within seconds: Double) -> Bool {
    beat >= now || now - beat <= UInt64(seconds * 1e9)
}
