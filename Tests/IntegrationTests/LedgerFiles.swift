import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A ledger line as the daemon writes it, newline included.
func ledgerLine(
    _ serialNo: String, userId: String = "u-1", openId: String = "o-1",
    boundAt: String = "2026-11-26T08:00:00.000Z"
) -> String {
    #"{"serialNo":"\#(serialNo)","userId":"\#(userId)","openId":"\#(openId)","merchantId":"mch-eb1b","businessId":"biz-754e0c5d","boundAt":"\#(boundAt)"}"#
        + "\n"
}

/// Writes a ledger of `count` (fewer than ten million) distinct bindings, line N being
/// `ledgerLine("sNNNNNNN", userId: "uNNNNNNN", openId: "oNNNNNNN")`, in seconds rather than minutes: one
/// template line copied into a chunk, only the digits rewritten. Returns the length of a line.
@discardableResult
func writeNumberedLedger(count: Int, to path: String) throws -> Int {
    let template = Array(ledgerLine("s0000000", userId: "u0000000", openId: "o0000000").utf8)
    let digitOffsets = [UInt8(ascii: "s"), UInt8(ascii: "u"), UInt8(ascii: "o")].map { letter in
        template.indices.first { template[$0] == letter && template[$0 + 1] == UInt8(ascii: "0") }! + 1
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw TestFailure("cannot create \(path): errno \(errno)") }
    defer { close(fd) }
    let linesPerChunk = 10_000
    var chunk = [UInt8](repeating: 0, count: template.count * linesPerChunk)
    try chunk.withUnsafeMutableBufferPointer { chunk in
        for index in 0..<linesPerChunk {
            template.withUnsafeBufferPointer {
                (chunk.baseAddress! + index * template.count).update(
                    from: $0.baseAddress!, count: template.count)
            }
        }
        for first in stride(from: 0, to: count, by: linesPerChunk) {
            let lines = min(linesPerChunk, count - first)
            for index in 0..<lines {
                var number = first + index
                let line = chunk.baseAddress! + index * template.count
                for position in (0..<7).reversed() {
                    let digit = UInt8(ascii: "0") + UInt8(number % 10)
                    number /= 10
                    for offset in digitOffsets { line[offset + position] = digit }
                }
            }
            let bytes = lines * template.count
            guard write(fd, chunk.baseAddress!, bytes) == bytes else {
                throw TestFailure("short write to \(path): errno \(errno)")
            }
        }
    }
    return template.count
}
