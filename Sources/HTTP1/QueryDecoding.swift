/// application/x-www-form-urlencoded decoding of a query string: pairs split on "&" and the first "=",
/// "+" is a space, "%XX" a byte, the result UTF-8. Unlike the lenient WHATWG algorithm, a malformed
/// escape or invalid UTF-8 is an error: a userId must never be decoded two ways.
enum QueryDecoding {
    static func decode(_ query: Substring) throws(HTTPParseError) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                let name = try decodeComponent(pair[..<equals])
                let value = try decodeComponent(pair[pair.index(after: equals)...])
                pairs.append((name, value))
            } else {
                pairs.append((try decodeComponent(pair), ""))
            }
        }
        return pairs
    }

    private static func decodeComponent(_ encoded: Substring.UTF8View) throws(HTTPParseError) -> String {
        if !encoded.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return String(Substring(encoded))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encoded.count)
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let byte = encoded[index]
            encoded.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(ASCII.space)
            case UInt8(ascii: "%"):
                guard index < encoded.endIndex, let high = ASCII.hexValue(encoded[index]),
                    case let next = encoded.index(after: index), next < encoded.endIndex,
                    let low = ASCII.hexValue(encoded[next])
                else {
                    throw .malformedQuery
                }
                bytes.append(UInt8(high << 4 | low))
                index = encoded.index(after: next)
            default:
                bytes.append(byte)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformedQuery
        }
        return text
    }
}
