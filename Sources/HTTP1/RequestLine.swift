/// `request-line = method SP request-target SP HTTP-version` (RFC 9112 §3), read strictly: single
/// spaces, visible ASCII only, a target in origin-form (or absolute-form, or "*" for OPTIONS).
struct RequestLine {
    var method: String
    var target: String
    var versionMinor: Int

    init(parsing line: UnsafeBufferPointer<UInt8>, maxTargetLength: Int) throws(HTTPParseError) {
        var targetLimit = TargetLimit(maxLength: maxTargetLength)
        try targetLimit.check(line)
        guard line.allSatisfy({ $0 >= ASCII.space && $0 < 0x7F }) else { throw .invalidByteInRequestLine }
        // Exactly two spaces, single ones: method, target and version are each non-empty (RFC 9112 §3).
        guard let firstSpace = line.firstIndex(of: ASCII.space), firstSpace > 0,
            let secondSpace = line[(firstSpace + 1)...].firstIndex(of: ASCII.space),
            secondSpace > firstSpace + 1,
            !line[(secondSpace + 1)...].contains(ASCII.space)
        else {
            throw .malformedRequestLine
        }
        let method = line[..<firstSpace]
        let target = line[(firstSpace + 1)..<secondSpace]
        guard ASCII.isToken(UnsafeBufferPointer(rebasing: method)) else { throw .methodNotToken }
        versionMinor = try HTTPVersion.minor(line[(secondSpace + 1)...])
        // A fragment is never sent (RFC 9112 §3.2); "#" in a target is garbage or an attack.
        if target.contains(UInt8(ascii: "#")) { throw .fragmentInTarget }
        self.method = String(decoding: method, as: UTF8.self)
        self.target = String(decoding: target, as: UTF8.self)
        try checkTargetForm()
    }

    /// The 414 rule (RFC 9110 §15.5.15), applied while the start line arrives as well as to the whole
    /// line, so a target that never ends is answered 414 rather than 431 once the head is too long.
    /// Resumes where it stopped: a line that arrives a byte at a time is read once.
    struct TargetLimit {
        let maxLength: Int
        private var scanned = 0
        /// Where the target starts, once the first space has been seen.
        private var targetStart: Int?
        private var targetEnded = false

        init(maxLength: Int) {
            self.maxLength = maxLength
        }

        /// `line` is the start line so far, from its first byte.
        mutating func check(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) {
            while !targetEnded && scanned < line.count {
                if line[scanned] == ASCII.space {
                    if targetStart == nil { targetStart = scanned + 1 } else { targetEnded = true }
                } else if let targetStart, scanned + 1 - targetStart > maxLength {
                    throw .targetTooLong(limit: maxLength)
                }
                scanned += 1
            }
        }
    }

    private func checkTargetForm() throws(HTTPParseError) {
        if target.utf8.first == UInt8(ascii: "/") { return }
        if target == "*" {
            guard method == "OPTIONS" else { throw .asteriskTargetWithoutOPTIONS }
            return
        }
        for scheme in ["http://", "https://"] where target.utf8.count > scheme.utf8.count {
            if target.prefix(scheme.count).equalsIgnoringASCIICase(scheme) {
                let authority = target.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" }
                guard !authority.isEmpty else { throw .absoluteTargetWithoutHost }
                return
            }
        }
        throw .malformedTarget
    }
}
