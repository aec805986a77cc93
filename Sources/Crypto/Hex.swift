/// Hexadecimal text of bytes: uppercase for the platform's MD5 signatures, lowercase for
/// fingerprints.
public enum Hex {
    public static func upper(_ bytes: [UInt8]) -> String {
        encode(bytes, digits: Array("0123456789ABCDEF".utf8))
    }

    public static func lower(_ bytes: [UInt8]) -> String {
        encode(bytes, digits: Array("0123456789abcdef".utf8))
    }

    private static func encode(_ bytes: [UInt8], digits: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
