import Foundation
import POSIX

/// Threads for work that blocks (a platform call, a long-poll), so an event loop never does: a job
/// runs on an idle worker if there is one, else on a new thread; a worker idle for `idleSeconds` ends.
/// The pool has no upper bound of its own: what bounds it is the caller's connection cap, since a
/// connection has at most one request with a handler.
public final class WorkerPool: @unchecked Sendable {
    public let name: String
    private let idleSeconds: Double
    private let condition = Condition()
    // Guarded by `condition`.
    private var jobs: [@Sendable () -> Void] = []
    private var idle = 0
    private var workers = 0

    public init(name: String, idleSeconds: Double = 30) {
        self.name = name
        self.idleSeconds = idleSeconds
    }

    /// Threads alive now (busy or idle).
    public var threadCount: Int { condition.withLock { workers } }

    public func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        jobs.append(job)
        if jobs.count <= idle {
            condition.signal()
            return
        }
        workers += 1
        let thread = Thread { [self] in work() }
        thread.stackSize = 512 * 1024
        thread.start()
    }

    private func work() {
        CurrentThread.setName(name)
        condition.lock()
        while true {
            while jobs.isEmpty {
                idle += 1
                let woken = condition.wait(untilNanos: MonotonicClock.deadline(afterSeconds: idleSeconds))
                idle -= 1
                if !woken && jobs.isEmpty {
                    workers -= 1
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
            condition.lock()
        }
    }
}
