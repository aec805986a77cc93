import HTTP1
import POSIX

/// Names a connection in its loop's epoll set and in `Responder`s: its slot in the loop's table, and
/// the generation that tells the slot's connection from an earlier one, so an answer or event for a
/// connection since closed finds another generation and is dropped.
struct ConnectionToken: Equatable, Sendable {
    let rawValue: UInt64

    /// The slot takes the low 24 bits (16 M connections a loop), the generation the 40 above.
    init(slot: Int, generation: UInt64) { rawValue = generation << 24 | UInt64(slot) }
    init(rawValue: UInt64) { self.rawValue = rawValue }

    var slot: Int { Int(rawValue & 0xFF_FFFF) }

    /// The loop's own registrations: beyond any generation a loop reaches.
    static let listener = ConnectionToken(rawValue: .max)
    static let wakeup = ConnectionToken(rawValue: .max - 1)
}

/// One connection, owned by its event loop: only the loop's thread reads or changes it, and its state
/// changes only in the `EventLoop` methods of this file.
final class Connection {
    /// Where the connection is in its life; each state carries the deadline the sweep enforces in it.
    ///
    ///     receiving ─request─▶ handling ─answer─▶ writing ─▶ idle ─bytes─▶ receiving
    ///         │                                      └─▶ receiving (pipelined bytes, 100 Continue sent)
    ///         └─refusal (malformed, 408, head check)─▶ writing ─▶ lingering
    ///
    /// Any state may end in `closed`: the peer leaves, a deadline passes, or shutdown finds it idle.
    enum State {
        /// A request is due by the deadline: a new connection's first (counted from accept, so a
        /// connection that sends nothing does not hold a slot for the keep-alive time), or one whose
        /// first bytes have arrived.
        case receiving(deadline: UInt64)
        /// Between requests, nothing buffered; closed at the deadline (the keep-alive idle time).
        case idle(deadline: UInt64)
        /// The request is with the handler. Nothing more is read or parsed until it answers, so
        /// pipelined answers go out in order; no deadline, as the handler's time is not the client's.
        case handling(keepAlive: Bool)
        /// Writing an answer, then `then`.
        case writing(Output, then: AfterWrite)
        /// An error answer went out to a request not read to its end: closing now, with its bytes
        /// unread, would reset the connection and could destroy the answer before the client reads it
        /// (RFC 9112 §9.6). So our side is shut (a FIN), and what the client still sends is read and
        /// dropped until it closes or the deadline passes.
        case lingering(deadline: UInt64)
        case closed

        /// When the sweep acts on this state (`EventLoop.deadlinePassed`); nil for never.
        var deadline: UInt64? {
            switch self {
            case .receiving(let deadline), .idle(let deadline), .lingering(let deadline): return deadline
            case .writing(let output, _): return output.deadline
            case .handling, .closed: return nil
            }
        }
    }

    struct Output {
        var bytes: [UInt8]
        var offset = 0
        /// Set while the socket buffer is full: the peer must read within the write timeout.
        var deadline: UInt64? = nil
    }

    enum AfterWrite {
        /// Serve the next request on this connection (keep-alive).
        case nextRequest
        /// Go on receiving the request whose head the 100 Continue answered.
        case resumeReceiving(deadline: UInt64)
        case close
        case linger
    }

    let fd: FileDescriptor
    let token: ConnectionToken
    let peer: Peer
    var parser: RequestParser
    var state: State
    /// Whether the socket may have unread bytes: edge-triggered epoll reports new bytes once, so this
    /// stays true until a read says EAGAIN.
    var mayHaveInput = true

    init(fd: FileDescriptor, token: ConnectionToken, peer: Peer, parser: RequestParser, state: State) {
        self.fd = fd
        self.token = token
        self.peer = peer
        self.parser = parser
        self.state = state
    }
}

extension EventLoop {
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
        let connection = Connection(
            fd: fd, token: ConnectionToken(slot: slot, generation: generation), peer: peer,
            parser: RequestParser(limits: limits.parser),
            state: .receiving(deadline: deadline(afterSeconds: limits.requestTimeoutSeconds)))
        do {
            try epoll.add(
                fd, [.readable, .writable, .readHangUp, .edgeTriggered], token: connection.token.rawValue)
        } catch {
            fd.close()
            freeSlots.append(slot)
            server.connectionEnded(peer)
            return
        }
        connections[slot] = connection
        openHere += 1
        advance(connection)  // data may have arrived with the handshake
    }

    /// Epoll reported readiness.
    func handle(_ events: Epoll.Events, for token: ConnectionToken) {
        guard let connection = connection(for: token) else { return }
        if !events.isDisjoint(with: [.readable, .readHangUp, .hangUp, .error]) {
            connection.mayHaveInput = true
        }
        advance(connection)
    }

    /// The handler's answer, on the loop thread.
    func answered(_ token: ConnectionToken, _ response: HTTPResponse) {
        // The connection may be gone (peer closed, shutdown): the answer has nowhere to go.
        guard let connection = connection(for: token), case .handling(let keepAlive) = connection.state else {
            return
        }
        let keepOpen = keepAlive && !stopRequested
        connection.state = .writing(
            .init(bytes: response.serialized(keepAlive: keepOpen)), then: keepOpen ? .nextRequest : .close)
        if connection !== inHandler { advance(connection) }
    }

    /// The sweep found the state's deadline passed: a request begun and not finished gets 408; a
    /// connection that sent nothing, an idle keep-alive one, a peer that does not read its answer and
    /// a lingering one are closed.
    func deadlinePassed(_ connection: Connection) {
        if case .receiving = connection.state, connection.parser.hasBufferedBytes {
            refuse(connection, .requestTimeout)
            advance(connection)
        } else {
            close(connection)
        }
    }

    /// Shutdown began: idle connections close now; a request in progress may finish, and its answer
    /// closes the connection.
    func stopping(_ connection: Connection) {
        switch connection.state {
        case .idle: close(connection)
        case .receiving where !connection.parser.hasBufferedBytes: close(connection)
        default: break
        }
    }

    /// Moves a connection as far as it can go without waiting: writes what is owed, parses and hands on
    /// the next request, reads more bytes when needed. Returns when the peer, the handler or the socket
    /// buffer must act next.
    func advance(_ connection: Connection) {
        while true {
            switch connection.state {
            case .handling, .closed:
                return
            case .writing(var output, let next):
                guard flush(&output, on: connection) else {
                    if case .writing = connection.state { connection.state = .writing(output, then: next) }
                    return
                }
                finishedWriting(connection, then: next)
            case .lingering:
                discardInput(connection)
                return
            case .idle, .receiving(_):
                guard receive(connection) else { return }
            }
        }
    }

    /// One step while a request is awaited: hands on a complete request, answers a parse error or an
    /// `Expect: 100-continue`, or reads. False when the peer must act next (or has left).
    private func receive(_ connection: Connection) -> Bool {
        let request: HTTPRequest?
        do {
            request = try connection.parser.next()
        } catch {
            refuse(connection, .malformed(error))
            return true
        }
        if let request {
            dispatch(request, on: connection)
            return true
        }
        if let head = connection.parser.takeContinueExpectation(),
            case .receiving(let deadline) = connection.state
        {
            if let refusal = server.headCheck?(head) {
                // The body is never read: the connection cannot carry another request.
                connection.state = .writing(.init(bytes: refusal.serialized(keepAlive: false)), then: .linger)
            } else {
                connection.state = .writing(
                    .init(bytes: HTTPResponse.continueInterim), then: .resumeReceiving(deadline: deadline))
            }
            return true
        }
        guard connection.mayHaveInput else { return false }
        let count: Int?
        do {
            count = try Socket.receive(connection.fd, into: readBuffer)
        } catch {
            close(connection)  // reset
            return false
        }
        guard let count else {
            connection.mayHaveInput = false
            return false
        }
        guard count > 0 else {
            close(connection)  // the peer closed: a half-sent request is abandoned
            return false
        }
        if case .idle = connection.state {
            connection.state = .receiving(deadline: deadline(afterSeconds: limits.requestTimeoutSeconds))
        }
        connection.parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        // A short read emptied the socket: skip the recv that would only say EAGAIN. Bytes that arrive
        // later raise a new edge.
        if count < readBuffer.count { connection.mayHaveInput = false }
        return true
    }

    private func dispatch(_ request: HTTPRequest, on connection: Connection) {
        connection.state = .handling(keepAlive: request.keepAlive)
        var peer = connection.peer
        peer.requestId = nextRequestId(prefix: requestIdPrefix)
        inHandler = connection
        server.handler(request, peer, Responder(loop: self, token: connection.token))
        inHandler = nil
    }

    private func finishedWriting(_ connection: Connection, then next: Connection.AfterWrite) {
        switch next {
        case .close:
            close(connection)
        case .linger:
            Socket.shutdownWrite(connection.fd)
            connection.state = .lingering(deadline: deadline(afterSeconds: limits.lingerSeconds))
        case .resumeReceiving(let deadline):
            connection.state = .receiving(deadline: deadline)
        case .nextRequest:
            if connection.parser.hasBufferedBytes {
                connection.state = .receiving(deadline: deadline(afterSeconds: limits.requestTimeoutSeconds))
            } else if stopRequested {
                close(connection)
            } else {
                connection.state = .idle(deadline: deadline(afterSeconds: limits.idleTimeoutSeconds))
            }
        }
    }

    /// The server answers in the handler's place and closes after lingering.
    private func refuse(_ connection: Connection, _ refusal: Refusal) {
        connection.state = .writing(.init(bytes: refusal.serialized(server.renderError)), then: .linger)
    }

    /// Writes what `output` still holds; true once all of it is sent, false if the socket buffer is full
    /// (an EPOLLOUT edge resumes it, and the write deadline runs) or the connection failed (and is closed).
    private func flush(_ output: inout Connection.Output, on connection: Connection) -> Bool {
        while output.offset < output.bytes.count {
            let sent: Int?
            do {
                sent = try output.bytes.withUnsafeBytes {
                    try Socket.sendNonBlocking(
                        connection.fd, UnsafeRawBufferPointer(rebasing: $0[output.offset...]))
                }
            } catch {
                close(connection)
                return false
            }
            guard let sent else {
                output.deadline = deadline(afterSeconds: limits.writeTimeoutSeconds)
                return false
            }
            output.offset += sent
        }
        return true
    }

    private func discardInput(_ connection: Connection) {
        while connection.mayHaveInput {
            let count: Int?
            do {
                count = try Socket.receive(connection.fd, into: readBuffer)
            } catch {
                close(connection)
                return
            }
            guard let count else {
                connection.mayHaveInput = false
                return
            }
            if count == 0 {
                close(connection)  // the client has closed: nothing more to wait for
                return
            }
        }
    }

    func close(_ connection: Connection) {
        if case .closed = connection.state { return }
        connection.state = .closed
        // Closing the descriptor also drops it from the epoll set.
        connection.fd.close()
        connections[connection.token.slot] = nil
        freeSlots.append(connection.token.slot)
        openHere -= 1
        server.connectionEnded(connection.peer)
    }

    private func connection(for token: ConnectionToken) -> Connection? {
        let slot = token.slot
        guard slot < connections.count, let connection = connections[slot], connection.token == token else {
            return nil
        }
        return connection
    }

    private func deadline(afterSeconds seconds: Double) -> UInt64 {
        MonotonicClock.nowNanos() + UInt64(seconds * 1e9)
    }
}
