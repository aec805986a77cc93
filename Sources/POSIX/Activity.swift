/// Which threads are in a burst of work right now, so another thread can wait for those bursts to end.
///
/// The ledger's flusher uses it for group commit. A callback loop in the middle of its events is about
/// to append more lines, so the next fdatasync waits (for a bounded time) until the bursts running at
/// that moment are over, and covers their lines too. Starting at once would leave them for another
/// sync, and each sync costs CPU and disk round trips whatever it carries. Bursts that start after the
/// wait began are not waited for, so a loop that is never idle cannot hold a sync back for long.
public final class Activity: @unchecked Sendable {
    /// A worker's place in the activity, from `register()`.
    public struct Worker: Sendable {
        fileprivate let index: Int
    }

    private let condition = Condition()
    // Guarded by `condition`.
    /// Per worker, bumped at each begin and end: odd while a burst runs.
    private var bursts: [UInt64] = []
    private var waiters = 0

    public init() {}

    /// How many workers are in a burst now (for tests and diagnostics).
    public var burstsRunning: Int {
        condition.withLock { bursts.reduce(0) { $0 + Int($1 & 1) } }
    }

    public func register() -> Worker {
        condition.withLock {
            bursts.append(0)
            return Worker(index: bursts.count - 1)
        }
    }

    /// `worker` starts a burst (an event loop has events to handle).
    public func begin(_ worker: Worker) {
        condition.withLock {
            if bursts[worker.index] & 1 == 0 { bursts[worker.index] += 1 }
        }
    }

    /// `worker`'s burst is over.
    public func end(_ worker: Worker) {
        condition.withLock {
            guard bursts[worker.index] & 1 == 1 else { return }
            bursts[worker.index] += 1
            if waiters > 0 { condition.broadcast() }
        }
    }

    /// Returns once every burst running at the time of the call has ended, or at `deadlineNanos`
    /// (CLOCK_MONOTONIC). Returns at once when none runs.
    public func waitForBurstsInProgress(untilNanos deadlineNanos: UInt64) {
        condition.lock()
        defer { condition.unlock() }
        let seen = bursts
        func running() -> Bool {
            seen.indices.contains { seen[$0] & 1 == 1 && bursts[$0] == seen[$0] }
        }
        guard running() else { return }
        waiters += 1
        defer { waiters -= 1 }
        while running() {
            if !condition.wait(untilNanos: deadlineNanos) && MonotonicClock.nowNanos() >= deadlineNanos {
                return
            }
        }
    }
}
