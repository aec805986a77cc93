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

    @Test func anIdleWorkerIsReusedAndEndsAfterItsIdleTime() {
        let pool = WorkerPool(name: "test-work", idleSeconds: 0.3)
        for _ in 0..<5 {
            let done = DispatchSemaphore(value: 0)
            pool.run { done.signal() }
            #expect(done.wait(timeout: .now() + 5) == .success)
            usleep(20_000)  // let the worker go back to waiting
        }
        #expect(pool.threadCount == 1, "one thread did all five jobs")
        let deadline = Date().addingTimeInterval(5)
        while pool.threadCount > 0 && Date() < deadline { usleep(50_000) }
        #expect(pool.threadCount == 0)
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

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    func add() { lock.withLock { stored += 1 } }
    var value: Int { lock.withLock { stored } }
}
