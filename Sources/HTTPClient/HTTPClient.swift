import HTTP1
import POSIX
import TLS

#if canImport(Glibc)
    import Glibc
#endif

/// Where a request goes.
public enum HTTPEndpoint: Sendable, CustomStringConvertible {
    case url(HTTPURL)
    case unix(path: String)

    public var description: String {
        switch self {
        case .url(let url): return "\(url.scheme)://\(url.hostHeader)"
        case .unix(let path): return "unix:\(path)"
        }
    }
}

public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case connect, timeout, tls, protocolViolation, io }
    public let kind: Kind
    public let description: String
}

/// An HTTP/1.1 client that sends header names exactly as written (the platform's names are
/// case-sensitive, which FoundationNetworking's URLSession does not respect on Linux), over TCP,
/// TLS (OpenSSL, verifying certificate and host name) or a Unix socket. One request per connection.
public struct HTTPClient: Sendable {
    private let tls: TLSClientContext?

    public init(tls: TLSClientContext? = nil) {
        self.tls = tls
    }

    /// The bytes `send` writes: `headers` as given, plus `Host` and `Connection: close` when absent, and
    /// the framing `serializeRequest` adds. Shown by `openidctl sign-test` as the request on the wire.
    public static func requestBytes(
        method: String, target: String, headers: HTTPHeaders, body: [UInt8], to endpoint: HTTPEndpoint
    ) -> [UInt8] {
        var headers = headers
        if headers["Host"] == nil {
            switch endpoint {
            case .url(let url): headers.add("Host", url.hostHeader)
            case .unix: headers.add("Host", "localhost")
            }
        }
        if headers["Connection"] == nil { headers.add("Connection", "close") }
        return serializeRequest(method: method, target: target, headers: headers, body: body)
    }

    /// Sends one request and reads the whole response, all within `timeoutSeconds`.
    public func send(
        method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        to endpoint: HTTPEndpoint, timeoutSeconds: Double, maxResponseBytes: Int = 4 * 1024 * 1024
    ) throws(HTTPClientError) -> HTTPResponse {
        let deadline = MonotonicClock.deadline(afterSeconds: timeoutSeconds)
        let request = Self.requestBytes(
            method: method, target: target, headers: headers, body: body, to: endpoint)

        let connection = try Connection.open(endpoint, tls: tls, deadline: deadline)
        defer { connection.close() }
        try connection.write(request, deadline: deadline)
        var parser = ResponseParser(maxBodyBytes: maxResponseBytes)
        while true {
            do {
                if let response = try parser.next() { return response }
            } catch {
                throw HTTPClientError(
                    kind: .protocolViolation, description: "\(endpoint) sent a malformed response: \(error)")
            }
            let bytes = try connection.read(deadline: deadline)
            if bytes.isEmpty {
                do {
                    if let response = try parser.finish() { return response }
                } catch {
                    throw HTTPClientError(
                        kind: .protocolViolation,
                        description: "\(endpoint) closed the connection mid-response: \(error)")
                }
                throw HTTPClientError(
                    kind: .protocolViolation,
                    description: "\(endpoint) closed the connection without a response")
            }
            parser.append(bytes)
        }
    }
}

/// A connected socket, plain or TLS, with deadline-bound reads and writes.
private final class Connection {
    let fd: FileDescriptor
    let session: TLSSession?
    let endpoint: HTTPEndpoint

    private init(fd: FileDescriptor, session: TLSSession?, endpoint: HTTPEndpoint) {
        self.fd = fd
        self.session = session
        self.endpoint = endpoint
    }

    static func open(_ endpoint: HTTPEndpoint, tls: TLSClientContext?, deadline: UInt64)
        throws(HTTPClientError)
        -> Connection
    {
        let fd: FileDescriptor
        do {
            switch endpoint {
            case .unix(let path):
                fd = try Socket.connectUnix(path: path)
                try fd.setNonBlocking()
            case .url(let url):
                fd = try Socket.connectTCP(host: url.host, port: url.port, deadlineNanos: deadline)
            }
        } catch let error as SystemCallError {
            let kind: HTTPClientError.Kind = error.errno == ETIMEDOUT ? .timeout : .connect
            throw HTTPClientError(kind: kind, description: "cannot connect to \(endpoint): \(error)")
        } catch {
            throw HTTPClientError(kind: .connect, description: "cannot connect to \(endpoint): \(error)")
        }
        guard case .url(let url) = endpoint, url.isTLS else {
            return Connection(fd: fd, session: nil, endpoint: endpoint)
        }
        guard let tls else {
            fd.close()
            throw HTTPClientError(kind: .tls, description: "TLS is not available for \(endpoint)")
        }
        do {
            let session = try TLSSession(context: tls, fd: fd.rawValue, serverName: url.host)
            try session.handshake(deadlineNanos: deadline)
            return Connection(fd: fd, session: session, endpoint: endpoint)
        } catch {
            fd.close()
            // TLSError already names the peer and the verification result.
            throw HTTPClientError(kind: error.isTimeout ? .timeout : .tls, description: error.description)
        }
    }

    func write(_ bytes: [UInt8], deadline: UInt64) throws(HTTPClientError) {
        if let session {
            do {
                try session.write(bytes, deadlineNanos: deadline)
            } catch {
                throw HTTPClientError(
                    kind: error.isTimeout ? .timeout : .io,
                    description: "sending to \(endpoint) failed: \(error)")
            }
            return
        }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd.rawValue, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            if sent < 0 && (errno == EAGAIN || errno == EINTR) {
                try waitFor(.writable, deadline: deadline, doing: "sending to")
                continue
            }
            throw HTTPClientError(
                kind: .io, description: "sending to \(endpoint) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads what is available; [] at end of stream.
    func read(deadline: UInt64) throws(HTTPClientError) -> [UInt8] {
        if let session {
            do {
                return try session.read(maximum: 16 * 1024, deadlineNanos: deadline)
            } catch {
                throw HTTPClientError(
                    kind: error.isTimeout ? .timeout : .io,
                    description: "reading from \(endpoint) failed: \(error)")
            }
        }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.recv(fd.rawValue, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return Array(buffer[0..<count]) }
            if errno == EAGAIN || errno == EINTR {
                try waitFor(.readable, deadline: deadline, doing: "waiting for")
                continue
            }
            throw HTTPClientError(
                kind: .io, description: "reading from \(endpoint) failed: \(String(cString: strerror(errno)))"
            )
        }
    }

    private func waitFor(_ interest: Poll.Interest, deadline: UInt64, doing: String) throws(HTTPClientError) {
        let ready: Bool
        do {
            ready = try Poll.wait(fd, for: interest, deadlineNanos: deadline)
        } catch {
            throw HTTPClientError(kind: .io, description: "\(doing) \(endpoint) failed: \(error)")
        }
        if !ready { throw HTTPClientError(kind: .timeout, description: "\(endpoint) did not answer in time") }
    }

    func close() {
        session?.close()
        fd.close()
    }
}
