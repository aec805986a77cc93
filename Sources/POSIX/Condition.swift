#if canImport(Glibc)
    import Glibc
#endif

/// A mutex with a condition variable (pthread), for threads that wait for a state change: group-commit
/// followers waiting for the sync that covers them, long-polls waiting for a binding.
/// Timed waits use CLOCK_MONOTONIC, so a wall-clock step cannot stretch or cut them.
public final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Inlinable, like `Locked.withLock`: callers in other modules get it specialized, not a generic
    /// call with its closure context on every lock taken.
    @inlinable
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits (lock held) until signalled.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits (lock held) until signalled or `deadlineNanos` (CLOCK_MONOTONIC) passes; false on timeout.
    @discardableResult
    public func wait(untilNanos deadlineNanos: UInt64) -> Bool {
        var deadline = timespec(
            tv_sec: Int(deadlineNanos / 1_000_000_000), tv_nsec: Int(deadlineNanos % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &deadline) == 0
    }

    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Wakes one waiter.
    public func signal() { pthread_cond_signal(condition) }
}

/// A value behind a pthread mutex. Used instead of Synchronization's `Mutex`, whose futex-based lock
/// ThreadSanitizer does not see: CI runs the suite under it, and every access would look like a race.
public final class Locked<Value>: @unchecked Sendable {
    @usableFromInline let mutex = Condition()
    @usableFromInline var value: Value

    public init(_ value: Value) { self.value = value }

    @inlinable
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(&value)
    }
}
