/// Every request the daemon knows, and every binding, indexed for O(1) lookups.
///
/// A pure value: no clocks, no I/O, no locks. The daemon owns one behind a mutex and passes `now` in.
/// A request moves issuing → pending → binding → bound, or issuing → failed; pending becomes expired
/// by time alone. `issuing` and `binding` are reservations held while the platform call or the ledger
/// write is in flight, so two racing callers can never both win.
///
/// A serialNo whose platform call failed may be issued again at once; one pending, bound or expired
/// may not (expired for `expiredRetention` after its expiry, when it is forgotten). The rule reads
/// only the request's phase and times, so it is the same before and after a restart or a compaction.
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
        var request: PendingRequest
        var phase: Phase
    }

    /// Requests this process knows from the journal or issued itself, in the order they were issued
    /// or replayed; bindings known only from the ledger have no entry here.
    ///
    /// Customers authorize roughly in the order their links were issued, so consecutive callbacks
    /// touch neighbouring entries; a Dictionary would scatter them by hash, and with 350k pending
    /// requests each callback would pay cache and TLB misses into a 50 MB table under the registry's lock.
    private var entries: [Entry] = []
    /// serialNo → position in `entries`. Entries are never removed one by one; `forgetSettled` rebuilds
    /// both.
    private var bySerialNo = HashIndex()
    private var bindings = BindingTable()
    /// Pending entries by expiry, for `expire(now:)`. Items whose entry has moved on since (bound,
    /// failed, or pending again with another expiry) are dropped when they come up.
    private var expiries = ExpiryHeap()
    /// Requests in issuing, pending or binding: what `requests.maxPending` limits, as of the last
    /// `expire(now:)` (which `reserve` runs first).
    public private(set) var openCount = 0
    public var bindingCount: Int { bindings.count }
    /// How long an expired request's serialNo stays refused (and journaled) after its expiry.
    public let expiredRetention: Int64

    public static let defaultExpiredRetention: Int64 = 24 * 3600 * 1000

    public init(expiredRetention: Int64 = Registry.defaultExpiredRetention) {
        self.expiredRetention = expiredRetention
    }

    // MARK: - The entries

    private static func hash(_ serialNo: String) -> Int {
        var key = serialNo
        return key.withUTF8 { BindingTable.hash($0) }
    }

    private func position(of serialNo: String, hash: Int? = nil) -> Int? {
        var key = serialNo
        return key.withUTF8 { key in
            bySerialNo.find(hash: hash ?? BindingTable.hash(key)) { position in
                var candidate = entries[Int(position)].request.serialNo
                // Bytes compared directly: the generic `elementsEqual` walks them through iterators.
                return candidate.withUTF8 {
                    $0.count == key.count
                        && (key.isEmpty || memcmpEqual($0.baseAddress!, key.baseAddress!, key.count))
                }
            }.map { Int($0) }
        }
    }

    private mutating func add(_ entry: Entry) {
        if let position = position(of: entry.request.serialNo) {
            entries[position] = entry
            return
        }
        // Grown at half load a little at a time, as the binding table's indexes are: no insert waits
        // for a whole rehash.
        if bySerialNo.needsGrowth(adding: 1) { bySerialNo.beginGrowth(to: max(16, bySerialNo.capacity * 2)) }
        bySerialNo.move(8)
        bySerialNo.insert(Int32(entries.count), hash: Self.hash(entry.request.serialNo))
        entries.append(entry)
    }

    /// Keeps only the entries `isIncluded` accepts, in order, and indexes them afresh.
    private mutating func keepEntries(where isIncluded: (Entry) -> Bool) {
        entries = entries.filter(isIncluded)
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        bySerialNo = HashIndex(capacity: capacity)
        for position in entries.indices {
            bySerialNo.insert(Int32(position), hash: Self.hash(entries[position].request.serialNo))
        }
        expiries = ExpiryHeap(
            entries.indices.filter { entries[$0].phase == .pending }.map {
                ExpiryHeap.Item(expiresAt: entries[$0].request.expiresAt, position: Int32($0))
            })
    }

    /// The entry at `position` became pending: it expires by time from now on.
    private mutating func scheduleExpiry(_ position: Int) {
        expiries.push(
            ExpiryHeap.Item(expiresAt: entries[position].request.expiresAt, position: Int32(position)))
    }

    /// Whether a new request may take the serialNo of this entry: its platform call failed, or it
    /// expired longer than `expiredRetention` ago.
    private func isReusable(_ entry: Entry, now: Int64) -> Bool {
        switch entry.phase {
        case .failed: return true
        case .expired: return now >= entry.request.expiresAt + expiredRetention
        case .issuing, .pending, .binding, .bound: return false
        }
    }

    // MARK: - Issuing auth links

    public enum ReserveError: Error, Equatable, Sendable {
        case serialNoInUse
        case tooManyPending
    }

    /// Claims `request.serialNo` while the platform is asked for a link; `request.createdAt` is now.
    /// Requests expired by then no longer count towards `maxOpen`.
    public mutating func reserve(_ request: PendingRequest, maxOpen: Int) throws(ReserveError) {
        let now = request.createdAt
        expire(now: now)
        if let position = position(of: request.serialNo), !isReusable(entries[position], now: now) {
            throw .serialNoInUse
        }
        if bindings.contains(serialNo: request.serialNo) { throw .serialNoInUse }
        guard openCount < maxOpen else { throw .tooManyPending }
        add(Entry(request: request, phase: .issuing))
        openCount += 1
    }

    /// The platform gave a link and the journal holds the request: callbacks may now bind it.
    public mutating func confirm(serialNo: String) {
        guard let position = position(of: serialNo), entries[position].phase == .issuing else { return }
        entries[position].phase = .pending
        scheduleExpiry(position)
    }

    /// The platform refused or never answered: the serialNo may be issued again (the platform judges).
    public mutating func fail(serialNo: String) {
        guard let position = position(of: serialNo),
            entries[position].phase == .issuing || entries[position].phase == .pending
        else { return }
        entries[position].phase = .failed
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
        // Fields are read in place: copying the whole entry would retain (touch) every string in it.
        guard let index = position(of: serialNo) else {
            // Bound before the journal was compacted: the ledger still answers repeats and conflicts.
            guard let binding = bindings.binding(serialNo: serialNo) else { return .unknownSerialNo }
            return binding.openId == openId ? .repeated(binding) : .conflict(binding)
        }
        if !tokenMatches(entries[index].request.token) { return .tokenMismatch }
        switch entries[index].phase {
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
            if let userId, userId != entries[index].request.userId { return .userIdMismatch }
            if now >= entries[index].request.expiresAt { return .expired }
            entries[index].phase = .binding(openId: openId)
            return .proceed(entries[index].request)
        }
    }

    /// The binding's ledger line is durable: make it visible.
    public mutating func complete(_ binding: Binding) {
        // The entry's index slot is a cache miss; ask for it now, so it overlaps the binding table's.
        let hash = Self.hash(binding.serialNo)
        if bySerialNo.home(hash: hash) == .max { BindingTable.keepLoad() }
        guard bindings.insert(binding) else { return }
        settle(serialNo: binding.serialNo, hash: hash)
    }

    /// A bound request leaves the open count; its entry (if any) keeps the request for `status`.
    private mutating func settle(serialNo: String, hash: Int? = nil) {
        guard let index = position(of: serialNo, hash: hash) else { return }
        if Self.isOpen(entries[index].phase) { openCount -= 1 }
        entries[index].phase = .bound
    }

    /// The ledger write failed: the request is pending again, so the platform's retry can bind it.
    public mutating func abandon(serialNo: String) {
        guard let index = position(of: serialNo), case .binding = entries[index].phase else { return }
        entries[index].phase = .pending
        scheduleExpiry(index)
    }

    // MARK: - Replay at start-up

    /// A journaled request. It replaces an earlier one of the same serialNo that `reserve` let it
    /// reuse: failed, or expired longer than the retention before this one was created.
    public mutating func restore(pending request: PendingRequest) {
        if let position = position(of: request.serialNo) {
            let earlier = entries[position]
            guard
                earlier.phase == .failed || earlier.request.expiresAt + expiredRetention <= request.createdAt
            else { return }
            if Self.isOpen(earlier.phase) { openCount -= 1 }
        }
        add(Entry(request: request, phase: .pending))
        scheduleExpiry(position(of: request.serialNo)!)
        openCount += 1
    }

    public mutating func restore(failedSerialNo serialNo: String) {
        guard let position = position(of: serialNo), entries[position].phase == .pending else { return }
        entries[position].phase = .failed
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

    /// A serialNo the ledger binds twice, to different openIds or userIds: the ledger contradicts
    /// itself. `first` is kept; positions count the bindings replayed, in ledger order.
    public struct Contradiction: Sendable, Equatable {
        public let first: Binding
        public let firstPosition: Int
        public let later: Binding
        public let laterPosition: Int
    }

    /// After `restoreBinding` replay: indexes the bindings, and journaled requests the ledger shows
    /// bound leave the open count (one pass over the few requests, not a lookup per ledger line).
    /// Returns the serialNos bound twice with different openIds or userIds; a line repeated whole
    /// (a retry after a failed sync) is no contradiction and counts once.
    @discardableResult
    public mutating func finishRestore() -> [Contradiction] {
        let contradictions = bindings.buildIndexes().compactMap { duplicate -> Contradiction? in
            guard
                duplicate.kept.openId != duplicate.dropped.openId
                    || duplicate.kept.userId != duplicate.dropped.userId
            else { return nil }
            return Contradiction(
                first: duplicate.kept, firstPosition: duplicate.keptPosition, later: duplicate.dropped,
                laterPosition: duplicate.droppedPosition)
        }
        for position in entries.indices
        where entries[position].phase == .pending
            && bindings.contains(serialNo: entries[position].request.serialNo)
        {
            entries[position].phase = .bound
            openCount -= 1
        }
        return contradictions
    }

    public mutating func reserveBindingCapacity(_ count: Int, bytesPerBinding: Int) {
        bindings.reserveCapacity(count, bytesPerBinding: bytesPerBinding)
    }

    /// Forgets what `journaledRequests(now:)` leaves out (bound, failed, expired past the retention),
    /// as the journal does when compacted. Bindings stay: they are the ledger.
    public mutating func forgetSettled(now: Int64) {
        expire(now: now)
        let retention = expiredRetention
        keepEntries { Self.isJournaled($0, now: now, retention: retention) }
    }

    // MARK: - Expiry

    /// Marks pending requests past their expiry; returns how many. Looks only at those due.
    @discardableResult
    public mutating func expire(now: Int64) -> Int {
        var swept = 0
        while let due = expiries.first, due.expiresAt <= now {
            expiries.removeFirst()
            let position = Int(due.position)
            guard entries[position].phase == .pending, entries[position].request.expiresAt == due.expiresAt
            else { continue }
            entries[position].phase = .expired
            swept += 1
        }
        openCount -= swept
        return swept
    }

    // MARK: - Queries

    public func latestBinding(userId: String) -> Binding? { bindings.latest(userId: userId) }

    public func bindings(openId: String) -> [Binding] { bindings.all(openId: openId) }

    /// A bound request known only from the ledger reports its boundAt as createdAt and expiresAt.
    public func status(serialNo: String, now: Int64) -> RequestStatus? {
        guard let position = position(of: serialNo) else {
            guard let binding = bindings.binding(serialNo: serialNo) else { return nil }
            return RequestStatus(
                serialNo: serialNo, userId: binding.userId, state: .bound, openId: binding.openId,
                createdAt: binding.boundAt, expiresAt: binding.boundAt, boundAt: binding.boundAt)
        }
        let entry = entries[position]
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
        case .binding:
            // A callback accepted before expiry is writing its binding: it may yet read bound, and must
            // not read expired first.
            state = .pending
        case .issuing, .pending:
            state = now >= entry.request.expiresAt ? .expired : .pending
        }
        let request = entry.request
        return RequestStatus(
            serialNo: serialNo, userId: request.userId, state: state, openId: binding?.openId,
            createdAt: request.createdAt, expiresAt: request.expiresAt, boundAt: binding?.boundAt)
    }

    /// The requests a compacted journal keeps: open ones, and expired ones within the retention (their
    /// serialNos stay refused after a restart).
    public func journaledRequests(now: Int64) -> [PendingRequest] {
        entries.compactMap { Self.isJournaled($0, now: now, retention: expiredRetention) ? $0.request : nil }
    }

    private static func isJournaled(_ entry: Entry, now: Int64, retention: Int64) -> Bool {
        switch entry.phase {
        case .issuing, .pending, .binding: return true
        case .expired: return now < entry.request.expiresAt + retention
        case .bound, .failed: return false
        }
    }

    private static func isOpen(_ phase: Phase) -> Bool {
        switch phase {
        case .issuing, .pending, .binding: return true
        case .bound, .failed, .expired: return false
        }
    }
}
