#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call: which call, on what, and the errno it returned.
public struct SystemCallError: Error, Sendable, CustomStringConvertible, Equatable {
    public let call: String
    public let errno: Int32
    /// What the call was about (a path, an address), when that helps a person act on the error.
    public let subject: String?

    public init(call: String, errno: Int32, subject: String? = nil) {
        self.call = call
        self.errno = errno
        self.subject = subject
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        if let subject { return "\(call)(\(subject)): \(reason)" }
        return "\(call): \(reason)"
    }

    /// Errors that mean the disk, not the program, is at fault: the caller may retry later.
    public var isStorageFault: Bool {
        [ENOSPC, EIO, EROFS, EDQUOT, EFBIG].contains(errno)
    }
}

/// Runs a system call, retrying on EINTR, and turns -1 into a `SystemCallError` naming the call.
/// EBADF and EFAULT are programmer errors (a closed or invalid descriptor/buffer), so they trap.
@inlinable
public func retryingEINTR<T: BinaryInteger>(
    _ call: String, subject: @autoclosure () -> String? = nil, _ body: () -> T
) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Glibc.errno
        if error == EINTR { continue }
        precondition(error != EBADF && error != EFAULT, "\(call): \(String(cString: strerror(error)))")
        throw SystemCallError(call: call, errno: error, subject: subject())
    }
}
