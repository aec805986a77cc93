/// Hexadecimal text of bytes: uppercase for the platform's MD5 signatures, lowercase for
/// fingerprints.
public enum Hex {
    public static func upper(_ bytes: [UInt8]) -> String {
        String(decoding: upperBytes(bytes), as: UTF8.self)
    }

    public static func lower(_ bytes: [UInt8]) -> String {
        String(decoding: encode(bytes, digits: lowerDigits), as: UTF8.self)
    }

    /// Uppercase hex as bytes (the MD5 check compares bytes; no String needed).
    public static func upperBytes(_ bytes: [UInt8]) -> [UInt8] {
        encode(bytes, digits: upperDigits)
    }

    private static let upperDigits = Array("0123456789ABCDEF".utf8)
    private static let lowerDigits = Array("0123456789abcdef".utf8)

    private static func encode(_ bytes: [UInt8], digits: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return output
    }
}
