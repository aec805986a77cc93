import POSIX
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The kind of a security event, such as `signature_invalid`: the unit that is rate-limited, and the
/// `audit=` field of its log lines. The daemon names its kinds; this module only counts them.
public struct AuditKind: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }
}

/// Rate limits security events per kind, so a flood of bad callbacks cannot fill the disk with log
/// lines: a token bucket per kind lets `burst` lines through at once, then `perSecond` on average.
/// Dropped events are counted, and the count is reported as `suppressed=N` on the kind's next line that
/// gets through, or by `drainSuppressed()` (the daemon calls it once a minute) if none comes.
///
/// Defaults: a burst of 20, then 1 line per second, per kind.
public final class AuditLimiter: Sendable {
    public let burst: Int
    public let perSecond: Double
    private let now: @Sendable () -> UInt64
    private let buckets = Locked<[AuditKind: Bucket]>([:])

    struct Bucket {
        var tokens: Double
        var updatedAt: UInt64
        var suppressed = 0
    }

    /// What to do with one event.
    public enum Decision: Equatable, Sendable {
        /// Log it; `suppressed` events of its kind were dropped since the last line of that kind.
        case log(suppressed: Int)
        case drop
    }

    /// `now` is a monotonic clock in nanoseconds (CLOCK_MONOTONIC by default); tests pass their own.
    public init(
        burst: Int = 20, perSecond: Double = 1,
        now: @escaping @Sendable () -> UInt64 = AuditLimiter.monotonicNanos
    ) {
        precondition(burst >= 1 && perSecond > 0, "an audit limiter must let some events through")
        self.burst = burst
        self.perSecond = perSecond
        self.now = now
    }

    public func decide(_ kind: AuditKind) -> Decision {
        let time = now()
        return buckets.withLock { buckets in
            var bucket = buckets[kind] ?? Bucket(tokens: Double(burst), updatedAt: time)
            // Elapsed time refills the bucket up to `burst`; a clock that went backwards refills nothing.
            let elapsed = Double(time &- bucket.updatedAt) / 1e9
            if time > bucket.updatedAt {
                bucket.tokens = min(Double(burst), bucket.tokens + elapsed * perSecond)
                bucket.updatedAt = time
            }
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .log(suppressed: bucket.suppressed)
                bucket.suppressed = 0
            } else {
                bucket.suppressed += 1
                decision = .drop
            }
            buckets[kind] = bucket
            return decision
        }
    }

    /// The dropped counts not yet reported, by kind (sorted by name), reset to zero: for a summary line
    /// once a flood has ended and no later line of its kind carried the count.
    public func drainSuppressed() -> [(kind: AuditKind, suppressed: Int)] {
        buckets.withLock { buckets in
            var drained: [(kind: AuditKind, suppressed: Int)] = []
            for (kind, bucket) in buckets where bucket.suppressed > 0 {
                drained.append((kind, bucket.suppressed))
                buckets[kind]?.suppressed = 0
            }
            return drained.sorted { $0.kind.name < $1.kind.name }
        }
    }

    public static func monotonicNanos() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
