import Correlation
import Testing

@Suite struct RegistryTests {
    // MARK: - Issuing

    @Test func happyPathReserveConfirmBindComplete() throws {
        var registry = Registry()
        let request = makeRequest()
        try registry.reserve(request, maxOpen: 10)
        #expect(registry.openCount == 1)
        #expect(registry.status(serialNo: "s-1", now: t0)?.state == .pending)
        registry.confirm(serialNo: "s-1")
        #expect(registry.journaledRequests(now: t0) == [request])

        #expect(registry.callback() == .proceed(request))
        #expect(registry.status(serialNo: "s-1", now: t0 + 1000)?.state == .pending)
        let binding = makeBinding()
        registry.complete(binding)

        #expect(registry.openCount == 0)
        #expect(registry.bindingCount == 1)
        #expect(registry.latestBinding(userId: "u-42") == binding)
        #expect(registry.bindings(openId: "open-1") == [binding])
        #expect(registry.journaledRequests(now: t0 + 2000).isEmpty)
        let status = try #require(registry.status(serialNo: "s-1", now: t0 + 2000))
        #expect(status.serialNo == "s-1")
        #expect(status.userId == "u-42")
        #expect(status.state == .bound)
        #expect(status.openId == "open-1")
        #expect(status.createdAt == t0)
        #expect(status.expiresAt == t0 + hour)
        #expect(status.boundAt == t0 + 1000)
    }

    @Test func serialNoInUseUnlessItsPlatformCallFailed() throws {
        var registry = Registry()
        try registry.reserve(makeRequest(), maxOpen: 10)
        #expect(throws: Registry.ReserveError.serialNoInUse) {
            try registry.reserve(makeRequest(userId: "other"), maxOpen: 10)
        }
        registry.confirm(serialNo: "s-1")
        #expect(throws: Registry.ReserveError.serialNoInUse) {
            try registry.reserve(makeRequest(userId: "other"), maxOpen: 10)
        }
        registry.fail(serialNo: "s-1")
        // The platform call failed: an app retrying with the same serialNo gets a new attempt.
        try registry.reserve(makeRequest(token: "tok-2"), maxOpen: 10)
        #expect(registry.openCount == 1)
        registry.confirm(serialNo: "s-1")
        #expect(registry.callback(token: "tok-1") == .tokenMismatch, "the failed attempt's token is gone")

        // Expired: refused for the retention after its expiry, then forgotten.
        var expiring = try Registry.withPending(makeRequest(serialNo: "s-3", expiresAt: t0 + 10))
        #expect(throws: Registry.ReserveError.serialNoInUse) {
            try expiring.reserve(
                makeRequest(serialNo: "s-3", createdAt: t0 + 10, expiresAt: t0 + hour), maxOpen: 10)
        }
        let retained = t0 + 10 + Registry.defaultExpiredRetention
        #expect(throws: Registry.ReserveError.serialNoInUse) {
            try expiring.reserve(
                makeRequest(serialNo: "s-3", createdAt: retained - 1, expiresAt: retained + hour), maxOpen: 10
            )
        }
        try expiring.reserve(
            makeRequest(serialNo: "s-3", createdAt: retained, expiresAt: retained + hour), maxOpen: 10)

        var bound = try Registry.withPending(makeRequest(serialNo: "s-2", token: "tok-2"))
        _ = bound.callback(serialNo: "s-2", token: "tok-2")
        bound.complete(makeBinding(serialNo: "s-2"))
        #expect(throws: Registry.ReserveError.serialNoInUse) {
            try bound.reserve(makeRequest(serialNo: "s-2"), maxOpen: 10)
        }
    }

    @Test func tooManyPendingAndSlotsFreeOnFail() throws {
        var registry = try Registry.withPending(
            makeRequest(serialNo: "a"), makeRequest(serialNo: "b"), maxOpen: 2)
        #expect(throws: Registry.ReserveError.tooManyPending) {
            try registry.reserve(makeRequest(serialNo: "c"), maxOpen: 2)
        }
        registry.fail(serialNo: "a")
        #expect(registry.openCount == 1)
        try registry.reserve(makeRequest(serialNo: "c"), maxOpen: 2)
        #expect(registry.openCount == 2)
    }

    @Test func slotsFreeOnComplete() throws {
        var registry = try Registry.withPending(makeRequest(serialNo: "a"), maxOpen: 1)
        #expect(throws: Registry.ReserveError.tooManyPending) {
            try registry.reserve(makeRequest(serialNo: "b"), maxOpen: 1)
        }
        #expect(registry.callback(serialNo: "a") == .proceed(makeRequest(serialNo: "a")))
        // Still open while the ledger write is in flight.
        #expect(throws: Registry.ReserveError.tooManyPending) {
            try registry.reserve(makeRequest(serialNo: "b"), maxOpen: 1)
        }
        registry.complete(makeBinding(serialNo: "a"))
        try registry.reserve(makeRequest(serialNo: "b"), maxOpen: 1)
    }

    @Test func slotsFreeOnExpire() throws {
        var registry = try Registry.withPending(makeRequest(serialNo: "a"), maxOpen: 1)
        #expect(registry.expire(now: t0 + hour - 1) == 0)
        #expect(throws: Registry.ReserveError.tooManyPending) {
            try registry.reserve(makeRequest(serialNo: "b"), maxOpen: 1)
        }
        #expect(registry.expire(now: t0 + hour) == 1)
        #expect(registry.openCount == 0)
        #expect(registry.expire(now: t0 + 2 * hour) == 0, "an expired request is swept once")
        #expect(registry.openCount == 0)
        try registry.reserve(makeRequest(serialNo: "b"), maxOpen: 1)
        #expect(registry.status(serialNo: "a", now: t0)?.state == .expired, "expiry is sticky once swept")
    }

    @Test func anExpiredRequestStopsCountingAtItsExpiryWithoutASweep() throws {
        var registry = try Registry.withPending(makeRequest(serialNo: "a"), maxOpen: 1)
        #expect(throws: Registry.ReserveError.tooManyPending) {
            try registry.reserve(makeRequest(serialNo: "b", createdAt: t0 + hour - 1), maxOpen: 1)
        }
        try registry.reserve(
            makeRequest(serialNo: "b", createdAt: t0 + hour, expiresAt: t0 + 2 * hour), maxOpen: 1)
        #expect(registry.openCount == 1)
        #expect(registry.status(serialNo: "a", now: t0 + hour)?.state == .expired)
    }

    @Test func expiryFollowsEachRequestsOwnTimeWhateverTheOrderOfIssue() throws {
        var registry = Registry()
        let expiries: [Int64] = [50, 10, 40, 10, 30, 20]
        for (index, offset) in expiries.enumerated() {
            try registry.reserve(makeRequest(serialNo: "s-\(index)", expiresAt: t0 + offset), maxOpen: 10)
            registry.confirm(serialNo: "s-\(index)")
        }
        // One request bound and one taken back to pending after a failed write: each expires once.
        _ = registry.callback(serialNo: "s-0", now: t0)
        registry.complete(makeBinding(serialNo: "s-0"))
        _ = registry.callback(serialNo: "s-2", now: t0)
        registry.abandon(serialNo: "s-2")
        #expect(registry.expire(now: t0 + 9) == 0)
        #expect(registry.expire(now: t0 + 10) == 2)
        #expect(registry.expire(now: t0 + 35) == 2)
        #expect(registry.openCount == 1)
        #expect(registry.expire(now: t0 + 100) == 1)
        #expect(registry.openCount == 0)
    }

    @Test func failMarksIssuingOrPendingAndIsIdempotent() throws {
        var registry = Registry()
        try registry.reserve(makeRequest(serialNo: "a"), maxOpen: 10)
        registry.fail(serialNo: "a")
        registry.fail(serialNo: "a")
        #expect(registry.openCount == 0)
        #expect(registry.status(serialNo: "a", now: t0)?.state == .failed)
        registry.fail(serialNo: "unknown")
        #expect(registry.openCount == 0)
        // A failed request cannot be bound, and is not confirmed later.
        registry.confirm(serialNo: "a")
        #expect(registry.status(serialNo: "a", now: t0)?.state == .failed)
        #expect(registry.callback(serialNo: "a") == .unknownSerialNo)
    }

    @Test func failDoesNotTouchABindingInFlight() throws {
        var registry = try Registry.withPending(makeRequest())
        _ = registry.callback()
        registry.fail(serialNo: "s-1")
        #expect(registry.openCount == 1)
        registry.complete(makeBinding())
        #expect(registry.openCount == 0)
        #expect(registry.status(serialNo: "s-1", now: t0)?.state == .bound)
    }

    // MARK: - Callbacks

    @Test func unknownSerialNo() {
        var registry = Registry()
        #expect(registry.callback(serialNo: "nope") == .unknownSerialNo)
    }

    @Test func callbackWhileIssuingIsUnknown() throws {
        var registry = Registry()
        try registry.reserve(makeRequest(), maxOpen: 10)
        #expect(registry.callback() == .unknownSerialNo)
    }

    @Test func tokenMismatch() throws {
        var registry = try Registry.withPending(makeRequest())
        #expect(registry.callback(token: "tok-2") == .tokenMismatch)
        #expect(registry.callback(token: "") == .tokenMismatch)
        // The mismatch reserved nothing: the right token still binds.
        #expect(registry.callback() == .proceed(makeRequest()))
    }

    @Test func tokenIsCheckedBeforeRevealingTheBoundOpenId() throws {
        var registry = try Registry.withPending(makeRequest())
        _ = registry.callback()
        registry.complete(makeBinding())
        #expect(registry.callback(openId: "open-1", token: "wrong") == .tokenMismatch)
        #expect(registry.callback(openId: "open-9", token: "wrong") == .tokenMismatch)
    }

    @Test func userIdMismatch() throws {
        var registry = try Registry.withPending(makeRequest(userId: "u-42"))
        #expect(registry.callback(userId: "u-43") == .userIdMismatch)
        #expect(registry.callback(userId: "") == .userIdMismatch)
        #expect(registry.callback(userId: "u-42") == .proceed(makeRequest()))
    }

    @Test func expiredByTimeAlone() throws {
        var registry = try Registry.withPending(makeRequest())
        #expect(registry.callback(now: t0 + hour) == .expired)
        #expect(registry.status(serialNo: "s-1", now: t0 + hour)?.state == .expired)
        #expect(registry.status(serialNo: "s-1", now: t0 + hour - 1)?.state == .pending)
        #expect(registry.callback(now: t0 + hour - 1) == .proceed(makeRequest()))
    }

    @Test func aRequestBeingBoundAtItsExpiryReadsPendingNotExpired() throws {
        var registry = try Registry.withPending(makeRequest())
        #expect(registry.callback(now: t0 + hour - 1) == .proceed(makeRequest()))
        // Its ledger write is running: it may yet end bound, so it does not read expired first.
        #expect(registry.status(serialNo: "s-1", now: t0 + hour)?.state == .pending)
        #expect(registry.expire(now: t0 + hour) == 0)
        registry.complete(makeBinding(boundAt: t0 + hour - 1))
        #expect(registry.status(serialNo: "s-1", now: t0 + hour)?.state == .bound)
    }

    @Test func expiredAfterSweep() throws {
        var registry = try Registry.withPending(makeRequest())
        registry.expire(now: t0 + hour)
        #expect(registry.callback(now: t0) == .expired)
    }

    @Test func secondConcurrentCallbackIsInProgress() throws {
        var registry = try Registry.withPending(makeRequest())
        #expect(registry.callback(openId: "open-1") == .proceed(makeRequest()))
        #expect(registry.callback(openId: "open-1") == .inProgress)
        #expect(registry.callback(openId: "open-2") == .inProgress)
    }

    @Test func repeatedSameOpenIdAndConflictingOpenId() throws {
        var registry = try Registry.withPending(makeRequest())
        _ = registry.callback(openId: "open-1")
        let binding = makeBinding(openId: "open-1")
        registry.complete(binding)
        #expect(registry.callback(openId: "open-1") == .repeated(binding))
        #expect(registry.callback(openId: "open-2") == .conflict(binding))
        // Neither changed anything.
        #expect(registry.bindingCount == 1)
        #expect(registry.bindings(openId: "open-2").isEmpty)
        #expect(registry.latestBinding(userId: "u-42") == binding)
    }

    @Test func abandonReturnsToPending() throws {
        var registry = try Registry.withPending(makeRequest())
        _ = registry.callback(openId: "open-1")
        registry.abandon(serialNo: "s-1")
        #expect(registry.openCount == 1)
        #expect(registry.status(serialNo: "s-1", now: t0)?.state == .pending)
        #expect(
            registry.callback(openId: "open-2") == .proceed(makeRequest()), "the platform's retry can bind it"
        )
        registry.abandon(serialNo: "unknown")
        #expect(registry.openCount == 1)
    }

    @Test func abandonIgnoresBoundRequests() throws {
        var registry = try Registry.withPending(makeRequest())
        _ = registry.callback()
        registry.complete(makeBinding())
        registry.abandon(serialNo: "s-1")
        #expect(registry.status(serialNo: "s-1", now: t0)?.state == .bound)
        #expect(registry.openCount == 0)
    }

    @Test func completeTwiceIndexesOnce() throws {
        var registry = try Registry.withPending(makeRequest())
        _ = registry.callback()
        registry.complete(makeBinding())
        registry.complete(makeBinding())
        #expect(registry.bindingCount == 1)
        #expect(registry.openCount == 0)
        #expect(registry.bindings(openId: "open-1").count == 1)
    }

    // MARK: - Replay

    @Test func restorePendingThenFailed() {
        var registry = Registry()
        registry.restore(pending: makeRequest(serialNo: "a"))
        registry.restore(pending: makeRequest(serialNo: "b"))
        #expect(registry.openCount == 2)
        registry.restore(failedSerialNo: "a")
        #expect(registry.openCount == 1)
        #expect(registry.status(serialNo: "a", now: t0)?.state == .failed)
        registry.restore(failedSerialNo: "a")
        registry.restore(failedSerialNo: "never-journaled")
        #expect(registry.openCount == 1)
        #expect(registry.status(serialNo: "never-journaled", now: t0) == nil)
    }

    @Test func restoreReplacesAFailedOrLongExpiredRequestOfTheSameSerialNo() {
        var registry = Registry()
        registry.restore(pending: makeRequest(serialNo: "a", token: "tok-old"))
        registry.restore(failedSerialNo: "a")
        registry.restore(pending: makeRequest(serialNo: "a", token: "tok-new"))
        #expect(registry.openCount == 1)
        #expect(
            registry.callback(serialNo: "a", token: "tok-new")
                == .proceed(makeRequest(serialNo: "a", token: "tok-new")))

        let reissuedAt = t0 + hour + Registry.defaultExpiredRetention
        registry.restore(pending: makeRequest(serialNo: "b", token: "tok-old"))
        registry.restore(pending: makeRequest(serialNo: "b", token: "tok-early", createdAt: reissuedAt - 1))
        registry.restore(
            pending: makeRequest(
                serialNo: "b", token: "tok-new", createdAt: reissuedAt, expiresAt: reissuedAt + hour))
        #expect(registry.openCount == 2)
        #expect(
            registry.callback(serialNo: "b", now: reissuedAt + 1, token: "tok-new")
                == .proceed(
                    makeRequest(
                        serialNo: "b", token: "tok-new", createdAt: reissuedAt, expiresAt: reissuedAt + hour))
        )
    }

    @Test func restorePendingTwiceCountsOnce() {
        var registry = Registry()
        registry.restore(pending: makeRequest())
        registry.restore(pending: makeRequest(userId: "other"))
        #expect(registry.openCount == 1)
        #expect(registry.status(serialNo: "s-1", now: t0)?.userId == "u-42")
    }

    @Test func restoredPendingCanBeBound() {
        var registry = Registry()
        registry.restore(pending: makeRequest())
        #expect(registry.callback() == .proceed(makeRequest()))
    }

    @Test func restoreBindingOfAJournaledRequest() {
        var registry = Registry()
        registry.restore(pending: makeRequest())
        registry.restore(binding: makeBinding())
        #expect(registry.openCount == 0)
        #expect(registry.bindingCount == 1)
        #expect(registry.status(serialNo: "s-1", now: t0)?.state == .bound)
        #expect(registry.callback(openId: "open-1") == .repeated(makeBinding()))
        #expect(registry.callback(openId: "open-1", token: "wrong") == .tokenMismatch)
    }

    @Test func restoreBindingForASerialNoNeverJournaled() throws {
        var registry = Registry()
        let binding = makeBinding(serialNo: "old", userId: "u-7", openId: "open-7", boundAt: t0)
        registry.restore(binding: binding)
        #expect(registry.openCount == 0)
        #expect(registry.bindingCount == 1)
        #expect(registry.latestBinding(userId: "u-7") == binding)
        let status = try #require(registry.status(serialNo: "old", now: t0 + hour))
        #expect(status.state == .bound)
        #expect(status.userId == "u-7")
        #expect(status.openId == "open-7")
        #expect(status.boundAt == t0)
        // No token is known, so any callback for it is judged by openId alone.
        #expect(registry.callback(serialNo: "old", openId: "open-7", token: "x") == .repeated(binding))
        #expect(registry.callback(serialNo: "old", openId: "open-8", token: "x") == .conflict(binding))
        #expect(throws: Registry.ReserveError.serialNoInUse) {
            try registry.reserve(makeRequest(serialNo: "old"), maxOpen: 10)
        }
    }

    @Test func duplicateLedgerLinesCountOnce() {
        var registry = Registry()
        registry.restore(binding: makeBinding())
        registry.restore(binding: makeBinding())
        registry.restore(binding: makeBinding(openId: "open-other"))
        #expect(registry.bindingCount == 1)
        #expect(registry.bindings(openId: "open-1").count == 1)
        #expect(registry.bindings(openId: "open-other").isEmpty, "the first line for a serialNo wins")
    }

    @Test func restoreFailedAfterBindingKeepsTheBinding() {
        var registry = Registry()
        registry.restore(binding: makeBinding())
        registry.restore(failedSerialNo: "s-1")
        #expect(registry.status(serialNo: "s-1", now: t0)?.state == .bound)
        #expect(registry.openCount == 0)
    }

    // MARK: - Queries

    @Test func latestBindingPicksNewest() {
        var registry = Registry()
        registry.restore(binding: makeBinding(serialNo: "a", openId: "o-a", boundAt: t0 + 5))
        registry.restore(binding: makeBinding(serialNo: "b", openId: "o-b", boundAt: t0 + 9))
        // An older line that replays later (a clock step) does not win.
        registry.restore(binding: makeBinding(serialNo: "c", openId: "o-c", boundAt: t0 + 1))
        #expect(registry.latestBinding(userId: "u-42")?.serialNo == "b")
        registry.restore(binding: makeBinding(serialNo: "d", openId: "o-d", boundAt: t0 + 9))
        #expect(registry.latestBinding(userId: "u-42")?.serialNo == "d", "on a tie, the later line wins")
        #expect(registry.latestBinding(userId: "nobody") == nil)
    }

    @Test func bindingsForAnOpenIdListEveryUser() {
        var registry = Registry()
        let first = makeBinding(serialNo: "a", userId: "u-1", openId: "shared")
        let second = makeBinding(serialNo: "b", userId: "u-2", openId: "shared")
        registry.restore(binding: first)
        registry.restore(binding: makeBinding(serialNo: "c", userId: "u-3", openId: "other"))
        registry.restore(binding: second)
        #expect(registry.bindings(openId: "shared") == [first, second])
        #expect(registry.bindings(openId: "none").isEmpty)
    }

    @Test func statusStates() throws {
        var registry = Registry()
        try registry.reserve(makeRequest(serialNo: "issuing"), maxOpen: 10)
        for serialNo in ["pending", "binding", "bound", "failed", "swept"] {
            try registry.reserve(
                makeRequest(serialNo: serialNo, expiresAt: t0 + (serialNo == "swept" ? 10 : hour)),
                maxOpen: 10)
            registry.confirm(serialNo: serialNo)
        }
        _ = registry.callback(serialNo: "binding")
        _ = registry.callback(serialNo: "bound")
        registry.complete(makeBinding(serialNo: "bound"))
        registry.fail(serialNo: "failed")
        registry.expire(now: t0 + 10)

        let now = t0 + 20
        #expect(registry.status(serialNo: "issuing", now: now)?.state == .pending)
        #expect(registry.status(serialNo: "pending", now: now)?.state == .pending)
        #expect(registry.status(serialNo: "binding", now: now)?.state == .pending)
        #expect(registry.status(serialNo: "bound", now: now)?.state == .bound)
        #expect(registry.status(serialNo: "failed", now: now)?.state == .failed)
        #expect(registry.status(serialNo: "swept", now: now)?.state == .expired)
        #expect(
            registry.status(serialNo: "pending", now: t0 + hour)?.state == .expired,
            "expired by time, unswept")
        #expect(registry.status(serialNo: "missing", now: now) == nil)

        let pending = try #require(registry.status(serialNo: "pending", now: now))
        #expect(pending.openId == nil)
        #expect(pending.boundAt == nil)
        #expect(pending.createdAt == t0)
        #expect(pending.expiresAt == t0 + hour)
        #expect(
            Set(registry.journaledRequests(now: now).map(\.serialNo)) == [
                "issuing", "pending", "binding", "swept",
            ],
            "an expired request stays journaled: its serialNo stays refused after a restart")
        #expect(
            Set(registry.journaledRequests(now: t0 + 10 + Registry.defaultExpiredRetention).map(\.serialNo))
                == ["issuing", "pending", "binding"])
    }

    // MARK: - Storage: issuance order, growth, compaction

    @Test func tenThousandRequestsStayFindableWhileTheIndexGrows() throws {
        var registry = Registry()
        let count = 10_000
        for index in 0..<count {
            try registry.reserve(makeRequest(serialNo: "s-\(index)", token: "tok-\(index)"), maxOpen: count)
            registry.confirm(serialNo: "s-\(index)")
        }
        for index in stride(from: 0, to: count, by: 2) {
            let decision = registry.callback(
                serialNo: "s-\(index)", openId: "o-\(index)", token: "tok-\(index)")
            #expect(decision == .proceed(makeRequest(serialNo: "s-\(index)", token: "tok-\(index)")))
            registry.complete(makeBinding(serialNo: "s-\(index)", openId: "o-\(index)"))
        }
        #expect(registry.openCount == count / 2)
        for index in [0, 1, 4_095, 4_096, 8_191, 9_998, 9_999] {
            let state = registry.status(serialNo: "s-\(index)", now: t0 + 2000)?.state
            #expect(state == (index % 2 == 0 ? .bound : .pending), "s-\(index)")
        }
        #expect(registry.callback(serialNo: "s-\(count)", token: "tok-\(count)") == .unknownSerialNo)
        #expect(registry.callback(serialNo: "s-1", token: "tok-2") == .tokenMismatch)
    }

    @Test func pendingRequestsComeInTheOrderTheyWereIssued() throws {
        // The journal is rewritten from this list: compaction keeps the order a reader of the file
        // would expect, oldest first, instead of a hash table's.
        let serialNos = (0..<200).map { "s-\(($0 * 7_919) % 1_000)" }
        var registry = Registry()
        for serialNo in serialNos { try registry.reserve(makeRequest(serialNo: serialNo), maxOpen: 1_000) }
        registry.fail(serialNo: serialNos[3])
        #expect(
            registry.journaledRequests(now: t0).map(\.serialNo) == serialNos.filter { $0 != serialNos[3] })
    }

    @Test func forgetSettledKeepsOpenRequestsInOrderAndBindable() throws {
        var registry = Registry()
        for index in 0..<6 {
            try registry.reserve(makeRequest(serialNo: "s-\(index)", token: "tok-\(index)"), maxOpen: 10)
            registry.confirm(serialNo: "s-\(index)")
        }
        _ = registry.callback(serialNo: "s-0", token: "tok-0")
        registry.complete(makeBinding(serialNo: "s-0"))
        registry.fail(serialNo: "s-2")
        _ = registry.callback(serialNo: "s-3", openId: "open-3", token: "tok-3")  // in flight: kept

        registry.forgetSettled(now: t0)

        #expect(registry.journaledRequests(now: t0).map(\.serialNo) == ["s-1", "s-3", "s-4", "s-5"])
        #expect(registry.openCount == 4)
        #expect(registry.status(serialNo: "s-2", now: t0) == nil, "a failed request is forgotten")
        #expect(
            registry.status(serialNo: "s-0", now: t0 + 2000)?.state == .bound, "the ledger still knows it")
        #expect(registry.callback(serialNo: "s-3", openId: "open-3", token: "tok-3") == .inProgress)
        #expect(
            registry.callback(serialNo: "s-5", token: "tok-5")
                == .proceed(makeRequest(serialNo: "s-5", token: "tok-5")))
        try registry.reserve(makeRequest(serialNo: "s-6"), maxOpen: 10)
        #expect(registry.status(serialNo: "s-6", now: t0)?.state == .pending)
    }

    @Test func aFailedSerialNoIsReusedInPlaceAndNeverListedTwice() throws {
        var registry = Registry()
        try registry.reserve(makeRequest(serialNo: "a"), maxOpen: 10)
        try registry.reserve(makeRequest(serialNo: "b"), maxOpen: 10)
        registry.fail(serialNo: "a")
        #expect(registry.callback(serialNo: "a") == .unknownSerialNo)
        #expect(registry.journaledRequests(now: t0).map(\.serialNo) == ["b"])
        try registry.reserve(makeRequest(serialNo: "a", token: "tok-new"), maxOpen: 10)
        registry.confirm(serialNo: "a")
        #expect(registry.journaledRequests(now: t0).map(\.serialNo) == ["a", "b"])
        #expect(registry.callback(serialNo: "a", token: "tok-1") == .tokenMismatch, "the old token is gone")
        #expect(
            registry.callback(serialNo: "a", token: "tok-new")
                == .proceed(makeRequest(serialNo: "a", token: "tok-new")))
        #expect(registry.openCount == 2)
    }
}
