/// The shape of a key as found in a file, told apart before any bytes reach libcrypto so that
/// errors can say what was found ("an encrypted key", "a CERTIFICATE block") without quoting it.
enum KeyText {
    /// A PEM block; `label` is the word between "-----BEGIN " and "-----" (e.g. "PRIVATE KEY").
    case pem(label: String, bytes: [UInt8])
    /// Bare Base64 of DER, as the platform's Java samples print keys (whitespace and newlines allowed).
    case der([UInt8])

    /// `what` names the key in error sentences, e.g. "RSA private key".
    static func classify(_ text: String, what: String) throws(CryptoError) -> KeyText {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else {
            throw CryptoError("The \(what) is empty; expected a PEM block or Base64 DER.")
        }
        if let label = pemLabel(trimmed) {
            return .pem(label: label, bytes: Array(trimmed.utf8))
        }
        guard let der = Base64.decode(trimmed), !der.isEmpty else {
            throw CryptoError(
                "The \(what) is neither PEM (\"-----BEGIN ...-----\") nor Base64 DER; check that the file "
                    + "holds the key itself.")
        }
        return .der(der)
    }

    /// Headers are not key material, but they come from a file: only a short, plain label is quoted.
    private static func pemLabel(_ text: String) -> String? {
        guard let begin = text.firstRange(of: "-----BEGIN ") else { return nil }
        let rest = text[begin.upperBound...]
        guard let end = rest.firstRange(of: "-----") else { return nil }
        let label = String(rest[..<end.lowerBound])
        let plain =
            label.count <= 40
            && label.allSatisfy { $0 == " " || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return plain ? label : "unrecognised"
    }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = {
            $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n"
        }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) })
        else {
            return ""
        }
        return String(self[first...last])
    }
}
