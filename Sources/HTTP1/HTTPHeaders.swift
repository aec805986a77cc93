/// A message's header fields in the order received or added. Names keep their case, because the
/// platform compares them case-sensitively; lookups ignore ASCII case, as HTTP does (RFC 9110 §5.1).
///
/// Fields as received stay bytes: the head is kept once, with where each name and value lies in it,
/// and a string is made only for a field that is asked for. A callback carries eight or so fields and
/// its checks read five of them; making every name and value a string was a fifth of its parsing.
/// Adding, setting or removing a field turns them into strings first.
public struct HTTPHeaders: Sendable, Sequence {
    public typealias Element = (name: String, value: String)

    /// Where a received field's name and value lie in `head`.
    struct Span: Sendable {
        var name: Range<Int>
        var value: Range<Int>
    }

    /// Fields as built or edited; empty while the fields are `spans` of `head`.
    private var fields: [Element]
    private var head: [UInt8] = []
    private var spans: [Span] = []

    public init(_ pairs: [(name: String, value: String)] = []) {
        fields = pairs
    }

    /// Fields as received: already checked (names are tokens, values field content and UTF-8).
    init(received head: [UInt8], spans: [Span]) {
        fields = []
        self.head = head
        self.spans = spans
    }

    /// The first value of the field `name`, or nil when absent.
    public subscript(_ name: String) -> String? {
        guard !spans.isEmpty else { return fields.first { $0.name.equalsIgnoringASCIICase(name) }?.value }
        return spanIndex(named: name).map { text(spans[$0].value) }
    }

    /// Appends the first value of the field `name` to `out`, as bytes (a received value never becomes
    /// a string); returns how many bytes it appended, or nil when there is no such field.
    @discardableResult
    public func appendFirstValue(_ name: String, to out: inout [UInt8]) -> Int? {
        guard !spans.isEmpty else {
            guard let value = fields.first(where: { $0.name.equalsIgnoringASCIICase(name) })?.value else {
                return nil
            }
            out.append(contentsOf: value.utf8)
            return value.utf8.count
        }
        guard let index = spanIndex(named: name) else { return nil }
        let range = spans[index].value
        head.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
        return range.count
    }

    /// Every value of the field `name`, in order.
    public func values(_ name: String) -> [String] {
        guard !spans.isEmpty else {
            return fields.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
        }
        var values: [String] = []
        var next = spanIndex(named: name)
        while let index = next {
            values.append(text(spans[index].value))
            next = spanIndex(named: name, from: index + 1)
        }
        return values
    }

    /// The first value of the field `name` and how many fields have that name, without collecting
    /// them (framing checks run on every request and only need to know whether there is more than one).
    public func firstAndCount(_ name: String) -> (first: String?, count: Int) {
        var first: String?
        var count = 0
        if spans.isEmpty {
            for field in fields where field.name.equalsIgnoringASCIICase(name) {
                if count == 0 { first = field.value }
                count += 1
            }
        } else {
            var next = spanIndex(named: name)
            while let index = next {
                if count == 0 { first = text(spans[index].value) }
                count += 1
                next = spanIndex(named: name, from: index + 1)
            }
        }
        return (first, count)
    }

    /// How many fields are named `name`, and whether every byte of the first one's value passes
    /// `test` (nil when there is none): the Host check, without making its value a string.
    func countAndCheckFirst(_ name: String, _ test: (UInt8) -> Bool) -> (count: Int, firstPasses: Bool?) {
        var count = 0
        var passes: Bool?
        if spans.isEmpty {
            for field in fields where field.name.equalsIgnoringASCIICase(name) {
                if count == 0 { passes = field.value.utf8.allSatisfy(test) }
                count += 1
            }
        } else {
            var next = spanIndex(named: name)
            while let index = next {
                if count == 0 { passes = head[spans[index].value].allSatisfy(test) }
                count += 1
                next = spanIndex(named: name, from: index + 1)
            }
        }
        return (count, passes)
    }

    /// The fields a request's framing checks read (RFC 9112 §3.2, §6.3): how many Host fields and
    /// whether the first one's value passes `hostTest`, the first Content-Length and how many there
    /// are, and whether there is a Transfer-Encoding. One pass over received fields, where three
    /// lookups went over all of them (every request comes here).
    struct Framing {
        var hosts: (count: Int, firstPasses: Bool?) = (0, nil)
        var contentLengths: (first: String?, count: Int) = (nil, 0)
        var hasTransferEncoding = false
    }

    func framing(hostTest: (UInt8) -> Bool) -> Framing {
        guard !spans.isEmpty else {
            return Framing(
                hosts: countAndCheckFirst("Host", hostTest), contentLengths: firstAndCount("Content-Length"),
                hasTransferEncoding: self["Transfer-Encoding"] != nil)
        }
        var framing = Framing()
        head.withUnsafeBufferPointer { head in
            for span in spans {
                switch span.name.count {
                case 4 where Self.isName(head, span.name, "host"):
                    if framing.hosts.count == 0 {
                        framing.hosts.firstPasses = head[span.value].allSatisfy(hostTest)
                    }
                    framing.hosts.count += 1
                case 14 where Self.isName(head, span.name, "content-length"):
                    if framing.contentLengths.count == 0 {
                        framing.contentLengths.first = String(
                            decoding: UnsafeBufferPointer(rebasing: head[span.value]), as: UTF8.self)
                    }
                    framing.contentLengths.count += 1
                case 17 where Self.isName(head, span.name, "transfer-encoding"):
                    framing.hasTransferEncoding = true
                default:
                    break
                }
            }
        }
        return framing
    }

    /// Whether the name at `range` is `lowercased`, ignoring the name's case.
    private static func isName(
        _ head: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ lowercased: StaticString
    )
        -> Bool
    {
        range.count == lowercased.utf8CodeUnitCount
            && sameLetters(
                head, from: range.lowerBound,
                UnsafeBufferPointer(start: lowercased.utf8Start, count: lowercased.utf8CodeUnitCount))
    }

    public mutating func reserveCapacity(_ count: Int) {
        makeStrings()
        fields.reserveCapacity(count)
    }

    public mutating func add(_ name: String, _ value: String) {
        makeStrings()
        fields.append((name, value))
    }

    /// Replaces every field named `name` with one field, where the first of them was (or at the end).
    public mutating func set(_ name: String, _ value: String) {
        makeStrings()
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
        makeStrings()
        fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }

    public var count: Int { spans.isEmpty ? fields.count : spans.count }

    public func makeIterator() -> IndexingIterator<[Element]> {
        guard !spans.isEmpty else { return fields.makeIterator() }
        return spans.map { (text($0.name), text($0.value)) }.makeIterator()
    }

    private mutating func makeStrings() {
        guard !spans.isEmpty else { return }
        fields = spans.map { (text($0.name), text($0.value)) }
        spans = []
        head = []
    }

    private func text(_ range: Range<Int>) -> String {
        head.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self)
        }
    }

    /// The index in `spans` of the first received field named `name` at or after `start`. Lengths are
    /// compared first, which settles most fields without touching their bytes; the rest compare as raw
    /// bytes, case folded (a callback makes a dozen lookups over eight or so fields).
    private func spanIndex(named name: String, from start: Int = 0) -> Int? {
        var name = name
        return name.withUTF8 { wanted in
            head.withUnsafeBufferPointer { head in
                var index = start
                while index < spans.count {
                    let span = spans[index].name
                    if span.count == wanted.count && Self.sameLetters(head, from: span.lowerBound, wanted) {
                        return index
                    }
                    index += 1
                }
                return nil
            }
        }
    }

    private static func sameLetters(
        _ head: UnsafeBufferPointer<UInt8>, from start: Int, _ wanted: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        for offset in 0..<wanted.count
        where ASCII.lowercased(head[start + offset]) != ASCII.lowercased(wanted[offset]) {
            return false
        }
        return true
    }
}
