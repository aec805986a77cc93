/// Input rules shared by the IPC API and the callback endpoint.
public enum Validation {
    /// openId: 1–128 characters of [A-Za-z0-9_-] (SPEC, "Bound only when").
    public static func isValidOpenId(_ value: String) -> Bool {
        isToken(value, maximumLength: 128)
    }

    /// serialNo chosen by an app: 1–64 characters of [A-Za-z0-9_-], so it is safe in logs, paths and the
    /// platform's JSON. The ones the daemon makes are of the same alphabet.
    public static func isValidSerialNo(_ value: String) -> Bool {
        isToken(value, maximumLength: 64)
    }

    /// userId: the merchant's own customer id (SPEC): 1–128 Unicode scalars and at most 512 UTF-8 bytes,
    /// no control characters. Counted in scalars and bytes, not `Character`s: one grapheme cluster can
    /// hold any number of combining marks. 512 bytes percent-encode to at most 1,536, which fits the IPC
    /// request-target limit, so every accepted userId can be looked up with `GET /v1/bindings?userId=`.
    public static let maximumUserIdScalars = 128
    public static let maximumUserIdBytes = 512

    public static func isValidUserId(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= maximumUserIdBytes,
            value.unicodeScalars.count <= maximumUserIdScalars
        else { return false }
        return value.unicodeScalars.allSatisfy {
            $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value)
        }
    }

    static func isToken(_ value: String, maximumLength: Int) -> Bool {
        let bytes = value.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        return bytes.allSatisfy(isTokenByte)
    }

    /// [A-Za-z0-9_-].
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
