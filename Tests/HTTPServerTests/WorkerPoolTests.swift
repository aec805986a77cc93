import Foundation
import HTTPServer
import Testing

@Suite struct WorkerPoolTests {
    @Test func aBlockedJobDoesNotHoldUpTheNext() {
        let pool = WorkerPool(name: "test-work")
        let gate = DispatchSemaphore(value: 0)
        let second = DispatchSemaphore(value: 0)
        let first = DispatchSemaphore(value: 0)
        pool.run {
            _ = gate.wait(timeout: .now() + 5)
            first.signal()
        }
        pool.run { second.signal() }
        #expect(second.wait(timeout: .now() + 5) == .success, "ran while the first job still waited")
        #expect(pool.threadCount == 2)
        gate.signal()
        #expect(first.wait(timeout: .now() + 5) == .success)
    }

    /// A job submitted while a worker waits idle runs on that worker. Whether the worker is back to
    /// waiting when the next job comes is up to the scheduler, so the jobs go one after another until
    /// one finds it there (the first, nearly always): a pool that never reuses a worker adds a thread
    /// for every job and fails.
    @Test func aJobSubmittedWhileAWorkerWaitsRunsOnIt() {
        let pool = WorkerPool(name: "test-work")
        runAndWait(pool)
        var reused = false
        for _ in 0..<200 where !reused {
            let threads = pool.threadCount
            runAndWait(pool)
            reused = pool.threadCount == threads
        }
        #expect(reused, "\(pool.threadCount) threads for 200 jobs run one at a time")
    }

    @Test func aWorkerIdleForItsIdleTimeEnds() {
        let pool = WorkerPool(name: "test-work", idleSeconds: 0.1)
        runAndWait(pool)
        #expect(waitUntil { pool.threadCount == 0 }, "\(pool.threadCount) threads left")
        // Work after that starts a new worker.
        runAndWait(pool)
    }

    @Test func manyJobsAllRun() {
        let pool = WorkerPool(name: "test-work")
        let group = DispatchGroup()
        let count = Counter()
        for _ in 0..<200 {
            group.enter()
            pool.run {
                count.add()
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 10) == .success)
        #expect(count.value == 200)
    }
}

/// Runs one job and returns once it has run.
private func runAndWait(_ pool: WorkerPool, sourceLocation: SourceLocation = #_sourceLocation) {
    let done = DispatchSemaphore(value: 0)
    pool.run { done.signal() }
    #expect(done.wait(timeout: .now() + 5) == .success, sourceLocation: sourceLocation)
}

/// Whether `condition` holds within 10 s (checked every 10 ms).
private func waitUntil(_ condition: () -> Bool) -> Bool {
    let deadline = DispatchTime.now() + 10
    while !condition() {
        guard DispatchTime.now() < deadline else { return false }
        usleep(10_000)
    }
    return true
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    func add() { lock.withLock { stored += 1 } }
    var value: Int { lock.withLock { stored } }
}
