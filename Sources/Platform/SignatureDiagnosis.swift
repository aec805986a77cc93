import Crypto
import Foundation
import HTTP1

/// Why a captured platform callback's signature fails (验签失败), in one verdict an operator can act on.
///
/// It accepts exactly what openidd's callback endpoint accepts: the same auth headers (first value,
/// ASCII case ignored), the same `StringToSign` over the raw body, the same `SigningKeys.verify`, and
/// `businessId` must equal the configured one. Only when that check fails does it look further:
/// whether the RSA signature recovers under the configured key at all, then which plausible change
/// of the signed bytes (a re-encoded body, a header left out) makes the signature check out.
/// It never reveals the expected signature, nor a digest from which it would follow.
public struct SignatureDiagnosis: Sendable {
    public enum Verdict: Sendable, Equatable {
        case valid
        /// `sign` or `businessId` absent (the daemon refuses either); `nonce` or `timestamp` absent when
        /// the signature fails, as the platform signs them.
        case missingHeader(String)
        case unknownSignType(String)
        /// The callback's signType has no key in the configuration.
        case noKey(SignType)
        case businessIdMismatch(received: String, configured: String)
        /// `sign` is not the shape its signType produces (Base64, or 32 hex digits for MD5).
        case malformedSignature(String)
        /// SHA256-RSA: the signature does not recover under the configured platform public key.
        case differentKey(fingerprint: String)
        /// SHA256-RSA: the configured key signed, but over a digest other than SHA-256.
        case differentDigest(algorithm: String)
        /// The key is right; the signature checks out over the received bytes changed as described.
        case bytesDiffer(change: String)
        /// SHA256-RSA: the key is right, but no known change of the bytes explains the signature.
        case unexplainedBytes
        /// MD5: no known change explains the signature, so the key or the bytes differ.
        case md5KeyOrBytesDiffer
    }

    public let verdict: Verdict
    /// The type checked: the `signType` header, or the configured one when the header is absent.
    public let signType: SignType?
    public let signTypeFromHeader: Bool
    /// The fingerprint of the key checked against (see `KeyFingerprint`), when there is one.
    public let keyFingerprint: String?
    /// The string to sign exactly as openidd builds it from the capture (not secret).
    public let stringToSign: [UInt8]
    /// Things worth knowing that do not change the verdict.
    public let notes: [String]

    public var isValid: Bool { verdict == .valid }

    /// A stable name for scripts (`--json`).
    public var code: String {
        switch verdict {
        case .valid: "valid"
        case .missingHeader: "missing_header"
        case .unknownSignType: "unknown_sign_type"
        case .noKey: "no_key"
        case .businessIdMismatch: "business_id_mismatch"
        case .malformedSignature: "malformed_signature"
        case .differentKey: "different_key"
        case .differentDigest: "different_digest"
        case .bytesDiffer: "bytes_differ"
        case .unexplainedBytes: "unexplained_bytes"
        case .md5KeyOrBytesDiffer: "md5_key_or_bytes_differ"
        }
    }

    /// The verdict as a sentence.
    public var message: String {
        switch verdict {
        case .valid:
            return "the signature is valid: openidd accepts this callback's signature and businessId"
        case .missingHeader(let name):
            if name == "sign" || name == "businessId" {
                return "the header \(name) is missing; openidd refuses a callback without it"
            }
            return
                "the header \(name) is missing, and the platform signs it: the signature cannot check out without it (is the capture complete? does a proxy drop it?)"
        case .unknownSignType(let value):
            return "the signType header is \"\(value)\"; openidd knows only SHA256-RSA and MD5 (case matters)"
        case .noKey(let type):
            let key = type == .md5 ? "platform.md5KeyFile" : "platform.platformPublicKeyFile"
            return "the callback is signed with \(type.rawValue), but no key for it is configured (\(key))"
        case .businessIdMismatch(let received, let configured):
            return
                "the businessId header is \"\(received)\" but platform.businessId is \"\(configured)\": the callback is for another merchant account, or the configuration names the wrong one"
        case .malformedSignature(let reason):
            return "the sign header is malformed: \(reason)"
        case .differentKey(let fingerprint):
            return
                "signed with a different key than the platform public key configured (platform.platformPublicKeyFile, fingerprint \(fingerprint)); ask the platform for its current public key"
        case .differentDigest(let algorithm):
            return
                "the configured platform key made this signature, but over a \(algorithm) digest instead of SHA-256 (SHA256withRSA)"
        case .bytesDiffer(let change):
            return
                "the key is right, but the signed bytes differ from those received: the signature matches \(change)"
        case .unexplainedBytes:
            return
                "the key is right (the signature recovers under the configured platform public key), but the platform signed other bytes than the string to sign below; compare it with the platform's"
        case .md5KeyOrBytesDiffer:
            return
                "the MD5 signature does not match: the MD5 key differs from the platform's, or the platform signed other bytes than the string to sign below"
        }
    }

    /// Diagnoses a callback's auth headers and raw body against the configured account and keys.
    public static func diagnose(
        headers: HTTPHeaders, body: [UInt8], account: PlatformAccount, keys: SigningKeys
    ) -> SignatureDiagnosis {
        // The daemon's order: sign present, a known signType (or the configured one), then the check.
        var signed: [(name: String, value: String)] = []
        for name in ["businessId", "nonce", "timestamp", "signType"] {
            if let value = headers[name] { signed.append((name, value)) }
        }
        let stringToSign = StringToSign.make(headers: signed, body: body)
        var signType: SignType? = account.signType
        var fromHeader = false
        if let declared = headers["signType"], !declared.isEmpty {
            signType = SignType(rawValue: declared)
            fromHeader = true
        }
        let fingerprint = signType.flatMap { verifyingKeyFingerprint(keys, $0) }
        func result(_ verdict: Verdict, notes: [String] = []) -> SignatureDiagnosis {
            SignatureDiagnosis(
                verdict: verdict, signType: signType, signTypeFromHeader: fromHeader,
                keyFingerprint: fingerprint, stringToSign: stringToSign, notes: notes)
        }

        guard let sign = headers["sign"], !sign.isEmpty else { return result(.missingHeader("sign")) }
        guard let signType else { return result(.unknownSignType(headers["signType"] ?? "")) }
        // The daemon refuses a wrong or absent businessId whatever the signature says; it is the plainest
        // explanation of a key mismatch too (a callback for another account).
        guard let businessId = headers["businessId"], !businessId.isEmpty else {
            return result(.missingHeader("businessId"))
        }
        let missing = ["nonce", "timestamp"].filter { (headers[$0] ?? "").isEmpty }

        switch keys.verify(stringToSign, signature: sign, type: signType) {
        case .noKey:
            return result(.noKey(signType))
        case .valid:
            guard businessId == account.businessId else {
                return result(.businessIdMismatch(received: businessId, configured: account.businessId))
            }
            let notes = missing.map {
                "the header \($0) is absent; openidd accepts that, but the platform normally sends and signs it"
            }
            return result(.valid, notes: notes)
        case .invalid:
            break
        }
        guard businessId == account.businessId else {
            return result(.businessIdMismatch(received: businessId, configured: account.businessId))
        }
        if let malformed = malformedSignature(sign, type: signType) {
            return result(.malformedSignature(malformed))
        }
        if signType == .sha256RSA, let key = keys.platformPublicKey, let raw = Base64.decode(sign) {
            guard let recovered = key.recoverPKCS1DigestInfo(raw) else {
                return result(.differentKey(fingerprint: KeyFingerprint.of(key)))
            }
            let info = DigestInfo(der: recovered)
            guard info?.algorithm == "SHA-256" else {
                return result(.differentDigest(algorithm: info?.algorithm ?? "unrecognised"))
            }
        }
        let variants = SignedBytesVariants(headers: signed, body: body, signType: signType)
        if let change = variants.first(where: {
            keys.verify($0.bytes, signature: sign, type: signType) == .valid
        }) {
            return result(.bytesDiffer(change: change.description))
        }
        if let name = missing.first { return result(.missingHeader(name)) }
        return result(signType == .md5 ? .md5KeyOrBytesDiffer : .unexplainedBytes)
    }

    static func verifyingKeyFingerprint(_ keys: SigningKeys, _ type: SignType) -> String? {
        switch type {
        case .sha256RSA: keys.platformPublicKey.map(KeyFingerprint.of)
        case .md5: keys.md5Key.map(KeyFingerprint.ofMD5Key)
        }
    }

    /// Shapes that no key could have produced, with the likely cause. Only asked once the check failed.
    static func malformedSignature(_ sign: String, type: SignType) -> String? {
        if sign.contains("%") {
            return "it is percent-encoded (%2B, %2F, %3D); the platform sends it as is in a header"
        }
        switch type {
        case .sha256RSA:
            if sign.contains(" ") {
                return
                    "it contains spaces, probably a \"+\" of the Base64 turned into a space by URL-decoding"
            }
            guard let raw = Base64.decode(sign), !raw.isEmpty else {
                return "a SHA256-RSA signature is Base64, and this is not"
            }
            return nil
        case .md5:
            guard sign.utf8.count == 32, sign.utf8.allSatisfy({ $0.isHexDigit }) else {
                return "an MD5 signature is 32 hexadecimal digits, and this has \(sign.utf8.count) characters"
            }
            return nil
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}

/// Strings to sign that differ from the daemon's in one plausible way (or two), simplest first: the
/// mistakes behind most 验签失败 reports. Each is built with `StringToSign`, only its inputs change.
struct SignedBytesVariants: Sequence {
    struct Variant {
        let description: String
        let bytes: [UInt8]
    }

    private let variants: [Variant]

    init(headers: [(name: String, value: String)], body: [UInt8], signType: SignType) {
        let headerChanges = Self.headerChanges(headers, signType: signType)
        let bodyChanges = Self.bodyChanges(body)
        var variants: [Variant] = []
        for (description, changed) in headerChanges {
            variants.append(
                Variant(description: description, bytes: StringToSign.make(headers: changed, body: body)))
        }
        for (description, changed) in bodyChanges {
            variants.append(
                Variant(description: description, bytes: StringToSign.make(headers: headers, body: changed)))
        }
        for (separator, name) in [("&", "\"&\""), ("\n", "a newline")] {
            variants.append(
                Variant(
                    description: "a string to sign with \(name) between the header part and the body",
                    bytes: StringToSign.make(headers: headers, body: Array(separator.utf8) + body)))
        }
        if signType == .md5 {
            // `SigningKeys.verify` appends the key; a signer that writes `…&key=KEY` differs by this much.
            variants.append(
                Variant(
                    description:
                        "the string to sign followed by \"&key=\" and the key (the platform appends the key directly)",
                    bytes: StringToSign.make(headers: headers, body: body) + Array("&key=".utf8)))
        }
        for (headerDescription, changedHeaders) in headerChanges {
            for (bodyDescription, changedBody) in bodyChanges {
                variants.append(
                    Variant(
                        description: "\(headerDescription), and \(bodyDescription)",
                        bytes: StringToSign.make(headers: changedHeaders, body: changedBody)))
            }
        }
        self.variants = variants
    }

    func makeIterator() -> IndexingIterator<[Variant]> {
        variants.makeIterator()
    }

    static func headerChanges(_ headers: [(name: String, value: String)], signType: SignType)
        -> [(String, [(name: String, value: String)])]
    {
        var changes: [(String, [(name: String, value: String)])] = []
        if headers.contains(where: { $0.name == "signType" }) {
            changes.append(
                (
                    "a string to sign without signType in the header part (the signer leaves it out, though the header is sent)",
                    headers.filter { $0.name != "signType" }
                ))
        } else {
            changes.append(
                (
                    "a string to sign with signType=\(signType.rawValue) in the header part (the signer includes it, but no signType header arrived)",
                    headers + [("signType", signType.rawValue)]
                ))
        }
        for name in ["businessId", "nonce", "timestamp"] where headers.contains(where: { $0.name == name }) {
            changes.append(
                (
                    "a string to sign without \(name) in the header part (the signer leaves it out, or a header arrived that it did not sign)",
                    headers.filter { $0.name != name }
                ))
        }
        changes.append(("the body alone, without the header part", []))
        return changes
    }

    static func bodyChanges(_ body: [UInt8]) -> [(String, [UInt8])] {
        let lf = UInt8(ascii: "\n")
        let cr = UInt8(ascii: "\r")
        var changes: [(String, [UInt8])] = []
        func add(_ description: String, _ changed: [UInt8]?) {
            guard let changed, changed != body, !changes.contains(where: { $0.1 == changed }) else { return }
            changes.append((description, changed))
        }
        var trimmed = body
        while let last = trimmed.last, last == lf || last == cr { trimmed.removeLast() }
        add("the body without its trailing newline (the capture, an editor or a proxy added one)", trimmed)
        if body.last != lf {
            add("the body with a trailing newline (the body file lacks one that was signed)", body + [lf])
        }
        if body.contains(cr) {
            add("the body with CRLF line ends turned into LF", Self.replacing(body, [cr, lf], with: [lf]))
        } else if body.contains(lf) {
            add("the body with LF line ends turned into CRLF", Self.replacing(body, [lf], with: [cr, lf]))
        }
        let compact = JSONText.compacted(body)
        add(
            "the body re-serialised as compact JSON (the body received has whitespace the signer's had not)",
            compact)
        add(
            "the body re-serialised as compact JSON with \"/\" escaped as \"\\/\" (the body was re-encoded)",
            JSONText.slashesEscaped(compact))
        add(
            "the body re-serialised as compact JSON with \"\\/\" unescaped to \"/\" (the body was re-encoded)",
            JSONText.slashesUnescaped(compact))
        add(
            "the body re-serialised as compact JSON with non-ASCII characters escaped as \\uXXXX (the body was re-encoded)",
            JSONText.nonASCIIEscaped(compact))
        add(
            "the body re-serialised as JSON with its keys sorted (the body was re-encoded)",
            JSONText.sortedKeys(body))
        add("an empty body (the signer signs the header part alone)", [])
        return changes
    }

    static func replacing(_ bytes: [UInt8], _ target: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index...].starts(with: target) {
                out += replacement
                index += target.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}

/// Lexical rewrites of JSON text that keep key order and every other byte, so a body can be compared
/// with what a signer's encoder would have produced. Text that is not JSON passes through mostly intact.
enum JSONText {
    /// Drops whitespace outside strings.
    static func compacted(_ bytes: [UInt8]) -> [UInt8] {
        rewrite(bytes) { byte, inString, out in
            if !inString && (byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D) { return }
            out.append(byte)
        }
    }

    static func slashesEscaped(_ bytes: [UInt8]) -> [UInt8] {
        rewrite(bytes) { byte, inString, out in
            if inString && byte == UInt8(ascii: "/") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
    }

    static func slashesUnescaped(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString && byte == UInt8(ascii: "\\") && index + 1 < bytes.count {
                if bytes[index + 1] != UInt8(ascii: "/") { out.append(byte) }
                out.append(bytes[index + 1])
                index += 2
                continue
            }
            if byte == UInt8(ascii: "\"") { inString.toggle() }
            out.append(byte)
            index += 1
        }
        return out
    }

    /// As Python's `json.dumps` writes non-ASCII by default: `\u4e2d`, surrogate pairs above U+FFFF.
    static func nonASCIIEscaped(_ bytes: [UInt8]) -> [UInt8]? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var out: [UInt8] = []
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                out.append(UInt8(scalar.value))
                continue
            }
            for unit in String(scalar).utf16 {
                out += Array("\\u".utf8) + Array(Hex.lower([UInt8(unit >> 8), UInt8(unit & 0xFF)]).utf8)
            }
        }
        return out
    }

    /// Compact, keys sorted, `/` unescaped: what Foundation's encoder makes of the parsed body.
    static func sortedKeys(_ bytes: [UInt8]) -> [UInt8]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)),
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        return Array(data)
    }

    /// Walks the bytes tracking whether each is inside a string (escapes honoured).
    private static func rewrite(
        _ bytes: [UInt8], _ emit: (_ byte: UInt8, _ inString: Bool, _ out: inout [UInt8]) -> Void
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                    out.append(byte)
                    continue
                }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    out.append(byte)
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    inString = false
                    out.append(byte)
                    continue
                }
                emit(byte, true, &out)
            } else {
                if byte == UInt8(ascii: "\"") {
                    inString = true
                    out.append(byte)
                    continue
                }
                emit(byte, false, &out)
            }
        }
        return out
    }
}
