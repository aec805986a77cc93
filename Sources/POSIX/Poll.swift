#if canImport(Glibc)
    import Glibc
#endif

/// poll(2) over one or two descriptors with a monotonic deadline.
public enum Poll {
    public enum Interest: Sendable { case readable, writable }

    /// Waits until `fd` is ready; false when the deadline passed first.
    public static func wait(_ fd: FileDescriptor, for interest: Interest, deadlineNanos: UInt64) throws
        -> Bool
    {
        try waitAny([fd], for: interest, deadlineNanos: deadlineNanos) != nil
    }

    /// Waits until any of `fds` is ready (readable, hung up or in error); returns its index, or nil on
    /// timeout. `deadlineNanos == .max` waits forever.
    public static func waitAny(_ fds: [FileDescriptor], for interest: Interest, deadlineNanos: UInt64) throws
        -> Int?
    {
        let events = Int16(interest == .readable ? POLLIN : POLLOUT)
        var entries = fds.map { pollfd(fd: $0.rawValue, events: events, revents: 0) }
        while true {
            let timeout = deadlineNanos == .max ? -1 : MonotonicClock.millisecondsUntil(deadlineNanos)
            let ready = entries.withUnsafeMutableBufferPointer {
                Glibc.poll($0.baseAddress, nfds_t($0.count), timeout)
            }
            if ready > 0 { return entries.firstIndex { $0.revents != 0 } }
            if ready == 0 {
                if timeout == 0 || MonotonicClock.millisecondsUntil(deadlineNanos) == 0 { return nil }
                continue
            }
            if errno == EINTR { continue }
            throw SystemCallError(call: "poll", errno: errno)
        }
    }
}

/// A pipe whose write end, once written, wakes every poll that includes its read end — a broadcast
/// that tells accept loops and idle connections to stop.
public final class WakePipe: Sendable {
    public let readEnd: FileDescriptor
    private let writeEnd: FileDescriptor

    public init() throws {
        var fds: [Int32] = [0, 0]
        _ = try retryingEINTR("pipe") { pipe(&fds) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        readEnd = FileDescriptor(rawValue: fds[0])
        writeEnd = FileDescriptor(rawValue: fds[1])
    }

    /// Never drained, so the read end stays readable from now on.
    public func signal() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeEnd.rawValue, &byte, 1)
    }

    deinit {
        readEnd.close()
        writeEnd.close()
    }
}
