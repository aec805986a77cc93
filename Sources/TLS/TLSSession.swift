import COpenSSL
import Crypto
import Glibc
import POSIX

/// One TLS client connection over an already-connected, non-blocking socket. Blocking on the socket
/// happens only in poll() with the caller's deadline, so a stalled peer cannot hold a thread past it.
/// Not thread-safe: one session belongs to one connection and one task at a time.
public final class TLSSession {
    private var ssl: OpaquePointer?
    private let fd: Int32
    private let serverName: String
    /// After a fatal error OpenSSL forbids SSL_shutdown; `close` then only frees.
    private var failed = false

    /// Sends SNI for `serverName` unless it is an IP literal, and verifies that the certificate is
    /// issued to it (DNS name, or IP address for literals). Does not own or close `fd`.
    public init(context: TLSClientContext, fd: Int32, serverName: String) throws(TLSError) {
        // An empty name would switch hostname verification off rather than fail it.
        guard !serverName.isEmpty else {
            throw TLSError(
                "A TLS connection needs the server's name to verify its certificate; none was given.")
        }
        guard let ssl = SSL_new(context.context) else {
            throw TLSError.openSSL("Could not create a TLS session for \(serverName)")
        }
        let identityPinned: Bool
        if Self.isIPLiteral(serverName) {
            // RFC 6066 §3: SNI carries host names only, never IP addresses.
            identityPinned = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1
        } else {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            identityPinned =
                openidd_SSL_set_tlsext_host_name(ssl, serverName) == 1 && SSL_set1_host(ssl, serverName) == 1
        }
        guard identityPinned, SSL_set_fd(ssl, fd) == 1 else {
            let error = TLSError.openSSL("Could not set up a TLS session for \(serverName)")
            SSL_free(ssl)
            throw error
        }
        SSL_set_connect_state(ssl)
        self.ssl = ssl
        self.fd = fd
        self.serverName = serverName
    }

    deinit {
        close()
    }

    /// `deadlineNanos` is CLOCK_MONOTONIC in nanoseconds; past it the error has `isTimeout`.
    public func handshake(deadlineNanos: UInt64) throws(TLSError) {
        let action = "TLS handshake with \(serverName)"
        guard try perform(action, deadlineNanos: deadlineNanos, { SSL_connect($0) }) else {
            failed = true
            throw TLSError("\(action) failed: the server closed the connection.")
        }
    }

    /// Writes all of `bytes` or throws.
    public func write(_ bytes: [UInt8], deadlineNanos: UInt64) throws(TLSError) {
        let action = "TLS write to \(serverName)"
        var offset = 0
        while offset < bytes.count {
            var written = 0
            let open = try perform(action, deadlineNanos: deadlineNanos) { ssl in
                bytes.withUnsafeBytes {
                    SSL_write_ex(ssl, $0.baseAddress! + offset, $0.count - offset, &written)
                }
            }
            guard open else {
                throw TLSError("\(action) failed: the server closed the connection.")
            }
            offset += written
        }
    }

    /// Reads up to `maximum` bytes; returns [] on clean EOF (close_notify, or TCP EOF after the
    /// handshake).
    public func read(maximum: Int, deadlineNanos: UInt64) throws(TLSError) -> [UInt8] {
        precondition(maximum > 0, "TLSSession.read needs a positive maximum, got \(maximum)")
        var buffer = [UInt8](repeating: 0, count: maximum)
        var count = 0
        let open = try perform("TLS read from \(serverName)", deadlineNanos: deadlineNanos) { ssl in
            SSL_read_ex(ssl, &buffer, maximum, &count)
        }
        return open ? Array(buffer.prefix(count)) : []
    }

    /// Best-effort close_notify, then frees the session. Idempotent; the socket stays open.
    public func close() {
        guard let ssl else { return }
        if !failed && SSL_is_init_finished(ssl) == 1 {
            // One attempt only: on a non-blocking socket waiting for the peer's reply could stall.
            _ = SSL_shutdown(ssl)
        }
        SSL_free(ssl)
        self.ssl = nil
        ERR_clear_error()
    }

    /// Runs `call` until it succeeds, waiting in poll() for whatever OpenSSL wants. Returns false on
    /// a clean end of stream (SSL_ERROR_ZERO_RETURN).
    private func perform(
        _ action: String, deadlineNanos: UInt64, _ call: (OpaquePointer) -> Int32
    ) throws(TLSError) -> Bool {
        guard let ssl else {
            throw TLSError("\(action) is impossible: the TLS session is already closed.")
        }
        while true {
            // SSL_get_error reads this thread's error queue, which must hold only this call's reasons.
            ERR_clear_error()
            let result = call(ssl)
            if result > 0 { return true }
            let code = SSL_get_error(ssl, result)
            let callErrno = errno
            switch code {
            case SSL_ERROR_WANT_READ:
                try wait(for: POLLIN, action: action, deadlineNanos: deadlineNanos)
            case SSL_ERROR_WANT_WRITE:
                try wait(for: POLLOUT, action: action, deadlineNanos: deadlineNanos)
            case SSL_ERROR_ZERO_RETURN:
                return false
            case SSL_ERROR_SYSCALL:
                failed = true
                let reasons = openSSLReasons()
                let cause =
                    callErrno == 0
                    ? "the connection closed unexpectedly" : String(cString: strerror(callErrno))
                throw TLSError("\(action) failed: \(cause)\(reasons)")
            default:
                failed = true
                throw TLSError(
                    "\(action) failed: \(verificationFailure(ssl) ?? "protocol error")\(openSSLReasons())")
            }
        }
    }

    /// "certificate verify failed: <X.509 reason>" when certificate verification is why it failed.
    private func verificationFailure(_ ssl: OpaquePointer) -> String? {
        let result = SSL_get_verify_result(ssl)
        guard result != X509_V_OK else { return nil }
        return "certificate verify failed: " + String(cString: X509_verify_cert_error_string(result))
    }

    private func wait(for events: Int32, action: String, deadlineNanos: UInt64) throws(TLSError) {
        while true {
            let now = MonotonicClock.nowNanos()
            guard now < deadlineNanos else {
                throw TLSError("\(action) timed out.", isTimeout: true)
            }
            // Round up so a wait never ends just short of the deadline and spins.
            let milliseconds = Int32(clamping: (deadlineNanos - now + 999_999) / 1_000_000)
            var descriptor = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            // Readiness, POLLERR or POLLHUP: OpenSSL's next call finds out which.
            if ready > 0 { return }
            if ready == 0 || errno == EINTR { continue }
            failed = true
            throw TLSError("\(action) failed: poll() on socket \(fd): \(String(cString: strerror(errno)))")
        }
    }

    private static func isIPLiteral(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
