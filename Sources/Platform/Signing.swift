import Crypto
import HTTP1

/// The platform's two signature methods (签名方式). The header value is the raw value.
public enum SignType: String, Sendable, CaseIterable {
    case sha256RSA = "SHA256-RSA"
    case md5 = "MD5"
}

/// The string to sign (签名生成): the header part then the body part, nothing between them.
///
/// Header part: `businessId`, `nonce`, `signType` (only when sent) and `timestamp` — never `sign`,
/// never an empty value — as `key=value`, sorted by name, joined with `&`. Body part: the exact body
/// bytes as sent or received, never a re-encoding.
public enum StringToSign {
    /// An array, not a set: four small strings compare faster than one hashes (every callback checks).
    public static let signedHeaderNames = ["businessId", "nonce", "signType", "timestamp"]

    /// The string to sign of a received message: `make(headers:body:)` over the first value of each
    /// signed header, read from `headers` as bytes. Every callback builds one, and its header values
    /// need never become strings or a list of pairs.
    public static func make(receivedHeaders headers: ReceivedHeaders, body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 160)
        // `signedHeaderNames` is in the sorted order.
        for name in signedHeaderNames {
            let mark = out.count
            if mark > 0 { out.append(UInt8(ascii: "&")) }
            appendUTF8(name, to: &out)
            out.append(UInt8(ascii: "="))
            // Absent or empty: never signed (签名生成), so the name goes again.
            guard let count = headers.appendFirstValue(name, to: &out), count > 0 else {
                out.removeLast(out.count - mark)
                continue
            }
        }
        out.append(contentsOf: body)
        return out
    }

    public static func make(headers: [(name: String, value: String)], body: [UInt8]) -> [UInt8] {
        let precedes = { (a: (name: String, value: String), b: (name: String, value: String)) in
            a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        let included = { (header: (name: String, value: String)) in
            signedHeaderNames.contains(header.name) && !header.value.isEmpty
        }
        // A callback's headers arrive here already picked and in order: use them as they are rather
        // than filter and sort into two new arrays on every callback.
        let ready =
            headers.allSatisfy(included) && zip(headers, headers.dropFirst()).allSatisfy { precedes($0, $1) }
        return join(ready ? headers : headers.filter(included).sorted(by: precedes), body: body)
    }

    private static func join(_ signed: [(name: String, value: String)], body: [UInt8]) -> [UInt8] {
        // Bytes appended directly: every callback verifies one of these on the event loop.
        var out: [UInt8] = []
        out.reserveCapacity(
            body.count + signed.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 })
        for (index, header) in signed.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "&")) }
            appendUTF8(header.name, to: &out)
            out.append(UInt8(ascii: "="))
            appendUTF8(header.value, to: &out)
        }
        out.append(contentsOf: body)
        return out
    }

    /// A string's bytes copied from its contiguous UTF-8 (what native strings have) rather than through
    /// the UTF8View iterator, which costs several times as much on every callback.
    private static func appendUTF8(_ text: String, to out: inout [UInt8]) {
        if text.utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil {
            out.append(contentsOf: text.utf8)
        }
    }
}

/// The keys a merchant holds: its RSA private key (to sign requests), the platform's RSA public key
/// (to verify callbacks), and/or the shared MD5 key. Which are needed depends on `signType`.
public struct SigningKeys: Sendable {
    public var merchantPrivateKey: RSAPrivateKey?
    public var platformPublicKey: RSAPublicKey?
    public var md5Key: [UInt8]?

    public init(
        merchantPrivateKey: RSAPrivateKey? = nil, platformPublicKey: RSAPublicKey? = nil,
        md5Key: [UInt8]? = nil
    ) {
        self.merchantPrivateKey = merchantPrivateKey
        self.platformPublicKey = platformPublicKey
        self.md5Key = md5Key
    }

    public struct MissingKey: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// `sign`: Base64 of SHA256withRSA, or uppercase hex MD5 of `stringToSign + key`.
    public func sign(_ stringToSign: [UInt8], type: SignType) throws -> String {
        switch type {
        case .sha256RSA:
            guard let key = merchantPrivateKey else {
                throw MissingKey(description: "no merchant private key is configured for SHA256-RSA")
            }
            return Base64.encode(try key.signSHA256(stringToSign))
        case .md5:
            guard let key = md5Key else { throw MissingKey(description: "no MD5 key is configured") }
            return Hex.upper(Digest.md5(stringToSign + key))
        }
    }

    /// The auth headers with their exact names — `businessId`, `nonce`, `timestamp`, `signType`, then
    /// `sign` computed over them and the body bytes. The platform signs its callbacks the same way.
    public func authHeaders(
        businessId: String, nonce: String, timestamp: Int64, signType: SignType, body: [UInt8]
    )
        throws -> [(name: String, value: String)]
    {
        var headers: [(name: String, value: String)] = [
            ("businessId", businessId),
            ("nonce", nonce),
            ("timestamp", String(timestamp)),
            ("signType", signType.rawValue),
        ]
        headers.append(("sign", try sign(StringToSign.make(headers: headers, body: body), type: signType)))
        return headers
    }

    public enum Verdict: Sendable, Equatable {
        case valid
        case invalid
        /// The callback used a sign type whose key this merchant has not configured.
        case noKey
    }

    /// Checks a signature the platform sent. The comparison is constant-time and the expected value
    /// never leaves this function.
    public func verify(_ stringToSign: [UInt8], signature: String, type: SignType) -> Verdict {
        switch type {
        case .sha256RSA:
            guard let key = platformPublicKey else { return .noKey }
            guard let raw = Base64.decode(signature), !raw.isEmpty else { return .invalid }
            return key.verifySHA256(stringToSign, signature: raw) ? .valid : .invalid
        case .md5:
            guard let key = md5Key else { return .noKey }
            // The length of a hex MD5 is public; only its digits are compared in constant time.
            guard signature.utf8.count == 32 else { return .invalid }
            // Expected and received side by side on the stack, never on the heap (every callback checks
            // one), and wiped before the stack is given back.
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16 + 32 + 32) { scratch in
                defer { scratch.update(repeating: 0) }
                let digest = UnsafeMutableBufferPointer(rebasing: scratch[0..<16])
                let expected = UnsafeMutableBufferPointer(rebasing: scratch[16..<48])
                let received = UnsafeMutableBufferPointer(rebasing: scratch[48..<80])
                Digest.md5(stringToSign, then: key, into: digest)
                Hex.upper(UnsafeBufferPointer(digest), into: expected)
                // Hex digits compare without case; anything else in `signature` cannot match a hex digit.
                // Read from its contiguous bytes: the UTF8View iterator costs several times as much.
                var signature = signature
                signature.withUTF8 { bytes in
                    for index in 0..<32 {
                        let byte = bytes[index]
                        received[index] =
                            byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
                    }
                }
                return constantTimeEquals(UnsafeBufferPointer(expected), UnsafeBufferPointer(received))
                    ? .valid : .invalid
            }
        }
    }
}
