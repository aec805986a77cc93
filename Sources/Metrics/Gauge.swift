import Synchronization

/// A value that goes up and down: either set by its owner, or read from a closure at scrape time (for
/// values that something else already keeps, such as a server's connection count).
public final class Gauge: Sendable {
    /// The stored value's bit pattern (a Double has no atomic add, and needs none: gauges are set).
    private let bits: Atomic<UInt64>
    private let read: (@Sendable () -> Double)?

    public init(_ initial: Double = 0) {
        bits = Atomic(initial.bitPattern)
        read = nil
    }

    public init(reading read: @escaping @Sendable () -> Double) {
        bits = Atomic(0)
        self.read = read
    }

    public func set(_ value: Double) {
        precondition(read == nil, "a gauge read from a closure cannot be set")
        bits.store(value.bitPattern, ordering: .relaxed)
    }

    public var value: Double { read?() ?? Double(bitPattern: bits.load(ordering: .relaxed)) }
}
