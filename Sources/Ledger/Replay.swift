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
        let bytes = try FileSystem.readAll(path)
        var lineNumber = 0
        var start = 0
        try bytes.withUnsafeBufferPointer { buffer in
            while start < buffer.count {
                guard let newline = memchrIndex(buffer, from: start) else { break }
                lineNumber += 1
                let line = UnsafeBufferPointer(rebasing: buffer[start..<newline])
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
        }
        guard start < bytes.count else { return Result(durableLength: bytes.count, tornTailSavedAt: nil) }
        let savedAt = tornPath()
        try FileSystem.writeAtomically(Array(bytes[start...]), to: savedAt)
        let fd = try FileDescriptor.open(path, O_WRONLY)
        defer { fd.close() }
        try fd.truncate(to: start, subject: path)
        try fd.sync(subject: path)
        return Result(durableLength: start, tornTailSavedAt: savedAt)
    }

    private static func memchrIndex(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
