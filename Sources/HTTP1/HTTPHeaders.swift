/// A message's header fields in the order received or added. Names keep their case, because the
/// platform compares them case-sensitively; lookups ignore ASCII case, as HTTP does (RFC 9110 §5.1).
public struct HTTPHeaders: Sendable, Sequence {
    public typealias Element = (name: String, value: String)

    private var fields: [Element]

    public init(_ pairs: [(name: String, value: String)] = []) {
        fields = pairs
    }

    /// The first value of the field `name`, or nil when absent.
    public subscript(_ name: String) -> String? {
        fields.first { $0.name.equalsIgnoringASCIICase(name) }?.value
    }

    /// Every value of the field `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
    }

    /// The first value of the field `name` and how many fields have that name, without collecting
    /// them (framing checks run on every request and only need to know whether there is more than one).
    public func firstAndCount(_ name: String) -> (first: String?, count: Int) {
        var first: String?
        var count = 0
        for field in fields where field.name.equalsIgnoringASCIICase(name) {
            if count == 0 { first = field.value }
            count += 1
        }
        return (first, count)
    }

    public mutating func reserveCapacity(_ count: Int) {
        fields.reserveCapacity(count)
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
        var index = first + 1
        while index < fields.count {
            if fields[index].name.equalsIgnoringASCIICase(name) {
                fields.remove(at: index)
            } else {
                index += 1
            }
        }
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[Element]> {
        fields.makeIterator()
    }
}
