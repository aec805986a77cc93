import Synchronization

/// Request ids count up across all listeners of the process.
let requestCounter = Atomic<UInt64>(0)

/// The next request id: `prefix` ("callback-") and the count in lowercase hex. Written into a stack
/// buffer and decoded once, so an id of up to 15 bytes is a small string with no allocation (this runs
/// for every request; formatting and joining two strings cost several times as much).
func nextRequestId(prefix: String) -> String {
    var number = requestCounter.add(1, ordering: .relaxed).newValue
    var prefix = prefix
    return prefix.withUTF8 { prefixBytes in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefixBytes.count + 16) { buffer in
            var digits = 1
            while digits < 16 && number >> (4 * UInt64(digits)) != 0 { digits += 1 }
            _ = buffer.initialize(from: prefixBytes)
            var index = prefixBytes.count + digits
            repeat {
                index -= 1
                let nibble = UInt8(number & 0xF)
                buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                number >>= 4
            } while index > prefixBytes.count
            return String(
                decoding: UnsafeBufferPointer(rebasing: buffer[..<(prefixBytes.count + digits)]),
                as: UTF8.self)
        }
    }
}
