import Foundation
import HTTP1
import Logging
import POSIX
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Who is on the other end of a connection, as far as the socket knows.
public struct Peer: Sendable {
    /// The TCP peer's address; nil on a Unix socket.
    public let host: String?
    /// Who connected to a Unix socket (SO_PEERCRED); nil on TCP.
    public var credentials: PeerCredentials? = nil
    /// Names this request in log lines, e.g. `callback-1f`: unique within the process.
    public var requestId: String = ""
}

/// Whether a loop's last beat lies within `seconds` of `now` (read first). A beat stored after the clock
/// was read is newer than `now` and counts as recent: a plain `now - beat` would underflow and trap,
/// taking the daemon down from its own watchdog.
func beatIsRecent(_ beat: UInt64, now: UInt64, within seconds: Double) -> Bool {
    beat >= now || now - beat <= UInt64(seconds * 1e9)
}

/// How long a connection closed after an error answer reads and drops the client's remaining bytes.
func lingerSeconds(_ limits: HTTPServer.Limits) -> Double { min(limits.requestTimeoutSeconds, 2) }

/// Request ids count up across all listeners of the process.
let requestCounter = Atomic<UInt64>(0)

/// The next request id: `prefix` ("callback-") and the count in lowercase hex. Written into a stack
/// buffer and decoded once, so an id of up to 15 bytes is a small string with no allocation (this runs
/// for every request; formatting and joining two strings cost several times as much).
func nextRequestId(prefix: String) -> String {
    var number = requestCounter.add(1, ordering: .relaxed).newValue
    var prefix = prefix
    return prefix.withUTF8 { prefixBytes in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefixBytes.count + 16) { buffer in
            var digits = 1
            while digits < 16 && number >> (4 * UInt64(digits)) != 0 { digits += 1 }
            _ = buffer.initialize(from: prefixBytes)
            var index = prefixBytes.count + digits
            repeat {
                index -= 1
                let nibble = UInt8(number & 0xF)
                buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                number >>= 4
            } while index > prefixBytes.count
            return String(
                decoding: UnsafeBufferPointer(rebasing: buffer[..<(prefixBytes.count + digits)]),
                as: UTF8.self)
        }
    }
}

/// Answers one request. Runs on the connection's own thread and may block (platform call, fsync,
/// long-poll): other connections are unaffected.
public typealias RequestHandler = @Sendable (HTTPRequest, Peer) -> HTTPResponse

/// Renders the server's own refusals (malformed request, too large, timeout) in the listener's dialect:
/// JSON errors on the IPC socket, `FAIL <reason>` on the callback port.
public typealias ErrorRenderer = @Sendable (_ status: Int, _ reason: String) -> HTTPResponse

/// Serves HTTP/1.1 on one listening socket: an accept thread, and a thread per connection.
///
/// Lifecycle: `start()`, then `shutdown(graceSeconds:)` stops accepting, lets requests in flight
/// finish (idle keep-alive connections close at once), and returns when all are done or time is up.
public final class HTTPServer: @unchecked Sendable {
    public struct Limits: Sendable {
        public var parser = RequestParser.Limits()
        public var maxConnections = 1024
        /// Connections one client address may hold at once; over → 503. nil: no such cap.
        public var maxConnectionsPerClient: Int? = nil
        /// Addresses the per-client cap does not apply to (trusted proxies speak for many clients).
        public var isExemptFromClientCap: @Sendable (String) -> Bool = { _ in false }
        /// A started request (headers and body), and a new connection's first request, must arrive
        /// within this time.
        public var requestTimeoutSeconds = 10.0
        /// A keep-alive connection with no request in progress is closed after this time.
        public var idleTimeoutSeconds = 60.0
        /// A response the peer does not read within this time ends the connection.
        public var writeTimeoutSeconds = 10.0
        public init() {}
    }

    public let name: String
    /// "name-": each request's id is this and a number.
    private let requestIdPrefix: String
    public let listener: FileDescriptor
    private let limits: Limits
    private let logger: Logger
    private let handler: RequestHandler
    private let renderError: ErrorRenderer
    private let wake: WakePipe
    private let state = Condition()
    // Guarded by `state`.
    private var openConnections = 0
    /// Open connections per client address, while `limits.maxConnectionsPerClient` is set.
    private var connectionsPerClient: [String: Int] = [:]
    private var stopping = false
    private var acceptLoopDone = false
    /// Set once, before the accept thread starts.
    private var heartbeatSeconds: Double?
    private let lastBeat = Atomic<UInt64>(0)
    /// Used by the accept thread only.
    private var lastAcceptErrorLog: UInt64 = 0

    /// Whether the accept loop has run within the last `seconds` (only meaningful with a heartbeat).
    public func acceptLoopRan(within seconds: Double) -> Bool {
        let now = MonotonicClock.nowNanos()
        return beatIsRecent(lastBeat.load(ordering: .relaxed), now: now, within: seconds)
    }

    public init(
        name: String, listener: FileDescriptor, limits: Limits = Limits(), logger: Logger,
        renderError: @escaping ErrorRenderer, handler: @escaping RequestHandler
    ) throws {
        self.name = name
        self.requestIdPrefix = name + "-"
        self.listener = listener
        self.limits = limits
        self.logger = logger.with("listener", name)
        self.handler = handler
        self.renderError = renderError
        self.wake = try WakePipe()
        try listener.setNonBlocking()
    }

    public var connectionCount: Int { state.withLock { openConnections } }

    /// Starts accepting. With `heartbeatSeconds`, the accept loop wakes at least that often and records
    /// that it ran, so a supervisor (the systemd watchdog) can tell a live loop from a stuck one.
    public func start(heartbeatSeconds: Double? = nil) {
        self.heartbeatSeconds = heartbeatSeconds
        lastBeat.store(MonotonicClock.nowNanos(), ordering: .relaxed)
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "accept-\(name)"
        thread.start()
    }

    /// Stops accepting and waits up to `graceSeconds` for connections to finish. Returns true if all did.
    @discardableResult
    public func shutdown(graceSeconds: Double) -> Bool {
        state.withLock { stopping = true }
        wake.signal()
        let deadline = MonotonicClock.deadline(afterSeconds: graceSeconds)
        return state.withLock {
            while openConnections > 0 || !acceptLoopDone {
                if !state.wait(untilNanos: deadline) && MonotonicClock.nowNanos() >= deadline { return false }
            }
            return true
        }
    }

    private var isStopping: Bool { state.withLock { stopping } }

    // MARK: - Accepting

    private func acceptLoop() {
        defer {
            state.withLock {
                acceptLoopDone = true
                state.broadcast()
            }
        }
        while !isStopping {
            do {
                let deadline = heartbeatSeconds.map { MonotonicClock.deadline(afterSeconds: $0) } ?? .max
                let ready = try Poll.waitAny(
                    [listener, wake.readEnd], for: .readable, deadlineNanos: deadline)
                lastBeat.store(MonotonicClock.nowNanos(), ordering: .relaxed)
                guard ready == 0 else { continue }
                guard let connection = try Socket.accept(listener) else { continue }
                admit(connection)
            } catch let error as SystemCallError {
                // EMFILE/ENFILE/ENOBUFS: the pending connection stays queued; back off instead of spinning,
                // and say so once per 10 s rather than ten times a second.
                let now = MonotonicClock.nowNanos()
                if now - lastAcceptErrorLog > 10_000_000_000 || lastAcceptErrorLog == 0 {
                    lastAcceptErrorLog = now
                    logger.error("accept failed; retrying every 100 ms", [("error", error.description)])
                }
                usleep(100_000)
            } catch {
                usleep(100_000)
            }
        }
    }

    private func admit(_ connection: FileDescriptor) {
        let host = Socket.peerHost(connection)
        let clientCap = limits.maxConnectionsPerClient.flatMap { cap in
            host.map { (host: $0, cap: limits.isExemptFromClientCap($0) ? Int.max : cap) }
        }
        let refusal: (message: String, limit: Int)? = state.withLock {
            guard openConnections < limits.maxConnections else {
                return ("connection refused: limit reached", limits.maxConnections)
            }
            if let clientCap {
                guard connectionsPerClient[clientCap.host, default: 0] < clientCap.cap else {
                    return ("connection refused: client's limit reached", clientCap.cap)
                }
                connectionsPerClient[clientCap.host, default: 0] += 1
            }
            openConnections += 1
            return nil
        }
        if let refusal {
            // Over a cap: say so and close, so the client neither hangs nor retries blindly.
            // Logged first, so the line exists by the time the client sees the refusal.
            var fields = [("limit", String(refusal.limit))]
            if let clientCap { fields.append(("client", clientCap.host)) }
            logger.warning(refusal.message, fields)
            var response = renderError(503, "too many connections")
            response.headers.set("Retry-After", "1")
            let bytes = response.serialized(keepAlive: false)
            _ = bytes.withUnsafeBytes {
                Glibc.send(connection.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            connection.close()
            return
        }
        let thread = Thread { [self] in
            serve(connection, host: host)
            connection.close()
            state.withLock {
                openConnections -= 1
                if let clientCap {
                    connectionsPerClient[clientCap.host, default: 1] -= 1
                    if connectionsPerClient[clientCap.host] == 0 {
                        connectionsPerClient[clientCap.host] = nil
                    }
                }
                state.broadcast()
            }
        }
        thread.stackSize = 512 * 1024
        thread.start()
    }

    // MARK: - One connection

    private func serve(_ fd: FileDescriptor, host: String?) {
        var timeout = timeval(tv_sec: Int(limits.writeTimeoutSeconds), tv_usec: 0)
        setsockopt(fd.rawValue, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var peer = Peer(host: host)
        if peer.host == nil { peer.credentials = try? PeerCredentials.of(fd) }
        // Answers are written whole; never hold one back waiting for the peer's ACK (Nagle).
        if peer.host != nil { Socket.setNoDelay(fd) }
        var parser = RequestParser(limits: limits.parser)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        // The first request's head is due within the request timeout of the connection's start: a
        // connection that sends nothing must not hold a slot for the keep-alive time.
        var requestDeadline = MonotonicClock.deadline(afterSeconds: limits.requestTimeoutSeconds)
        var served = false
        var ignoreWake = false

        while true {
            let request: HTTPRequest?
            do {
                request = try parser.next()
            } catch {
                if send(renderError(error.status, error.reason), keepAlive: false, on: fd) { linger(fd) }
                return
            }
            if let request {
                requestDeadline = 0
                served = true
                let stoppingNow = isStopping
                var context = peer
                context.requestId = nextRequestId(prefix: requestIdPrefix)
                let response = handler(request, context)
                let keepAlive = request.keepAlive && !stoppingNow && !isStopping
                guard send(response, keepAlive: keepAlive, on: fd), keepAlive else { return }
                continue
            }

            // More bytes needed.
            if parser.takeContinueExpectation() != nil {
                let sent = HTTPResponse.continueInterim.withUnsafeBytes { try? Socket.send(fd, $0) }
                guard sent == HTTPResponse.continueInterim.count else { return }
            }
            let midRequest = parser.hasBufferedBytes
            if !midRequest && isStopping { return }
            if midRequest && requestDeadline == 0 {
                requestDeadline = MonotonicClock.deadline(afterSeconds: limits.requestTimeoutSeconds)
            }
            let deadline =
                midRequest || !served
                ? requestDeadline : MonotonicClock.deadline(afterSeconds: limits.idleTimeoutSeconds)
            let watched = ignoreWake ? [fd] : [fd, wake.readEnd]
            let ready: Int?
            do {
                ready = try Poll.waitAny(watched, for: .readable, deadlineNanos: deadline)
            } catch {
                return
            }
            guard let ready else {
                if midRequest,
                    send(renderError(408, "request not received in time"), keepAlive: false, on: fd)
                {
                    linger(fd)
                }
                return
            }
            if ready == 1 {
                // Shutting down: idle connections close now; a request in progress may finish.
                if !midRequest { return }
                ignoreWake = true
                continue
            }
            let count = buffer.withUnsafeMutableBytes { Glibc.recv(fd.rawValue, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                if count < 0 && errno == EINTR { continue }
                return
            }
            if requestDeadline == 0 {
                requestDeadline = MonotonicClock.deadline(afterSeconds: limits.requestTimeoutSeconds)
            }
            buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    /// After an error answer to a request not read to its end: closing now, with its bytes unread,
    /// would reset the connection and could destroy the answer before the client reads it (RFC 9112
    /// §9.6). So send a FIN, and read and drop what the client still sends, until it closes or
    /// `lingerSeconds` pass.
    private func linger(_ fd: FileDescriptor) {
        Socket.shutdownWrite(fd)
        let deadline = MonotonicClock.deadline(afterSeconds: lingerSeconds(limits))
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while (try? Poll.wait(fd, for: .readable, deadlineNanos: deadline)) == true {
            // A blocking socket: nil is a failure here, 0 the client's end.
            let count = buffer.withUnsafeMutableBytes { try? Socket.receive(fd, into: $0) }
            guard let count, count > 0 else { return }
        }
    }

    private func send(_ response: HTTPResponse, keepAlive: Bool, on fd: FileDescriptor) -> Bool {
        let bytes = response.serialized(keepAlive: keepAlive)
        do {
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    offset += try Socket.send(fd, UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                }
            }
            return true
        } catch {
            return false
        }
    }
}
