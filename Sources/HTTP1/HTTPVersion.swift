/// `HTTP-version = HTTP-name "/" DIGIT "." DIGIT` (RFC 9112 §2.3), of a request line or a status line.
enum HTTPVersion {
    /// The minor version of "HTTP/1.0" or "HTTP/1.1"; another well-formed version is a 505, anything
    /// else a 400. HTTP-name is case-sensitive.
    static func minor(_ version: Slice<UnsafeBufferPointer<UInt8>>) throws(HTTPParseError) -> Int {
        let start = version.startIndex
        guard version.count == 8, version.prefix(5).elementsEqual("HTTP/".utf8),
            ASCII.isDigit(version[start + 5]),
            version[start + 6] == UInt8(ascii: "."), ASCII.isDigit(version[start + 7])
        else {
            throw .malformedVersion
        }
        let (major, minor) = (version[start + 5], version[start + 7])
        guard major == UInt8(ascii: "1"), minor <= UInt8(ascii: "1") else { throw .unsupportedVersion }
        return Int(minor - UInt8(ascii: "0"))
    }
}
