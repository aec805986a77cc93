import Correlation
import Crypto
import Ledger
import Logging
import POSIX
import Platform

/// The daemon's domain operations, shared by the IPC API and the callback endpoint: issuing auth links,
/// binding callbacks, and answering lookups. The registry lives behind one lock; platform calls and
/// ledger syncs happen outside it, guarded by the registry's reservations.
public final class BindingService: @unchecked Sendable {
    public struct Settings: Sendable {
        public var account: PlatformAccount
        /// `callback.publicUrl` without a trailing slash; each request's callbackUrl is this plus `/{token}`.
        public var publicUrl: String
    }

    private let condition = Condition()
    // Guarded by `condition`.
    private var registry: Registry
    private var shuttingDown = false
    private var lastPlatformError: (description: String, at: Int64)?
    /// Callbacks that came while another for the same serialNo was being written, by serialNo: each
    /// is decided again once that write's outcome is known (SUCCESS for the same openId, 409 for
    /// another), instead of being told to retry.
    private var waitingCallbacks: [String: [@Sendable () -> Void]] = [:]

    /// Behind its own lock: every callback reads the keys, and should not queue behind the registry.
    private let live: Locked<Reloadable>

    public let settings: Settings
    public let store: Store
    private let logger: Logger
    let metrics: DaemonMetrics

    /// What a reload (SIGHUP) may change without a restart.
    public struct Reloadable: Sendable {
        public var platform: PlatformClient
        public var ttlSeconds: Int
        public var maxPending: Int
        public init(platform: PlatformClient, ttlSeconds: Int, maxPending: Int) {
            self.platform = platform
            self.ttlSeconds = ttlSeconds
            self.maxPending = maxPending
        }
    }

    public init(
        settings: Settings, reloadable: Reloadable, store: Store, registry: Registry, logger: Logger,
        metrics: DaemonMetrics
    ) {
        self.settings = settings
        self.live = Locked(reloadable)
        self.store = store
        self.registry = registry
        self.logger = logger
        self.metrics = metrics
    }

    /// The keys in force (a reload may have replaced them).
    public var keys: SigningKeys { live.withLock { $0.platform.keys } }

    /// Swaps in reloaded keys, timeouts and limits; requests already in flight finish with the old ones.
    public func reload(_ reloadable: Reloadable) {
        live.withLock { $0 = reloadable }
    }

    // MARK: - Issuing auth links

    public struct IssuedLink: Sendable {
        public let request: PendingRequest
        public let alipayAuthUrl: String
    }

    public enum IssueError: Error, Sendable {
        case serialNoInUse
        case tooManyPending
        case platform(PlatformError)
        case storage(String)
        case shuttingDown
    }

    public func issueAuthLink(userId: String, serialNo requested: String?, requestId: String = "")
        -> Result<IssuedLink, IssueError>
    {
        let result = issue(userId: userId, serialNo: requested, requestId: requestId)
        switch result {
        case .success: metrics.authLinksIssued.increment()
        case .failure(let error): metrics.recordIssueFailure(error)
        }
        return result
    }

    private func issue(userId: String, serialNo requested: String?, requestId: String)
        -> Result<IssuedLink, IssueError>
    {
        let now = WallClock.nowMilliseconds()
        let (platform, ttlSeconds, maxPending) = live.withLock { ($0.platform, $0.ttlSeconds, $0.maxPending) }
        // 144 random bits for the serialNo, 256 for the callback token: neither can be guessed.
        let serialNo = requested ?? SecureRandom.token(byteCount: 18)
        let token = SecureRandom.token(byteCount: 32)
        let request = PendingRequest(
            serialNo: serialNo, userId: userId, token: token, callbackUrl: settings.publicUrl + "/" + token,
            createdAt: now, expiresAt: now + Int64(ttlSeconds) * 1000)
        let reserved: Result<Void, IssueError> = condition.withLock {
            if shuttingDown { return .failure(.shuttingDown) }
            do {
                try registry.reserve(request, maxOpen: maxPending)
            } catch let error as Registry.ReserveError {
                return .failure(error == .serialNoInUse ? .serialNoInUse : .tooManyPending)
            } catch {
                return .failure(.tooManyPending)
            }
            return .success(())
        }
        if case .failure(let error) = reserved { return .failure(error) }

        let log = logger.with("request", requestId).with("serialNo", serialNo).with("userId", userId)
        let link: String
        let platformStartedAt = MonotonicClock.nowNanos()
        let answer = Result { () throws(PlatformError) in
            try platform.requestAuthLink(
                serialNo: serialNo, userId: userId, callbackUrl: request.callbackUrl,
                nonce: SecureRandom.token(byteCount: 16), timestamp: WallClock.nowMilliseconds())
        }
        metrics.platformRequestDuration.observe(Double(MonotonicClock.nowNanos() - platformStartedAt) / 1e9)
        switch answer {
        case .success(let url):
            link = url
        case .failure(let error):
            log.warning("auth link refused", [("reason", error.description)])
            // Journaled before the serialNo is released for reuse, so that it can never follow the
            // pending line of a retry with the same serialNo. Best effort: the line is informational.
            try? store.append(.failed(serialNo: serialNo))
            condition.withLock {
                registry.fail(serialNo: serialNo)
                lastPlatformError = (error.description, WallClock.nowMilliseconds())
            }
            return .failure(.platform(error))
        }
        do {
            try store.append(.pending(request))
        } catch {
            log.error("pending request not journaled; link withheld", [("error", "\(error)")])
            // Failed as a platform refusal is: the app's retry with this serialNo gets a new attempt.
            condition.withLock { registry.fail(serialNo: serialNo) }
            return .failure(.storage("\(error)"))
        }
        condition.withLock {
            registry.confirm(serialNo: serialNo)
            condition.broadcast()
        }
        log.info("auth link issued")
        return .success(IssuedLink(request: request, alipayAuthUrl: link))
    }

    // MARK: - Callbacks

    public enum CallbackOutcome: Sendable, Equatable {
        case bound(Binding)
        case repeated(Binding)
        case conflict(existing: Binding)
        case unknownSerialNo
        case tokenMismatch
        case expired
        case userIdMismatch
        case storageFailed(String)
    }

    /// Binds `openId` to the request behind `serialNo` if `token` is its path token. `completion` gets
    /// the outcome: at once when there is nothing to write, else from the ledger's sync thread once the
    /// line is fsynced (or once the line of another callback for this serialNo, in flight, is).
    /// Never blocks on the disk, so the callback port's event loop can call it.
    public func bind(
        serialNo: String, token: String, openId: String, userId: String?,
        completion: @escaping @Sendable (CallbackOutcome) -> Void
    ) {
        let now = WallClock.nowMilliseconds()
        let decision = condition.withLock {
            let decision = registry.beginBinding(serialNo: serialNo, openId: openId, userId: userId, now: now)
            {
                constantTimeEquals($0, token)
            }
            if decision == .inProgress {
                // Queued in the same lock scope that saw the write in flight, so its outcome cannot be missed.
                waitingCallbacks[serialNo, default: []].append { [self] in
                    bind(
                        serialNo: serialNo, token: token, openId: openId, userId: userId,
                        completion: completion)
                }
            }
            return decision
        }
        switch decision {
        case .unknownSerialNo: completion(.unknownSerialNo)
        case .tokenMismatch: completion(.tokenMismatch)
        case .expired: completion(.expired)
        case .userIdMismatch: completion(.userIdMismatch)
        case .inProgress: break
        case .repeated(let binding): completion(.repeated(binding))
        case .conflict(let binding): completion(.conflict(existing: binding))
        case .proceed(let request):
            let binding = Binding(
                serialNo: serialNo, userId: request.userId, openId: openId,
                merchantId: settings.account.merchantId,
                businessId: settings.account.businessId, boundAt: now)
            store.append(binding) { [self] error in
                let waiting = condition.withLock {
                    if error == nil {
                        registry.complete(binding)
                        condition.broadcast()
                    } else {
                        registry.abandon(serialNo: serialNo)
                    }
                    return waitingCallbacks.isEmpty
                        ? [] : waitingCallbacks.removeValue(forKey: serialNo) ?? []
                }
                completion(error.map { .storageFailed("\($0)") } ?? .bound(binding))
                // Decided now: a repeat or a conflict answers at once; after a failed write, the
                // first of them writes its own line and the others wait for that.
                for callback in waiting { callback() }
            }
        }
    }

    // MARK: - Lookups

    public func latestBinding(userId: String) -> Binding? {
        condition.withLock { registry.latestBinding(userId: userId) }
    }

    public func bindings(openId: String) -> [Binding] {
        condition.withLock { registry.bindings(openId: openId) }
    }

    /// The request's status; with `waitSeconds`, waits until it leaves `pending` or the time is up.
    public func status(serialNo: String, waitSeconds: Double) -> RequestStatus? {
        let deadline = MonotonicClock.deadline(afterSeconds: waitSeconds)
        return condition.withLock {
            while true {
                let now = WallClock.nowMilliseconds()
                guard let status = registry.status(serialNo: serialNo, now: now) else { return nil }
                guard status.state == .pending, !shuttingDown, MonotonicClock.nowNanos() < deadline else {
                    return status
                }
                // Wake at the earlier of the wait's end and the request's expiry.
                let untilExpiry = UInt64(max(status.expiresAt - now, 0)) * 1_000_000
                condition.wait(untilNanos: min(deadline, MonotonicClock.nowNanos() + untilExpiry))
            }
        }
    }

    public struct Counts: Sendable {
        public let pending: Int
        public let bindings: Int
        public let lastPlatformError: String?
        /// When it happened (Unix ms).
        public let lastPlatformErrorAt: Int64?
    }

    public var counts: Counts {
        condition.withLock {
            // Requests stop counting as pending at their expiry, not at the next sweep.
            if registry.expire(now: WallClock.nowMilliseconds()) > 0 { condition.broadcast() }
            return Counts(
                pending: registry.openCount, bindings: registry.bindingCount,
                lastPlatformError: lastPlatformError?.description, lastPlatformErrorAt: lastPlatformError?.at)
        }
    }

    /// Moves pending requests past their expiry out of the pending count.
    public func sweepExpired() {
        let swept = condition.withLock {
            let count = registry.expire(now: WallClock.nowMilliseconds())
            if count > 0 { condition.broadcast() }
            return count
        }
        if swept > 0 { logger.info("pending requests expired", [("count", String(swept))]) }
    }

    /// Compacts the pending journal once it holds mostly settled requests: bound, failed and long
    /// expired entries are dropped, and the rewrite is atomic. Returns whether it ran.
    @discardableResult
    public func compactJournalIfWorthwhile(minimumBytes: Int = 1 << 20) -> Bool {
        let now = WallClock.nowMilliseconds()
        let kept = condition.withLock { registry.journaledRequests(now: now).count }
        // A journal line is about 250 bytes; compact when the file is several times what it keeps.
        guard store.journal.length > max(minimumBytes, kept * 250 * 4) else { return false }
        do {
            try store.compactJournal {
                condition.withLock {
                    registry.forgetSettled(now: now)
                    return registry.journaledRequests(now: now)
                }
            }
            logger.info(
                "pending journal compacted",
                [("kept", String(kept)), ("bytes", String(store.journal.length))])
            return true
        } catch {
            logger.error("pending journal compaction failed; will retry", [("error", "\(error)")])
            return false
        }
    }

    /// New auth links are refused and long-polls answer at once.
    public func beginShutdown() {
        condition.withLock {
            shuttingDown = true
            condition.broadcast()
        }
    }
}
