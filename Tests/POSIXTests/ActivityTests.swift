import Foundation
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Waiting for the bursts of work running now: what the ledger's group commit leans on.
@Suite struct ActivityTests {
    @Test func withNoBurstRunningTheWaitReturnsAtOnce() {
        let activity = Activity()
        let worker = activity.register()
        activity.begin(worker)
        activity.end(worker)
        // A deadline an hour away: returning at all shows it did not wait for it.
        activity.waitForBurstsInProgress(untilNanos: MonotonicClock.deadline(afterSeconds: 3600))
        #expect(activity.burstsRunning == 0)
    }

    @Test func theWaitReturnsOnlyOnceTheRunningBurstEnds() {
        let activity = Activity()
        let worker = activity.register()
        activity.begin(worker)
        let ended = Locked<Bool>(false)
        let waited = Locked<Bool>(false)
        let thread = Thread {
            activity.waitForBurstsInProgress(untilNanos: MonotonicClock.deadline(afterSeconds: 3600))
            #expect(ended.withLock { $0 }, "returned before the burst ended")
            waited.withLock { $0 = true }
        }
        thread.start()
        usleep(50_000)
        #expect(!waited.withLock { $0 })
        ended.withLock { $0 = true }
        activity.end(worker)
        let deadline = MonotonicClock.deadline(afterSeconds: 10)
        while !waited.withLock({ $0 }) && MonotonicClock.nowNanos() < deadline {
            usleep(1000)
        }
        #expect(waited.withLock { $0 })
    }

    @Test func aBurstThatNeverEndsHoldsTheWaitOnlyUntilTheDeadline() {
        let activity = Activity()
        activity.begin(activity.register())
        activity.waitForBurstsInProgress(untilNanos: MonotonicClock.deadline(afterSeconds: 0.05))
        #expect(activity.burstsRunning == 1, "returned at the deadline, the burst still running")
    }

    @Test func burstsThatStartAfterTheWaitBeganAreNotWaitedFor() {
        let activity = Activity()
        let first = activity.register()
        let second = activity.register()
        activity.begin(first)
        let waited = Locked<Bool>(false)
        let thread = Thread {
            activity.waitForBurstsInProgress(untilNanos: MonotonicClock.deadline(afterSeconds: 3600))
            waited.withLock { $0 = true }
        }
        thread.start()
        usleep(50_000)
        activity.begin(second)
        // The first worker ends its burst and starts another: the one waited for is over all the same.
        activity.end(first)
        activity.begin(first)
        let deadline = MonotonicClock.deadline(afterSeconds: 10)
        while !waited.withLock({ $0 }) && MonotonicClock.nowNanos() < deadline {
            usleep(1000)
        }
        #expect(waited.withLock { $0 })
        #expect(activity.burstsRunning == 2)
    }

    @Test func beginAndEndAreIdempotentPerWorker() {
        let activity = Activity()
        let worker = activity.register()
        activity.end(worker)
        #expect(activity.burstsRunning == 0, "an end without a begin changes nothing")
        activity.begin(worker)
        activity.begin(worker)
        #expect(activity.burstsRunning == 1)
        activity.end(worker)
        #expect(activity.burstsRunning == 0)
    }
}
