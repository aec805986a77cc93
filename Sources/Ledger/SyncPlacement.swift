import POSIX
import Synchronization

/// Where the ledger's sync thread runs (`storage.syncCPU`).
public enum SyncCPU: Sendable, Equatable {
    /// On the CPU that takes the ledger disk's completion interrupts, while one CPU takes them all;
    /// anywhere otherwise.
    case auto
    /// Wherever the scheduler puts it.
    case any
    /// Always on this CPU.
    case cpu(Int)
}

/// The pure half of following the interrupts: from successive per-CPU interrupt counts, which CPU the
/// sync thread belongs on.
struct InterruptFollowing: Sendable {
    enum Decision: Equatable, Sendable {
        case cpu(Int)
        /// The interrupts are spread, or go to a CPU the process may not use.
        case any
    }

    /// Fewer interrupts than this since the last decision say too little (an idle disk): wait for more.
    static let minimumInterrupts: UInt64 = 64
    /// At least this share of them on one CPU makes it the interrupt's CPU.
    static let dominantShare = 0.9
    /// Counts older than this are a different workload's: start again from the newest.
    static let staleNanos: UInt64 = 10_000_000_000

    let allowed: CPUSet
    private var baseline: (counts: [UInt64], at: UInt64)?

    init(allowed: CPUSet) { self.allowed = allowed }

    /// A decision once enough interrupts have arrived since the last one, else nil.
    mutating func observe(_ counts: [UInt64], at now: UInt64) -> Decision? {
        guard let last = baseline, last.counts.count == counts.count, now >= last.at,
            now - last.at <= Self.staleNanos, zip(counts, last.counts).allSatisfy({ $0 >= $1 })
        else {
            baseline = (counts, now)
            return nil
        }
        let deltas = zip(counts, last.counts).map { $0 - $1 }
        let total = deltas.reduce(0, +)
        guard total >= Self.minimumInterrupts else { return nil }
        baseline = (counts, now)
        var busiest = 0
        for cpu in deltas.indices where deltas[cpu] > deltas[busiest] { busiest = cpu }
        if Double(deltas[busiest]) >= Double(total) * Self.dominantShare && allowed.contains(busiest) {
            return .cpu(busiest)
        }
        return .any
    }
}

/// Keeps the ledger's sync thread on one CPU: a fixed one, or the one the disk's completion interrupts
/// go to (see `DiskInterrupts`), checked again every half second while syncs run.
///
/// Left to the scheduler, the sync thread is often woken onto the CPU of the loop that appended, beside
/// the loops and the load, while the disk's interrupt lands elsewhere. Kept on the interrupt's CPU, it
/// made 11 % more durable callbacks per second at the median on the project's 2-core VM, and 14 % fewer
/// `fdatasync`s per callback, over 12 alternating pairs (README, Performance). Each `AppendLog` flusher
/// thread calls `threadStarted` and `cycleFinished`; only one flusher runs at a time.
public final class SyncPlacement: Sendable {
    public enum Change: Sendable, Equatable {
        /// The sync thread now runs only on `cpu`.
        case pinned(cpu: Int, reason: String)
        /// The sync thread may run on every CPU the process may use again.
        case released(reason: String)
        /// Nothing to follow (`auto`): the sync thread runs wherever the scheduler puts it.
        case unavailable(String)
        /// Placement is off for good: the CPU is not the process's, or the kernel refused.
        case failed(String)
    }

    public typealias Observer = @Sendable (Change) -> Void

    private enum Policy: Sendable {
        case fixed(Int)
        case following(DiskInterrupts)
    }

    private struct State: Sendable {
        var following: InterruptFollowing
        var cpu: Int?
        var lastCheck: UInt64 = 0
        var stopped = false
    }

    private let policy: Policy
    private let allowed: CPUSet
    private let checkNanos: UInt64
    private let observer: Observer?
    private let state: Mutex<State>

    /// Always on `cpu`. `allowed` is every CPU the process may use (its affinity at start-up).
    public init(cpu: Int, allowed: CPUSet, observer: Observer? = nil) {
        policy = .fixed(cpu)
        self.allowed = allowed
        checkNanos = 0
        self.observer = observer
        state = Mutex(State(following: InterruptFollowing(allowed: allowed)))
        if !allowed.contains(cpu) {
            state.withLock { $0.stopped = true }
            observer?(.failed("CPU \(cpu) is not one this process may use (\(allowed))"))
        }
    }

    /// On the CPU that `interrupts` go to, checked every `checkEverySeconds` while syncs run.
    public init(
        following interrupts: DiskInterrupts, allowed: CPUSet, checkEverySeconds: Double = 0.5,
        observer: Observer? = nil
    ) {
        policy = .following(interrupts)
        self.allowed = allowed
        checkNanos = UInt64(checkEverySeconds * 1e9)
        self.observer = observer
        state = Mutex(State(following: InterruptFollowing(allowed: allowed)))
    }

    /// The CPU the sync thread is kept on, nil while it may run anywhere.
    public var cpu: Int? { state.withLock { $0.cpu } }

    /// The placement for `setting`, for a ledger in `directory`; nil for `.any`, or when the disk's
    /// interrupts cannot be followed (`observer` hears why).
    public static func make(_ setting: SyncCPU, directory: String, observer: Observer? = nil)
        -> SyncPlacement?
    {
        guard let allowed = try? CurrentThread.affinity(), !allowed.isEmpty else {
            observer?(.failed("cannot read this process's CPU affinity"))
            return nil
        }
        switch setting {
        case .any:
            return nil
        case .cpu(let cpu):
            return SyncPlacement(cpu: cpu, allowed: allowed, observer: observer)
        case .auto:
            guard allowed.cpus.count > 1 else {
                observer?(.unavailable("this process may use only CPU \(allowed)"))
                return nil
            }
            switch DiskInterrupts.locate(file: directory) {
            case .found(let interrupts):
                return SyncPlacement(following: interrupts, allowed: allowed, observer: observer)
            case .unavailable(let reason):
                observer?(.unavailable(reason))
                return nil
            }
        }
    }

    /// Called by a new sync thread: it takes up the placement its predecessor had.
    func threadStarted() {
        let change = state.withLock { state -> Change? in
            guard !state.stopped else { return nil }
            switch policy {
            case .fixed(let cpu):
                if let failure = apply(CPUSet([cpu]), &state) { return failure }
                guard state.cpu == nil else { return nil }
                state.cpu = cpu
                return .pinned(cpu: cpu, reason: "storage.syncCPU is \(cpu)")
            case .following:
                guard let cpu = state.cpu else { return nil }
                return apply(CPUSet([cpu]), &state)
            }
        }
        if let change { observer?(change) }
    }

    /// Called by the sync thread after each sync: now and then, follows the interrupts.
    func cycleFinished() {
        guard case .following(let interrupts) = policy else { return }
        let now = MonotonicClock.nowNanos()
        let change = state.withLock { state -> Change? in
            guard !state.stopped, now &- state.lastCheck >= checkNanos else { return nil }
            state.lastCheck = now
            guard let counts = interrupts.counts(),
                let decision = state.following.observe(counts, at: now)
            else { return nil }
            switch decision {
            case .cpu(let cpu) where cpu != state.cpu:
                if let failure = apply(CPUSet([cpu]), &state) { return failure }
                state.cpu = cpu
                return .pinned(
                    cpu: cpu, reason: "\(interrupts.disk)'s completion interrupts go to CPU \(cpu)")
            case .any where state.cpu != nil:
                if let failure = apply(allowed, &state) { return failure }
                state.cpu = nil
                return .released(
                    reason: "\(interrupts.disk)'s completion interrupts no longer go to one CPU of \(allowed)"
                )
            default:
                return nil
            }
        }
        if let change { observer?(change) }
    }

    /// Sets the calling thread's CPUs; a refusal stops placement for good and is returned.
    private func apply(_ cpus: CPUSet, _ state: inout State) -> Change? {
        do {
            try CurrentThread.setAffinity(cpus)
            return nil
        } catch {
            state.stopped = true
            state.cpu = nil
            return .failed("\(error)")
        }
    }
}
