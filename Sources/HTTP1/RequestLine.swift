/// `request-line = method SP request-target SP HTTP-version` (RFC 9112 §3), read strictly: single
/// spaces, visible ASCII only, a target in origin-form (or absolute-form, or "*" for OPTIONS).
struct RequestLine {
    var method: String
    var target: String
    var versionMinor: Int
    /// For an origin-form target, its path and query, found while its bytes were checked (every request
    /// needs them; searching the string again costs more than the rest of the line).
    var origin: (path: Substring, query: Substring?)?

    init(parsing line: UnsafeBufferPointer<UInt8>, maxTargetLength: Int) throws(HTTPParseError) {
        // Every request reads this line, so each check is a tight loop over the raw bytes: a search
        // through Slice's generic indices cost several times as much as the rest of the line.
        guard ASCII.isVisibleOrSpace(line) else {
            throw .badRequest("request line contains a control character or non-ASCII byte")
        }
        guard let firstSpace = line.firstIndex(of: ASCII.space),
            let secondSpace = UnsafeBufferPointer(rebasing: line[(firstSpace + 1)...]).firstIndex(
                of: ASCII.space
            )
            .map({ firstSpace + 1 + $0 })
        else {
            throw .badRequest("request line is not \"method target version\"")
        }
        let method = line[..<firstSpace]
        let target = line[(firstSpace + 1)..<secondSpace]
        let version = line[(secondSpace + 1)...]
        guard ASCII.isToken(UnsafeBufferPointer(rebasing: method)) else {
            throw .badRequest("method is not a token")
        }
        guard target.count <= maxTargetLength else {
            throw HTTPParseError(status: 414, reason: "request target longer than \(maxTargetLength) bytes")
        }
        versionMinor = try Self.versionMinor(version)
        let targetBytes = UnsafeBufferPointer(rebasing: target)
        // A fragment is never sent (RFC 9112 §3.2); "#" in a target is garbage or an attack.
        if targetBytes.contains(UInt8(ascii: "#")) { throw .badRequest("request target contains \"#\"") }
        let question = targetBytes.firstIndex(of: UInt8(ascii: "?"))
        self.method = String(decoding: UnsafeBufferPointer(rebasing: method), as: UTF8.self)
        let text = String(decoding: targetBytes, as: UTF8.self)
        self.target = text
        if target.first == UInt8(ascii: "/") {
            // ASCII only (checked above), so byte offsets are UTF-8 offsets.
            if let question {
                let mark = text.utf8.index(text.startIndex, offsetBy: question)
                origin = (text[..<mark], text[text.utf8.index(after: mark)...])
            } else {
                origin = (text[...], nil)
            }
        }
        try checkTargetForm()
    }

    /// "HTTP/1.0" or "HTTP/1.1"; another well-formed version is a 505, anything else a 400.
    /// HTTP-name is case-sensitive (RFC 9112 §2.3).
    static func versionMinor(_ version: Slice<UnsafeBufferPointer<UInt8>>) throws(HTTPParseError) -> Int {
        // Byte by byte: a generic `starts(with:)` of a slice against a string's UTF-8 cost more than
        // the rest of the line's checks.
        let start = version.startIndex
        guard version.count == 8, version[start] == UInt8(ascii: "H"),
            version[start + 1] == UInt8(ascii: "T"),
            version[start + 2] == UInt8(ascii: "T"), version[start + 3] == UInt8(ascii: "P"),
            version[start + 4] == UInt8(ascii: "/")
        else {
            throw .badRequest("malformed HTTP version")
        }
        let (major, dot, minor) = (version[start + 5], version[start + 6], version[start + 7])
        guard ASCII.isDigit(major), dot == UInt8(ascii: "."), ASCII.isDigit(minor) else {
            throw .badRequest("malformed HTTP version")
        }
        guard major == UInt8(ascii: "1"), minor <= UInt8(ascii: "1") else {
            throw HTTPParseError(status: 505, reason: "only HTTP/1.0 and HTTP/1.1 are supported")
        }
        return Int(minor - UInt8(ascii: "0"))
    }

    private func checkTargetForm() throws(HTTPParseError) {
        if target.utf8.first == UInt8(ascii: "/") { return }
        if target == "*" {
            guard method == "OPTIONS" else { throw .badRequest("\"*\" is a target for OPTIONS only") }
            return
        }
        for scheme in ["http://", "https://"] where target.utf8.count > scheme.utf8.count {
            if target.prefix(scheme.count).equalsIgnoringASCIICase(scheme) {
                let authority = target.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" }
                guard !authority.isEmpty else { throw .badRequest("absolute request target without a host") }
                return
            }
        }
        throw .badRequest("request target must start with \"/\"")
    }
}
