import POSIX

#if canImport(Glibc)
    import Glibc
#endif

public struct LedgerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads a JSON-lines file at start-up.
///
/// A last line without its newline is a write torn by a crash: it was never acknowledged, so it is
/// saved aside (`<file>.torn-<unix ms>`) and cut off, and later appends start on a fresh line. Any
/// other line that does not parse stops start-up: silently dropping a binding is never acceptable.
public enum LineFile {
    public struct Result: Sendable {
        /// Length of the file's complete lines: where appends continue.
        public let durableLength: Int
        /// Where the torn tail was saved, if there was one.
        public let tornTailSavedAt: String?
    }

    public static func replay(
        path: String, savingTornTailAt tornPath: @autoclosure () -> String,
        _ body: (_ line: UnsafeBufferPointer<UInt8>, _ lineNumber: Int) throws -> Void
    ) throws -> Result {
        guard FileSystem.exists(path) else { return Result(durableLength: 0, tornTailSavedAt: nil) }
        let fd = try FileDescriptor.openStorageFile(path, O_RDONLY)
        defer { fd.close() }
        // Streamed in chunks: a ledger of a million lines is never held in memory whole.
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var filled = 0
        var consumed = 0  // bytes of the file before `buffer[0]`
        var lineNumber = 0
        while true {
            if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }  // a huge line
            let count = try buffer.withUnsafeMutableBytes {
                try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
            }
            if count == 0 { break }
            filled += count
            let used = try buffer.withUnsafeBufferPointer { all -> Int in
                let chunk = UnsafeBufferPointer(rebasing: all[0..<filled])
                var start = 0
                while start < chunk.count, let newline = memchrIndex(chunk, from: start) {
                    lineNumber += 1
                    let line = UnsafeBufferPointer(rebasing: chunk[start..<newline])
                    if !line.isEmpty {
                        do {
                            try body(line, lineNumber)
                        } catch {
                            throw LedgerError(
                                "\(path) line \(lineNumber) is corrupt (\(error)); refusing to start. Inspect or repair that line; no line was changed."
                            )
                        }
                    }
                    start = newline + 1
                }
                return start
            }
            // Keep the incomplete last line for the next read.
            buffer.withUnsafeMutableBufferPointer { all in
                if used > 0 && used < filled {
                    (all.baseAddress! + 0).update(from: all.baseAddress! + used, count: filled - used)
                }
            }
            consumed += used
            filled -= used
        }
        guard filled > 0 else { return Result(durableLength: consumed, tornTailSavedAt: nil) }
        let savedAt = tornPath()
        try FileSystem.writeAtomically(Array(buffer[0..<filled]), to: savedAt)
        let writer = try FileDescriptor.openStorageFile(path, O_WRONLY)
        defer { writer.close() }
        try writer.truncate(to: consumed, subject: path)
        try writer.sync(subject: path)
        return Result(durableLength: consumed, tornTailSavedAt: savedAt)
    }

    private static func memchrIndex(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
