import Dispatch
import Logging
import Synchronization
import Testing

/// A clock the test moves by hand: no sleeps.
final class ManualClock: Sendable {
    private let nanos = Atomic<UInt64>(1_000_000_000)
    func advance(seconds: Double) { nanos.add(UInt64(seconds * 1e9), ordering: .relaxed) }
    var now: @Sendable () -> UInt64 { { [self] in nanos.load(ordering: .relaxed) } }
}

final class CallCounter: Sendable {
    private let count = Atomic<Int>(0)
    func next() -> Int { count.add(1, ordering: .relaxed).newValue }
}

private let signature = AuditKind("signature_invalid")
private let token = AuditKind("token_mismatch")

/// Decides `count` events of `kind` and returns how many were let through.
private func admitted(_ limiter: AuditLimiter, _ kind: AuditKind, count: Int) -> Int {
    (0..<count).filter { _ in limiter.decide(kind) != .drop }.count
}

@Suite struct AuditLimiterTests {
    @Test func defaultsAreABurstOf20Then1PerSecond() {
        let limiter = AuditLimiter()
        #expect(limiter.burst == 20)
        #expect(limiter.perSecond == 1)
    }

    @Test func aBurstGoesThroughThenEventsAreDropped() {
        let clock = ManualClock()
        let limiter = AuditLimiter(burst: 20, perSecond: 1, now: clock.now)
        for _ in 0..<20 { #expect(limiter.decide(signature) == .log(suppressed: 0)) }
        #expect(limiter.decide(signature) == .drop)
        #expect(admitted(limiter, signature, count: 500) == 0)
    }

    @Test func tokensRefillAtTheRateUpToTheBurst() {
        let clock = ManualClock()
        let limiter = AuditLimiter(burst: 3, perSecond: 2, now: clock.now)
        #expect(admitted(limiter, signature, count: 10) == 3)
        clock.advance(seconds: 0.4)
        #expect(admitted(limiter, signature, count: 10) == 0, "0.8 of a token is not a line")
        clock.advance(seconds: 0.1)
        #expect(admitted(limiter, signature, count: 10) == 1)
        clock.advance(seconds: 1)
        #expect(admitted(limiter, signature, count: 10) == 2)
        // A long quiet spell refills to the burst, never beyond it.
        clock.advance(seconds: 3600)
        #expect(admitted(limiter, signature, count: 10) == 3)
    }

    @Test func theNextLineThroughReportsHowManyWereDropped() {
        let clock = ManualClock()
        let limiter = AuditLimiter(burst: 2, perSecond: 1, now: clock.now)
        #expect(admitted(limiter, signature, count: 2 + 7) == 2)
        clock.advance(seconds: 1)
        #expect(limiter.decide(signature) == .log(suppressed: 7))
        clock.advance(seconds: 1)
        #expect(limiter.decide(signature) == .log(suppressed: 0), "a count is reported once")
    }

    @Test func kindsAreLimitedIndependently() {
        let clock = ManualClock()
        let limiter = AuditLimiter(burst: 5, perSecond: 1, now: clock.now)
        #expect(admitted(limiter, signature, count: 100) == 5)
        #expect(admitted(limiter, token, count: 3) == 3, "one kind's flood does not silence another")
        #expect(limiter.drainSuppressed().map { "\($0.kind)=\($0.suppressed)" } == ["signature_invalid=95"])
    }

    @Test func drainReportsEachPendingCountOnceAndResetsIt() {
        let clock = ManualClock()
        let limiter = AuditLimiter(burst: 1, perSecond: 1, now: clock.now)
        #expect(limiter.drainSuppressed().isEmpty)
        _ = admitted(limiter, token, count: 4)
        _ = admitted(limiter, signature, count: 2)
        #expect(
            limiter.drainSuppressed().map { "\($0.kind)=\($0.suppressed)" } == [
                "signature_invalid=1", "token_mismatch=3",
            ])
        #expect(limiter.drainSuppressed().isEmpty)
        clock.advance(seconds: 1)
        #expect(limiter.decide(token) == .log(suppressed: 0), "drained counts are not reported again")
    }

    @Test func aClockGoingBackwardsRefillsNothing() {
        let clock = ManualClock()
        clock.advance(seconds: 10)
        let later = clock.now
        let calls = CallCounter()
        let limiter = AuditLimiter(
            burst: 1, perSecond: 1,
            now: {
                // First call at t, every later call 5 s earlier.
                calls.next() == 1 ? later() : later() - 5_000_000_000
            })
        #expect(limiter.decide(signature) == .log(suppressed: 0))
        #expect(limiter.decide(signature) == .drop)
        #expect(limiter.decide(signature) == .drop)
    }

    @Test func concurrentEventsAreAllCountedAndTheBurstHolds() {
        let clock = ManualClock()
        let limiter = AuditLimiter(burst: 20, perSecond: 1, now: clock.now)
        let logged = Atomic<Int>(0)
        let reported = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for _ in 0..<2000 {
                if case .log(let suppressed) = limiter.decide(thread % 2 == 0 ? signature : token) {
                    logged.add(1, ordering: .relaxed)
                    reported.add(suppressed, ordering: .relaxed)
                }
            }
        }
        #expect(logged.load(ordering: .relaxed) == 40)
        let dropped = limiter.drainSuppressed().map(\.suppressed).reduce(0, +)
        #expect(logged.load(ordering: .relaxed) + reported.load(ordering: .relaxed) + dropped == 16_000)
    }
}
