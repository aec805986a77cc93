import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the complete lines of a JSON-lines file that a daemon may be appending to, without changing
/// the file, through one fixed-size buffer: memory stays the same for a ledger of any length. (Start-up
/// uses `LineFile`, which owns the file and repairs a torn tail; a reader beside the daemon must not.)
///
/// Only the bytes present when reading starts are read, so a busy daemon cannot keep a reader going
/// for ever. A last line without its newline is an append still in progress, or one torn by a crash and
/// never acknowledged: it is skipped.
public enum LineReader {
    /// Calls `body` with each non-empty complete line (without its newline) and its 1-based number;
    /// empty lines are counted but skipped, as replay skips them. A complete line that does not fit
    /// the buffer with its newline throws, naming the file and line; errors from `body` pass through
    /// unchanged.
    public static func readCompleteLines(
        of path: String, bufferSize: Int = 1 << 20,
        _ body: (_ line: UnsafeBufferPointer<UInt8>, _ lineNumber: Int) throws -> Void
    ) throws {
        precondition(bufferSize > 0)
        let fd = try FileDescriptor.open(path, O_RDONLY)
        defer { fd.close() }
        var remaining = try fd.size(subject: path)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bufferSize)
        defer { buffer.deallocate() }
        var filled = 0
        var lineNumber = 0
        // Set while discarding a line that did not fit: it is an error if its newline turns up.
        var skippingLongLine = false
        while remaining > 0 {
            let count = try retryingEINTR("read", subject: path) {
                read(fd.rawValue, buffer.baseAddress! + filled, min(bufferSize - filled, remaining))
            }
            if count == 0 { break }  // Cut shorter since we looked: nothing more is complete.
            remaining -= count
            filled += count
            let chunk = UnsafeBufferPointer(rebasing: buffer[0..<filled])
            var start = 0
            while let newline = index(of: 0x0A, in: chunk, from: start) {
                lineNumber += 1
                if skippingLongLine {
                    throw LedgerError("\(path):\(lineNumber): line is longer than \(bufferSize - 1) bytes")
                }
                if newline > start {
                    try body(UnsafeBufferPointer(rebasing: chunk[start..<newline]), lineNumber)
                }
                start = newline + 1
            }
            if skippingLongLine || (start == 0 && filled == bufferSize) {
                skippingLongLine = true
                filled = 0
                continue
            }
            // Keep the incomplete last line for the next read.
            if start > 0 && start < filled {
                memmove(buffer.baseAddress!, buffer.baseAddress! + start, filled - start)
            }
            filled -= start
        }
    }

    private static func index(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int?
    {
        guard start < buffer.count, let base = buffer.baseAddress,
            let found = memchr(base + start, Int32(byte), buffer.count - start)
        else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
