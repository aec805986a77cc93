import Synchronization

/// A count that only goes up. Recording is one relaxed atomic add: no lock, no allocation, so it can
/// sit on the callback port's hot path.
public final class Counter: Sendable {
    private let count = Atomic<UInt64>(0)

    public init() {}

    public func increment(by amount: UInt64 = 1) {
        count.add(amount, ordering: .relaxed)
    }

    public var value: UInt64 { count.load(ordering: .relaxed) }
}

/// The children of one labelled counter, created together so a label value is looked up once, at
/// set-up, and recording is a plain atomic add on the child.
public struct CounterFamily: Sendable {
    public let label: String
    private let children: [(value: String, counter: Counter)]

    init(label: String, children: [(value: String, counter: Counter)]) {
        self.label = label
        self.children = children
    }

    /// The child for `value`; asking for a value the family was not made with is a programmer error.
    public subscript(_ value: String) -> Counter {
        guard let child = children.first(where: { $0.value == value }) else {
            preconditionFailure("\(label)=\"\(value)\" is not a child of this counter family")
        }
        return child.counter
    }
}
