/// Every request the daemon knows, and every binding, indexed for O(1) lookups.
///
/// A pure value: no clocks, no I/O, no locks. The daemon owns one behind a mutex and passes `now` in.
/// A request moves issuing → pending → binding → bound, or issuing → failed; pending becomes expired
/// by time alone. `issuing` and `binding` are reservations held while the platform call or the ledger
/// write is in flight, so two racing callers can never both win.
public struct Registry: Sendable {
    enum Phase: Sendable, Equatable {
        case issuing
        case pending
        case binding(openId: String)
        /// The binding itself lives in `bindings`.
        case bound
        case failed
        case expired
    }

    struct Entry: Sendable {
        var request: PendingRequest?
        var phase: Phase
    }

    /// Requests this process knows from the journal or issued itself; bindings known only from the
    /// ledger have no entry here.
    private var entries: [String: Entry] = [:]
    private var bindings = BindingTable()
    /// Requests in issuing, pending or binding: what `requests.maxPending` limits. Includes requests
    /// that have expired until `expire(now:)` sweeps them.
    public private(set) var openCount = 0
    public var bindingCount: Int { bindings.count }

    public init() {}

    // MARK: - Issuing auth links

    public enum ReserveError: Error, Equatable, Sendable {
        case serialNoInUse
        case tooManyPending
    }

    /// Claims `request.serialNo` while the platform is asked for a link.
    public mutating func reserve(_ request: PendingRequest, maxOpen: Int) throws(ReserveError) {
        guard entries[request.serialNo] == nil, !bindings.contains(serialNo: request.serialNo) else {
            throw .serialNoInUse
        }
        guard openCount < maxOpen else { throw .tooManyPending }
        entries[request.serialNo] = Entry(request: request, phase: .issuing)
        openCount += 1
    }

    /// The platform gave a link and the journal holds the request: callbacks may now bind it.
    public mutating func confirm(serialNo: String) {
        guard entries[serialNo]?.phase == .issuing else { return }
        entries[serialNo]?.phase = .pending
    }

    /// The platform refused or never answered. The serialNo stays used: the platform may have seen it.
    public mutating func fail(serialNo: String) {
        guard let phase = entries[serialNo]?.phase, phase == .issuing || phase == .pending else { return }
        entries[serialNo]?.phase = .failed
        openCount -= 1
    }

    /// Undoes a reservation whose request was never sent anywhere (the journal could not be written).
    public mutating func release(serialNo: String) {
        guard entries[serialNo]?.phase == .issuing else { return }
        entries[serialNo] = nil
        openCount -= 1
    }

    // MARK: - Callbacks

    public enum BindDecision: Equatable, Sendable {
        /// Append this binding durably, then call `complete(_:)` (or `abandon` if the write failed).
        case proceed(PendingRequest)
        /// The same openId was already bound for this serialNo: answer SUCCESS, write nothing.
        case repeated(Binding)
        /// Bound to a different openId: a security event.
        case conflict(Binding)
        case unknownSerialNo
        case tokenMismatch
        case expired
        case userIdMismatch
        /// Another callback for this serialNo is being written right now.
        case inProgress
    }

    /// Decides a callback and, on `.proceed`, reserves the serialNo for this openId.
    /// `tokenMatches` compares the path token (in constant time; the caller owns the crypto).
    public mutating func beginBinding(
        serialNo: String, openId: String, userId: String?, now: Int64, tokenMatches: (String) -> Bool
    ) -> BindDecision {
        // One hash for the lookup and the update; `entries[key]?.phase = x` would hash again and go
        // through an Optional temporary (a heap-allocated accessor frame, on every callback).
        guard let index = entries.index(forKey: serialNo) else {
            // Bound before the journal was compacted: the ledger still answers repeats and conflicts.
            guard let binding = bindings.binding(serialNo: serialNo) else { return .unknownSerialNo }
            return binding.openId == openId ? .repeated(binding) : .conflict(binding)
        }
        let entry = entries.values[index]
        if let request = entry.request, !tokenMatches(request.token) { return .tokenMismatch }
        switch entry.phase {
        case .bound:
            guard let binding = bindings.binding(serialNo: serialNo) else { return .unknownSerialNo }
            return binding.openId == openId ? .repeated(binding) : .conflict(binding)
        case .binding:
            return .inProgress
        case .expired:
            return .expired
        case .issuing, .failed:
            return .unknownSerialNo
        case .pending:
            guard let request = entry.request else { return .unknownSerialNo }
            if let userId, userId != request.userId { return .userIdMismatch }
            if now >= request.expiresAt { return .expired }
            entries.values[index].phase = .binding(openId: openId)
            return .proceed(request)
        }
    }

    /// The binding's ledger line is durable: make it visible.
    public mutating func complete(_ binding: Binding) {
        guard bindings.insert(binding) else { return }
        settle(serialNo: binding.serialNo)
    }

    /// A bound request leaves the open count; its entry (if any) keeps the request for `status`.
    private mutating func settle(serialNo: String) {
        guard let index = entries.index(forKey: serialNo) else { return }
        if isOpen(entries.values[index].phase) { openCount -= 1 }
        entries.values[index].phase = .bound
    }

    /// The ledger write failed: the request is pending again, so the platform's retry can bind it.
    public mutating func abandon(serialNo: String) {
        guard let index = entries.index(forKey: serialNo), case .binding = entries.values[index].phase else {
            return
        }
        entries.values[index].phase = .pending
    }

    // MARK: - Replay at start-up

    public mutating func restore(pending request: PendingRequest) {
        guard entries[request.serialNo] == nil else { return }
        entries[request.serialNo] = Entry(request: request, phase: .pending)
        openCount += 1
    }

    public mutating func restore(failedSerialNo serialNo: String) {
        guard let entry = entries[serialNo], entry.phase == .pending else { return }
        entries[serialNo]?.phase = .failed
        openCount -= 1
    }

    /// A ledger line; the ledger may hold serialNos the journal no longer knows. A serialNo bound twice
    /// (a line repeated after a failed sync was retried) counts once.
    public mutating func restore(binding: Binding) {
        complete(binding)
    }

    /// The allocation-free form of `restore(binding:)` that start-up replay uses.
    /// Call `finishRestore()` after the last one, before anything else.
    public mutating func restoreBinding(
        serialNo: UnsafeBufferPointer<UInt8>, userId: UnsafeBufferPointer<UInt8>,
        openId: UnsafeBufferPointer<UInt8>,
        merchantId: String, businessId: String, boundAt: Int64
    ) {
        bindings.appendUnindexed(
            serialNo: serialNo, userId: userId, openId: openId, merchantId: merchantId,
            businessId: businessId,
            boundAt: boundAt)
    }

    /// After `restoreBinding` replay: indexes the bindings, and journaled requests the ledger shows
    /// bound leave the open count (one pass over the few requests, not a lookup per ledger line).
    public mutating func finishRestore() {
        bindings.buildIndexes()
        for (serialNo, entry) in entries
        where entry.phase == .pending && bindings.contains(serialNo: serialNo) {
            settle(serialNo: serialNo)
        }
    }

    public mutating func reserveBindingCapacity(_ count: Int, bytesPerBinding: Int) {
        bindings.reserveCapacity(count, bytesPerBinding: bytesPerBinding)
    }

    /// Forgets requests that are settled (bound, failed, expired), as the journal does when compacted.
    /// Bindings stay: they are the ledger.
    public mutating func forgetSettled() {
        entries = entries.filter { isOpen($0.value.phase) }
    }

    // MARK: - Expiry

    /// Marks pending requests past their expiry; returns how many were swept.
    @discardableResult
    public mutating func expire(now: Int64) -> Int {
        var swept = 0
        for (serialNo, entry) in entries where entry.phase == .pending {
            if let request = entry.request, now >= request.expiresAt {
                entries[serialNo]?.phase = .expired
                swept += 1
            }
        }
        openCount -= swept
        return swept
    }

    // MARK: - Queries

    public func latestBinding(userId: String) -> Binding? { bindings.latest(userId: userId) }

    public func bindings(openId: String) -> [Binding] { bindings.all(openId: openId) }

    /// A bound request known only from the ledger reports its boundAt as createdAt and expiresAt.
    public func status(serialNo: String, now: Int64) -> RequestStatus? {
        guard let entry = entries[serialNo] else {
            guard let binding = bindings.binding(serialNo: serialNo) else { return nil }
            return RequestStatus(
                serialNo: serialNo, userId: binding.userId, state: .bound, openId: binding.openId,
                createdAt: binding.boundAt, expiresAt: binding.boundAt, boundAt: binding.boundAt)
        }
        let state: RequestState
        var binding: Binding?
        switch entry.phase {
        case .bound:
            state = .bound
            binding = bindings.binding(serialNo: serialNo)
        case .failed:
            state = .failed
        case .expired:
            state = .expired
        case .issuing, .pending, .binding:
            state = (entry.request.map { now >= $0.expiresAt } ?? false) ? .expired : .pending
        }
        let request = entry.request
        return RequestStatus(
            serialNo: serialNo,
            userId: request?.userId ?? binding?.userId ?? "",
            state: state,
            openId: binding?.openId,
            createdAt: request?.createdAt ?? binding?.boundAt ?? 0,
            expiresAt: request?.expiresAt ?? binding?.boundAt ?? 0,
            boundAt: binding?.boundAt)
    }

    /// Pending requests, for rewriting the journal.
    public func pendingRequests() -> [PendingRequest] {
        entries.values.compactMap { entry in
            switch entry.phase {
            case .pending, .binding, .issuing: return entry.request
            default: return nil
            }
        }
    }

    private func isOpen(_ phase: Phase) -> Bool {
        switch phase {
        case .issuing, .pending, .binding: return true
        case .bound, .failed, .expired: return false
        }
    }
}
