/// Bytes and character classes of the HTTP grammar (RFC 9110 §5.6, RFC 9112 §2).
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let colon = UInt8(ascii: ":")
    static let crlf: [UInt8] = [cr, lf]

    /// tchar (RFC 9110 §5.6.2): the characters of methods, field names and transfer codings.
    private static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// `isTokenChar` for each byte value, computed once: every request's method and field names are
    /// checked against it.
    private static let tokenChars: [Bool] = (0...255).map { isTokenChar(UInt8($0)) }

    /// token = 1*tchar: methods, field names, transfer codings.
    static func isToken(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        let table = tokenChars
        for byte in bytes where !table[Int(byte)] { return false }
        return true
    }

    static func isToken(_ text: String) -> Bool {
        var text = text
        return text.withUTF8(isToken)
    }

    /// OWS / BWS (RFC 9110 §5.6.3).
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    /// field-vchar, SP or HTAB (RFC 9110 §5.5): anything but the CTLs and DEL; obs-text is included.
    static func isFieldContent(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// The elements of a comma-separated list field value (RFC 9110 §5.6.1), trimmed; empty ones dropped
    /// as the RFC requires of recipients.
    static func listElements(_ value: String) -> [Substring] {
        value.utf8.split(separator: UInt8(ascii: ",")).map { trimmingWhitespace(Substring($0)) }.filter {
            !$0.isEmpty
        }
    }

    static func trimmingWhitespace(_ text: Substring) -> Substring {
        let bytes = text.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isWhitespace(bytes[start]) { bytes.formIndex(after: &start) }
        while end > start, isWhitespace(bytes[bytes.index(before: end)]) { bytes.formIndex(before: &end) }
        return Substring(bytes[start..<end])
    }
}

extension StringProtocol {
    /// Field names, connection options and codings compare ASCII case-insensitively (RFC 9110 §5.1).
    public func equalsIgnoringASCIICase(_ other: some StringProtocol) -> Bool {
        utf8.count == other.utf8.count
            && utf8.elementsEqual(other.utf8) { ASCII.lowercased($0) == ASCII.lowercased($1) }
    }
}
