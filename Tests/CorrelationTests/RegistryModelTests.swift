import Testing

@testable import Correlation

/// The registry against a reference model: the same state machine over plain dictionaries, driven by
/// the same random operations. Every decision, count and status must agree after every step.
@Suite struct RegistryModelTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func agreesWithAReferenceModelUnderRandomOperations(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        // A short retention, so that expired serialNos are also seen becoming reusable.
        var registry = Registry(expiredRetention: 1_500)
        var model = ReferenceRegistry(expiredRetention: 1_500)
        let serialNos = (0..<40).map { "s-\($0)" }
        let maxOpen = 30
        var now = t0

        for step in 0..<3_000 {
            let serialNo = serialNos[random.below(serialNos.count)]
            let token = "tok-\(random.below(2))"
            let openId = "open-\(random.below(3))"
            let userId = ["u-42", "u-7", nil][random.below(3)]
            let request = makeRequest(
                serialNo: serialNo, userId: userId ?? "u-42", token: token, createdAt: now,
                expiresAt: now + Int64(random.below(4)) * 1000)
            let context = Comment(rawValue: "seed \(seed), step \(step), \(serialNo)")
            switch random.below(12) {
            case 0, 1:
                let real = Result { try registry.reserve(request, maxOpen: maxOpen) }.mapError {
                    $0 as! Registry.ReserveError
                }
                let expected = model.reserve(request, maxOpen: maxOpen)
                #expect(real.failure == expected, context)
            case 2, 3:
                registry.confirm(serialNo: serialNo)
                model.confirm(serialNo: serialNo)
            case 4, 5:
                registry.fail(serialNo: serialNo)
                model.fail(serialNo: serialNo)
            case 6, 7, 8:
                let real = registry.beginBinding(
                    serialNo: serialNo, openId: openId, userId: userId, now: now
                ) { $0 == token }
                let expected = model.beginBinding(
                    serialNo: serialNo, openId: openId, userId: userId, now: now, token: token)
                #expect(real == expected, context)
                // What the daemon does next: the write succeeds (complete) or fails (abandon).
                if case .proceed(let pending) = real {
                    let binding = makeBinding(
                        serialNo: serialNo, userId: pending.userId, openId: openId, boundAt: now)
                    if random.below(4) == 0 {
                        registry.abandon(serialNo: serialNo)
                        model.abandon(serialNo: serialNo)
                    } else {
                        registry.complete(binding)
                        model.complete(binding)
                    }
                }
            case 9:
                #expect(registry.expire(now: now) == model.expire(now: now), context)
            case 10:
                registry.forgetSettled(now: now)
                model.forgetSettled(now: now)
            default:
                now += 500
            }
            #expect(registry.openCount == model.openCount, context)
            // Whenever it is asked (an expire first, as `reserve` and the daemon's counts do), no request
            // past its expiry counts as open.
            var asked = registry
            asked.expire(now: now)
            #expect(asked.openCount == model.openCount(now: now), context)
            #expect(
                registry.status(serialNo: serialNo, now: now) == model.status(serialNo: serialNo, now: now),
                context)
        }
        for serialNo in serialNos {
            #expect(
                registry.status(serialNo: serialNo, now: now) == model.status(serialNo: serialNo, now: now))
        }
        #expect(
            Set(registry.journaledRequests(now: now).map(\.serialNo))
                == Set(model.journaledRequests(now: now).map(\.serialNo)))
        #expect(registry.bindingCount == model.bindings.count)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// A small deterministic generator (splitmix64), so a failing seed can be replayed.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// The registry's state machine over dictionaries, written for clarity rather than speed.
struct ReferenceRegistry {
    enum Phase: Equatable {
        case issuing, pending, binding, bound, failed, expired
    }
    var entries: [String: (request: PendingRequest, phase: Phase)] = [:]
    var bindings: [String: Binding] = [:]
    var openCount = 0
    let expiredRetention: Int64

    private static func isOpen(_ phase: Phase) -> Bool {
        phase == .issuing || phase == .pending || phase == .binding
    }

    /// Requests open at `now`, counted afresh: pending ones only until their expiry.
    func openCount(now: Int64) -> Int {
        entries.values.filter {
            $0.phase == .issuing || $0.phase == .binding
                || ($0.phase == .pending && now < $0.request.expiresAt)
        }.count
    }

    /// Failed serialNos may be issued again; expired ones once the retention has passed.
    private func isReusable(_ entry: (request: PendingRequest, phase: Phase), now: Int64) -> Bool {
        entry.phase == .failed
            || (entry.phase == .expired && now >= entry.request.expiresAt + expiredRetention)
    }

    private func isJournaled(_ entry: (request: PendingRequest, phase: Phase), now: Int64) -> Bool {
        Self.isOpen(entry.phase)
            || (entry.phase == .expired && now < entry.request.expiresAt + expiredRetention)
    }

    mutating func reserve(_ request: PendingRequest, maxOpen: Int) -> Registry.ReserveError? {
        let now = request.createdAt
        _ = expire(now: now)
        if let entry = entries[request.serialNo], !isReusable(entry, now: now) { return .serialNoInUse }
        if bindings[request.serialNo] != nil { return .serialNoInUse }
        if openCount >= maxOpen { return .tooManyPending }
        entries[request.serialNo] = (request, .issuing)
        openCount += 1
        return nil
    }

    mutating func confirm(serialNo: String) {
        if entries[serialNo]?.phase == .issuing { entries[serialNo]!.phase = .pending }
    }

    mutating func fail(serialNo: String) {
        guard let phase = entries[serialNo]?.phase, phase == .issuing || phase == .pending else { return }
        entries[serialNo]!.phase = .failed
        openCount -= 1
    }

    mutating func beginBinding(serialNo: String, openId: String, userId: String?, now: Int64, token: String)
        -> Registry.BindDecision
    {
        guard let entry = entries[serialNo] else {
            guard let binding = bindings[serialNo] else { return .unknownSerialNo }
            return binding.openId == openId ? .repeated(binding) : .conflict(binding)
        }
        if entry.request.token != token { return .tokenMismatch }
        switch entry.phase {
        case .bound:
            let binding = bindings[serialNo]!
            return binding.openId == openId ? .repeated(binding) : .conflict(binding)
        case .binding: return .inProgress
        case .expired: return .expired
        case .issuing, .failed: return .unknownSerialNo
        case .pending:
            if let userId, userId != entry.request.userId { return .userIdMismatch }
            if now >= entry.request.expiresAt { return .expired }
            entries[serialNo]!.phase = .binding
            return .proceed(entry.request)
        }
    }

    mutating func complete(_ binding: Binding) {
        guard bindings[binding.serialNo] == nil else { return }
        bindings[binding.serialNo] = binding
        guard let entry = entries[binding.serialNo] else { return }
        if Self.isOpen(entry.phase) { openCount -= 1 }
        entries[binding.serialNo]!.phase = .bound
    }

    mutating func abandon(serialNo: String) {
        if entries[serialNo]?.phase == .binding { entries[serialNo]!.phase = .pending }
    }

    mutating func expire(now: Int64) -> Int {
        var swept = 0
        for (serialNo, entry) in entries where entry.phase == .pending && now >= entry.request.expiresAt {
            entries[serialNo]!.phase = .expired
            swept += 1
        }
        openCount -= swept
        return swept
    }

    mutating func forgetSettled(now: Int64) {
        _ = expire(now: now)
        entries = entries.filter { isJournaled($0.value, now: now) }
    }

    func journaledRequests(now: Int64) -> [PendingRequest] {
        entries.values.filter { isJournaled($0, now: now) }.map(\.request)
    }

    func status(serialNo: String, now: Int64) -> RequestStatus? {
        guard let entry = entries[serialNo] else {
            guard let binding = bindings[serialNo] else { return nil }
            return RequestStatus(
                serialNo: serialNo, userId: binding.userId, state: .bound, openId: binding.openId,
                createdAt: binding.boundAt, expiresAt: binding.boundAt, boundAt: binding.boundAt)
        }
        let binding = entry.phase == .bound ? bindings[serialNo] : nil
        let state: RequestState
        switch entry.phase {
        case .bound: state = .bound
        case .failed: state = .failed
        case .expired: state = .expired
        case .issuing, .pending, .binding: state = now >= entry.request.expiresAt ? .expired : .pending
        }
        return RequestStatus(
            serialNo: serialNo, userId: entry.request.userId, state: state, openId: binding?.openId,
            createdAt: entry.request.createdAt, expiresAt: entry.request.expiresAt, boundAt: binding?.boundAt)
    }
}
