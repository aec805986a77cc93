import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// An epoll instance: the readiness queue of an event loop. Each registration carries a 64-bit token
/// that comes back with its events, so the loop finds its connection without a lookup table of fds.
public final class Epoll: @unchecked Sendable {
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: EPOLLIN.rawValue)
        public static let writable = Events(rawValue: EPOLLOUT.rawValue)
        /// The peer shut down its writing half.
        public static let readHangUp = Events(rawValue: EPOLLRDHUP.rawValue)
        public static let hangUp = Events(rawValue: EPOLLHUP.rawValue)
        public static let error = Events(rawValue: EPOLLERR.rawValue)
        /// Report a change of readiness once, not for as long as it lasts.
        public static let edgeTriggered = Events(rawValue: EPOLLET.rawValue)
    }

    public struct Event: Sendable {
        public let token: UInt64
        public let events: Events
    }

    private let fd: Int32
    private var buffer: UnsafeMutablePointer<epoll_event>
    private let capacity: Int

    public init(capacity: Int = 256) throws {
        fd = try retryingEINTR("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        Glibc.close(fd)
        buffer.deallocate()
    }

    /// Registers `target` for `events` (epoll_ctl EPOLL_CTL_ADD).
    public func add(_ target: FileDescriptor, _ events: Events, token: UInt64) throws {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = token
        guard epoll_ctl(fd, EPOLL_CTL_ADD, target.rawValue, &event) == 0 else {
            throw SystemCallError(call: "epoll_ctl", errno: errno)
        }
    }

    /// Unregisters `target` (epoll_ctl EPOLL_CTL_DEL).
    public func remove(_ target: FileDescriptor) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, target.rawValue, &event)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) and calls `body` for each ready registration.
    /// Returns the number of events; 0 on timeout or interruption by a signal.
    @discardableResult
    public func wait(timeoutMilliseconds: Int32, _ body: (Event) -> Void) throws -> Int {
        let count = epoll_wait(fd, buffer, Int32(capacity), timeoutMilliseconds)
        if count < 0 {
            if errno == EINTR { return 0 }
            throw SystemCallError(call: "epoll_wait", errno: errno)
        }
        for index in 0..<Int(count) {
            body(Event(token: buffer[index].data.u64, events: Events(rawValue: buffer[index].events)))
        }
        return Int(count)
    }
}

/// An eventfd: a counter another thread bumps to wake an event loop out of `epoll_wait`.
public final class EventCounter: Sendable {
    public let descriptor: FileDescriptor

    public init() throws {
        let fd = try retryingEINTR("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        descriptor = FileDescriptor(rawValue: fd)
    }

    deinit { descriptor.close() }

    public func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(descriptor.rawValue, &one, 8)
    }

    /// Resets the counter (the loop calls this when woken).
    public func drain() {
        var value: UInt64 = 0
        _ = Glibc.read(descriptor.rawValue, &value, 8)
    }
}

extension Socket {
    /// Accepts one connection, non-blocking and close-on-exec from the start; nil when none is waiting.
    /// Throws for EMFILE/ENFILE/ENOBUFS/ENOMEM: the connection stays queued and the caller backs off.
    public static func acceptNonBlocking(_ listener: FileDescriptor) throws -> FileDescriptor? {
        while true {
            let fd = clinux_accept4(listener.rawValue, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO: continue
            case EAGAIN: return nil
            case let error: throw SystemCallError(call: "accept", errno: error)
            }
        }
    }
}

public enum CurrentThread {
    /// The calling thread's identity (`pthread_self(3)`), to tell whether code runs on a given thread.
    public static var id: UInt { pthread_self() }

    /// Names the calling thread for top, perf and gdb; the kernel keeps the first 15 bytes.
    public static func setName(_ name: String) {
        clinux_set_thread_name(String(name.utf8.prefix(15))!)
    }
}
