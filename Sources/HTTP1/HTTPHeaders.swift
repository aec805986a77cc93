/// Header fields to send, in the order added. Names keep their case, because the platform compares
/// them case-sensitively; lookups ignore ASCII case, as HTTP does (RFC 9110 §5.1). Fields as received
/// are `ReceivedHeaders`; `init(_:)` turns them into these.
public struct HTTPHeaders: Sendable, Sequence {
    public typealias Element = (name: String, value: String)

    private var fields: [Element]

    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    /// The received fields as strings, in order, to read or edit as built ones.
    public init(_ received: ReceivedHeaders) {
        fields = Array(received)
    }

    /// The first value of the field `name`, or nil when absent.
    public subscript(_ name: String) -> String? {
        fields.first { $0.name.equalsIgnoringASCIICase(name) }?.value
    }

    /// Every value of the field `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// Replaces every field named `name` with one field, where the first of them was (or at the end).
    public mutating func set(_ name: String, _ value: String) {
        guard let first = fields.firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) }) else {
            fields.append((name, value))
            return
        }
        fields[first] = (name, value)
        let rest = fields[(first + 1)...].filter { !$0.name.equalsIgnoringASCIICase(name) }
        fields.replaceSubrange((first + 1)..., with: rest)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[Element]> {
        fields.makeIterator()
    }
}
