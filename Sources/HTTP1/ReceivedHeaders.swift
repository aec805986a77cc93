/// A message's header fields as received (RFC 9112 §5): the head's bytes, kept once, and where each
/// name and value lies in them. Read-only; a value becomes a string only when asked for (a callback
/// carries eight or so fields and its checks read five: making every name and value a string was a
/// fifth of its parsing in `Benchmarks/instructions.sh`). Lookups ignore ASCII case (RFC 9110 §5.1).
/// `HTTPHeaders(_:)` turns them into fields to edit; `init(_:)` lays out built fields as received.
public struct ReceivedHeaders: Sendable, Sequence {
    public typealias Element = (name: String, value: String)

    /// Where a field's name and value lie in `head`.
    struct Span: Sendable {
        var name: Range<Int>
        var value: Range<Int>
    }

    private let head: [UInt8]
    private let spans: [Span]

    /// Fields `FieldLines.parse` has checked: names are tokens, values field content and UTF-8.
    init(head: [UInt8], spans: [Span]) {
        self.head = head
        self.spans = spans
    }

    /// `fields` as the bytes of field lines, for a request built in-process (a test, a handler called
    /// without a socket) that reads as a parsed one.
    public init(_ fields: HTTPHeaders) {
        var head: [UInt8] = []
        var spans: [Span] = []
        for (name, value) in fields {
            let nameStart = head.count
            head.append(contentsOf: name.utf8)
            head.append(contentsOf: ": ".utf8)
            let valueStart = head.count
            head.append(contentsOf: value.utf8)
            spans.append(Span(name: nameStart..<(valueStart - 2), value: valueStart..<head.count))
            head.append(contentsOf: ASCII.crlf)
        }
        self.init(head: head, spans: spans)
    }

    public var count: Int { spans.count }

    public func makeIterator() -> some IteratorProtocol<Element> {
        spans.lazy.map { (text($0.name), text($0.value)) }.makeIterator()
    }

    /// The first value of the field `name`, or nil when absent.
    public subscript(_ name: String) -> String? {
        firstIndex(named: name).map { text(spans[$0].value) }
    }

    /// Every value of the field `name`, in order.
    public func values(_ name: String) -> [String] {
        spans.filter { isName($0.name, name) }.map { text($0.value) }
    }

    /// The first value of the field `name` and how many fields have that name (a repeated field is
    /// refused, so only its count matters).
    public func firstAndCount(_ name: String) -> (first: String?, count: Int) {
        var first: String?
        var count = 0
        for span in spans where isName(span.name, name) {
            if count == 0 { first = text(span.value) }
            count += 1
        }
        return (first, count)
    }

    /// Appends the first value of the field `name` to `out` as bytes (the string to sign never makes it
    /// a string); returns how many bytes it appended, or nil when there is no such field.
    @discardableResult
    public func appendFirstValue(_ name: String, to out: inout [UInt8]) -> Int? {
        guard let index = firstIndex(named: name) else { return nil }
        let range = spans[index].value
        out.append(contentsOf: head[range])
        return range.count
    }

    private func firstIndex(named name: String) -> Int? {
        spans.indices.first { isName(spans[$0].name, name) }
    }

    /// Whether the name at `range` is `name`, ignoring ASCII case. The lengths settle most fields
    /// without touching their bytes.
    private func isName(_ range: Range<Int>, _ name: String) -> Bool {
        guard range.count == name.utf8.count else { return false }
        var name = name
        return name.withUTF8 { wanted in
            head.withUnsafeBufferPointer { head in
                for offset in 0..<wanted.count
                where ASCII.lowercased(head[range.lowerBound + offset]) != ASCII.lowercased(wanted[offset]) {
                    return false
                }
                return true
            }
        }
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: head[range], as: UTF8.self)
    }
}
