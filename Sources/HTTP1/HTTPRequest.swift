/// A request as received (or, for clients and tests, as built).
public struct HTTPRequest: Sendable {
    /// The method token, case-sensitive (RFC 9110 §9.1): "GET", "POST".
    public var method: String
    /// The raw request-target, e.g. "/v1/bindings?userId=u%2042".
    public var target: String
    /// The target's path, before any "?", not percent-decoded.
    public var path: String
    /// The query, form-decoded, in order.
    public var query: [(name: String, value: String)]
    /// HTTP/1.x.
    public var versionMinor: Int
    public var headers: ReceivedHeaders
    public var body: [UInt8]
    /// Whether the connection may carry another request after this one (RFC 9112 §9.3).
    public var keepAlive: Bool

    /// An HTTP/1.1 request built in-process (a client's, a test's), its headers laid out as received.
    /// A query that is not valid form encoding is left out of `query` (the parser refuses such a target
    /// with a 400 instead).
    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        let (path, query) = Self.components(of: target)
        self.init(
            method: method, target: target, path: String(path),
            query: query.flatMap { try? QueryDecoding.decode($0) } ?? [],
            versionMinor: 1, headers: ReceivedHeaders(headers), body: body)
    }

    init(
        method: String, target: String, path: String, query: [(name: String, value: String)],
        versionMinor: Int, headers: ReceivedHeaders, body: [UInt8]
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.versionMinor = versionMinor
        self.headers = headers
        self.body = body
        keepAlive = Self.persistsConnection(versionMinor: versionMinor, headers: headers)
    }

    /// The first query value named `name` (case-sensitive), or nil.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The path and query of an origin-form or absolute-form target (RFC 9112 §3.2).
    static func components(of target: String) -> (path: Substring, query: Substring?) {
        var rest = Substring(target)
        // origin-form, what nearly every request sends, starts with "/"; only absolute-form has a scheme.
        for scheme in ["http://", "https://"]
        where rest.utf8.first != UInt8(ascii: "/") && rest.utf8.starts(with: scheme.utf8, by: caseInsensitive)
        {
            let authority = rest.utf8.dropFirst(scheme.utf8.count)
            let authorityEnd =
                authority.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
                ?? authority.endIndex
            rest = rest[authorityEnd...]
            if rest.utf8.first != UInt8(ascii: "/") { rest = Substring("/" + rest) }
        }
        guard let question = rest.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (rest, nil) }
        return (rest[..<question], rest[rest.utf8.index(after: question)...])
    }

    private static func caseInsensitive(_ lhs: UInt8, _ rhs: UInt8) -> Bool {
        ASCII.lowercased(lhs) == ASCII.lowercased(rhs)
    }

    /// HTTP/1.1 persists unless an option says "close"; HTTP/1.0 only with "keep-alive" (RFC 9112 §9.3).
    static func persistsConnection(versionMinor: Int, headers: ReceivedHeaders) -> Bool {
        let options = headers.values("Connection").flatMap(ASCII.listElements)
        if options.contains(where: { $0.equalsIgnoringASCIICase("close") }) { return false }
        return versionMinor >= 1 || options.contains { $0.equalsIgnoringASCIICase("keep-alive") }
    }
}
