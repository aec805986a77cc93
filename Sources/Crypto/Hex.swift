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

    /// Uppercase hex of `bytes` into `output` (twice as long), for checks that keep both on the stack.
    public static func upper(
        _ bytes: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        precondition(output.count >= bytes.count * 2, "hex is twice as long as its bytes")
        for (index, byte) in bytes.enumerated() {
            output[2 * index] = upperDigit(byte >> 4)
            output[2 * index + 1] = upperDigit(byte & 0x0F)
        }
    }

    @inline(__always)
    private static func upperDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
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
