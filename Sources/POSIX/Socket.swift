#if canImport(Glibc)
    import Glibc
#endif

/// Where a listener binds or a client connects.
public enum SocketAddress: Sendable, Equatable, CustomStringConvertible {
    case inet(host: String, port: UInt16)
    case unix(path: String)

    public var description: String {
        switch self {
        case .inet(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }
}

/// Socket system calls, each through `retryingEINTR`. The socket layer knows nothing of HTTP.
public enum Socket {
    /// A listening TCP socket (SO_REUSEADDR, close-on-exec). Port 0 picks an ephemeral port.
    public static func listenTCP(host: String, port: UInt16, backlog: Int32 = 1024) throws
        -> FileDescriptor
    {
        let subject = SocketAddress.inet(host: host, port: port).description
        var storage = sockaddr_storage()
        let length = try fillInet(&storage, host: host, port: port)
        let family = Int32(storage.ss_family)
        let fd = try retryingEINTR("socket", subject: subject) {
            socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        do {
            _ = try retryingEINTR("bind", subject: subject) {
                withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
                }
            }
            _ = try retryingEINTR("listen", subject: subject) { Glibc.listen(fd, backlog) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// A listening Unix socket with the given mode. A stale socket file (nobody listening) is replaced;
    /// a live one, or a path that is not a socket, is refused rather than deleted.
    public static func listenUnix(path: String, mode: mode_t, backlog: Int32 = 1024) throws
        -> FileDescriptor
    {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFSOCK else {
                throw SystemCallError(
                    call: "bind", errno: EEXIST, subject: "\(path) (exists and is not a socket)")
            }
            if let probe = try? connectUnix(path: path) {
                probe.close()
                throw SystemCallError(
                    call: "bind", errno: EADDRINUSE, subject: "\(path) (another process is serving it)")
            }
            unlink(path)
        }
        let fd = try retryingEINTR("socket", subject: path) {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            var address = try unixAddress(path)
            // Bind under a restrictive umask so the socket never exists with looser permissions.
            let previous = umask(0o177)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            let bindErrno = errno
            umask(previous)
            if bound != 0 { throw SystemCallError(call: "bind", errno: bindErrno, subject: path) }
            _ = try retryingEINTR("chmod", subject: path) { chmod(path, mode) }
            _ = try retryingEINTR("listen", subject: path) { Glibc.listen(fd, backlog) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    public static func listen(_ address: SocketAddress, unixMode: mode_t = 0o660) throws
        -> FileDescriptor
    {
        switch address {
        case .inet(let host, let port): return try listenTCP(host: host, port: port)
        case .unix(let path): return try listenUnix(path: path, mode: unixMode)
        }
    }

    /// Accepts one connection; nil when none is waiting (non-blocking listener) or it vanished.
    public static func accept(_ listener: FileDescriptor) throws -> FileDescriptor? {
        while true {
            let fd = Glibc.accept(listener.rawValue, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                return FileDescriptor(rawValue: fd)
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, ECONNABORTED, EPROTO: return nil
            case let error: throw SystemCallError(call: "accept", errno: error)
            }
        }
    }

    /// The locally bound address (to learn an ephemeral port).
    public static func localPort(_ fd: FileDescriptor) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd.rawValue, $0, &length) }
        }
        guard result == 0 else { return nil }
        return port(of: storage)
    }

    /// The peer's IP address as text, nil for Unix sockets; an IPv4 peer of a dual-stack listener in
    /// its IPv4 form (`10.0.0.5`, not `::ffff:10.0.0.5`).
    public static func peerHost(_ fd: FileDescriptor) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd.rawValue, $0, &length) }
        }
        guard result == 0 else { return nil }
        return host(of: storage)
    }

    /// Connects to a Unix socket (blocking; local connects complete at once).
    public static func connectUnix(path: String) throws -> FileDescriptor {
        let fd = try retryingEINTR("socket", subject: path) {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            var address = try unixAddress(path)
            _ = try retryingEINTR("connect", subject: path) {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Resolves `host` and connects to the first address that answers before the deadline.
    /// The returned descriptor is non-blocking.
    public static func connectTCP(host: String, port: UInt16, deadlineNanos: UInt64) throws
        -> FileDescriptor
    {
        let subject = SocketAddress.inet(host: host, port: port).description
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw SystemCallError(
                call: "getaddrinfo", errno: status == EAI_SYSTEM ? errno : ENOENT, subject: host)
        }
        defer { freeaddrinfo(list) }
        var lastError = SystemCallError(call: "connect", errno: ECONNREFUSED, subject: subject)
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(
                info.pointee.ai_family,
                info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                info.pointee.ai_protocol)
            if fd < 0 { continue }
            let descriptor = FileDescriptor(rawValue: fd)
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return descriptor }
            guard errno == EINPROGRESS else {
                lastError = SystemCallError(call: "connect", errno: errno, subject: subject)
                descriptor.close()
                continue
            }
            do {
                guard try Poll.wait(descriptor, for: .writable, deadlineNanos: deadlineNanos) else {
                    descriptor.close()
                    throw SystemCallError(call: "connect", errno: ETIMEDOUT, subject: subject)
                }
            } catch {
                descriptor.close()
                throw error
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return descriptor
            }
            lastError = SystemCallError(call: "connect", errno: soError, subject: subject)
            descriptor.close()
        }
        throw lastError
    }

    public static func setNoDelay(_ fd: FileDescriptor) {
        var one: Int32 = 1
        setsockopt(fd.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads into `buffer` (`recv(2)`, EINTR retried): the byte count, 0 once the peer has ended its
    /// direction, nil when nothing is waiting on a non-blocking socket (EAGAIN).
    public static func receive(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer) throws
        -> Int?
    {
        do {
            return try retryingEINTR("recv") { Glibc.recv(fd.rawValue, buffer.baseAddress, buffer.count, 0) }
        } catch let error as SystemCallError where error.errno == EAGAIN {
            return nil
        }
    }

    /// Ends our direction of the connection (`shutdown(2)`, `SHUT_WR`): the peer reads a FIN after what
    /// was sent, while its own bytes may still be read. Fails only on a connection already gone.
    public static func shutdownWrite(_ fd: FileDescriptor) {
        _ = Glibc.shutdown(fd.rawValue, Int32(SHUT_WR))
    }

    /// Sends without raising SIGPIPE on a closed peer.
    public static func send(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try retryingEINTR("send") {
            Glibc.send(fd.rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        }
    }

    /// Sends what the socket buffer takes now (`send(2)` with `MSG_NOSIGNAL | MSG_DONTWAIT`, EINTR
    /// retried): the byte count, or nil when the buffer is full (EAGAIN). Never raises SIGPIPE.
    public static func sendNonBlocking(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer) throws -> Int? {
        do {
            return try retryingEINTR("send") {
                Glibc.send(fd.rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
        } catch let error as SystemCallError where error.errno == EAGAIN {
            return nil
        }
    }

    // MARK: - Addresses

    private static func unixAddress(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw SystemCallError(call: "bind", errno: ENAMETOOLONG, subject: path)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    private static func fillInet(_ storage: inout sockaddr_storage, host: String, port: UInt16) throws
        -> socklen_t
    {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr = v4
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = v6
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        throw SystemCallError(call: "inet_pton", errno: EINVAL, subject: "\(host) (not an IP address)")
    }

    private static func port(of storage: sockaddr_storage) -> UInt16? {
        var copy = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: &copy) { UInt16(bigEndian: $0.load(as: sockaddr_in.self).sin_port) }
        case AF_INET6:
            return withUnsafeBytes(of: &copy) { UInt16(bigEndian: $0.load(as: sockaddr_in6.self).sin6_port) }
        default: return nil
        }
    }

    private static func host(of storage: sockaddr_storage) -> String? {
        var copy = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            var address = withUnsafeBytes(of: &copy) { $0.load(as: sockaddr_in.self).sin_addr }
            return IPAddress.text(withUnsafeBytes(of: &address) { Array($0) })
        case AF_INET6:
            var address = withUnsafeBytes(of: &copy) { $0.load(as: sockaddr_in6.self).sin6_addr }
            return IPAddress.text(withUnsafeBytes(of: &address) { Array($0) })
        default: return nil
        }
    }
}
