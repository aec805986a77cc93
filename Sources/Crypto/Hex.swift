/// Hexadecimal text of bytes: uppercase for the platform's MD5 signatures, lowercase for
/// fingerprints.
public enum Hex {
    public static func upper(_ bytes: [UInt8]) -> String {
        String(decoding: upperBytes(bytes), as: UTF8.self)
    }

    public static func lower(_ bytes: [UInt8]) -> String {
        String(decoding: encode(bytes, letterA: UInt8(ascii: "a")), as: UTF8.self)
    }

    /// Uppercase hex as bytes (the MD5 check compares bytes; no String needed).
    public static func upperBytes(_ bytes: [UInt8]) -> [UInt8] {
        encode(bytes, letterA: UInt8(ascii: "A"))
    }

    /// Uppercase hex of `bytes` into `output` (twice as long), for checks that keep both on the stack.
    public static func upper(
        _ bytes: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        precondition(output.count >= bytes.count * 2, "hex is twice as long as its bytes")
        for (index, byte) in bytes.enumerated() {
            output[2 * index] = digit(byte >> 4, letterA: UInt8(ascii: "A"))
            output[2 * index + 1] = digit(byte & 0x0F, letterA: UInt8(ascii: "A"))
        }
    }

    private static func encode(_ bytes: [UInt8], letterA: UInt8) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(digit(byte >> 4, letterA: letterA))
            output.append(digit(byte & 0x0F, letterA: letterA))
        }
        return output
    }

    private static func digit(_ nibble: UInt8, letterA: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : letterA + nibble - 10
    }
}
