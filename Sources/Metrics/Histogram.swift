import Synchronization

/// Observations counted into fixed buckets, with their sum and count (Prometheus's histogram).
///
/// Each bucket is its own counter (not cumulative), so an observation is two relaxed atomic operations
/// and no allocation; the cumulative `le` counts are summed at scrape time.
public final class Histogram: Sendable {
    /// Finite, strictly increasing upper bounds; the implicit last bucket is `+Inf`.
    public let upperBounds: [Double]
    /// One per upper bound, then the `+Inf` bucket.
    private let buckets: [Counter]
    /// The sum's bit pattern, updated by compare-and-exchange (there is no atomic add for a Double).
    private let sumBits = Atomic<UInt64>(0)

    public init(upperBounds: [Double]) {
        precondition(!upperBounds.isEmpty, "a histogram needs at least one bucket")
        precondition(upperBounds.allSatisfy(\.isFinite), "bucket bounds must be finite; +Inf is implicit")
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must increase")
        self.upperBounds = upperBounds
        buckets = (0...upperBounds.count).map { _ in Counter() }
    }

    public func observe(_ value: Double) {
        var index = 0
        while index < upperBounds.count && value > upperBounds[index] { index += 1 }
        buckets[index].increment()
        var old = sumBits.load(ordering: .relaxed)
        while true {
            let new = (Double(bitPattern: old) + value).bitPattern
            let (exchanged, original) = sumBits.compareExchange(
                expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    public struct Snapshot: Sendable, Equatable {
        /// Observations at or below each upper bound, then the total (the `+Inf` bucket).
        public let cumulativeCounts: [UInt64]
        public let sum: Double
        /// Always equal to the `+Inf` bucket, even under concurrent observations.
        public var count: UInt64 { cumulativeCounts.last! }
    }

    public func snapshot() -> Snapshot {
        var running: UInt64 = 0
        let cumulative = buckets.map { bucket in
            running += bucket.value
            return running
        }
        return Snapshot(
            cumulativeCounts: cumulative, sum: Double(bitPattern: sumBits.load(ordering: .relaxed)))
    }
}
