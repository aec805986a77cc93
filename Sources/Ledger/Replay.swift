import Correlation
import POSIX

#if canImport(Glibc)
    import Glibc
#endif

public struct LedgerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A line of the ledger or journal that start-up cannot accept, or a torn last line (which it repairs).
public struct ReplayProblem: Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Not a line of the file's format.
        case corrupt(reason: String)
        /// The ledger bound this line's serialNo to another openId (or userId) on an earlier line.
        case contradiction(Registry.Contradiction, firstLine: Int)
        /// A last line without its newline: a write cut by a crash, never acknowledged.
        case tornTail(bytes: Int)
        /// The ledger is gone while the journal is there: the daemon creates both when it first
        /// starts, so the ledger was removed or moved while the daemon was stopped.
        case missing(besides: String)
    }

    public let path: String
    public let line: Int
    public let kind: Kind

    /// Whether start-up must refuse: anything but a torn tail, which it saves aside and cuts off.
    public var refusesStart: Bool {
        if case .tornTail = kind { return false }
        return true
    }

    public var description: String {
        switch kind {
        case .corrupt(let reason):
            return "\(path) line \(line) is corrupt (\(reason))"
        case .contradiction(let contradiction, let firstLine):
            let (first, later) = (contradiction.first, contradiction.later)
            var text =
                "\(path) line \(line) binds serialNo \(later.serialNo) to openId \(later.openId), but line \(firstLine) bound it to openId \(first.openId)"
            if first.userId != later.userId {
                text += " (userIds \(later.userId) and \(first.userId))"
            }
            return text
        case .tornTail(let bytes):
            return
                "\(path) line \(line) is torn (\(bytes) bytes without a newline, never acknowledged); start-up saves it aside and cuts it off"
        case .missing(let other):
            return
                "\(path) is missing, but \(other) beside it is there: the ledger was removed or moved, and its bindings with it. Put it back; to start afresh on purpose, move both files away"
        }
    }
}

/// Reads a JSON-lines file at start-up, and for `openidctl check`.
///
/// A last line without its newline is a write torn by a crash: it was never acknowledged, so start-up
/// saves it aside (`<file>.torn-<unix ms>`) and cuts it off, and later appends start on a fresh line.
/// Any other line that does not parse stops start-up: silently dropping a binding is never acceptable.
public enum LineFile {
    /// What reading found; reading never changes the file.
    public struct Reading: Sendable {
        public let path: String
        /// Length of the file's complete lines: where appends continue.
        public let durableLength: Int
        /// The last line's bytes if it has no newline.
        public let tornTail: [UInt8]
        /// The complete lines that are not empty.
        public let lines: Int
        /// Lines `body` refused, in file order, then the torn tail if there is one.
        public let problems: [ReplayProblem]
    }

    /// Calls `body` with each non-empty complete line and its 1-based number, and reads on past the
    /// lines it throws for, so that every problem is found. A missing file reads as empty.
    public static func read(
        path: String, _ body: (_ line: UnsafeBufferPointer<UInt8>, _ lineNumber: Int) throws -> Void
    ) throws -> Reading {
        guard FileSystem.exists(path) else {
            return Reading(path: path, durableLength: 0, tornTail: [], lines: 0, problems: [])
        }
        let fd = try FileDescriptor.openStorageFile(path, O_RDONLY)
        defer { fd.close() }
        // Streamed in chunks: a ledger of a million lines is never held in memory whole.
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var filled = 0
        var consumed = 0  // bytes of the file before `buffer[0]`
        var lineNumber = 0
        var lines = 0
        var problems: [ReplayProblem] = []
        while true {
            if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }  // a huge line
            let count = try buffer.withUnsafeMutableBytes {
                try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
            }
            if count == 0 { break }
            filled += count
            let used = buffer.withUnsafeBufferPointer { all -> Int in
                let chunk = UnsafeBufferPointer(rebasing: all[0..<filled])
                var start = 0
                while start < chunk.count, let newline = memchrIndex(chunk, from: start) {
                    lineNumber += 1
                    let line = UnsafeBufferPointer(rebasing: chunk[start..<newline])
                    if !line.isEmpty {
                        lines += 1
                        do {
                            try body(line, lineNumber)
                        } catch {
                            problems.append(
                                ReplayProblem(
                                    path: path, line: lineNumber, kind: .corrupt(reason: "\(error)")))
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
        if filled > 0 {
            problems.append(ReplayProblem(path: path, line: lineNumber + 1, kind: .tornTail(bytes: filled)))
        }
        return Reading(
            path: path, durableLength: consumed, tornTail: Array(buffer[0..<filled]), lines: lines,
            problems: problems)
    }

    /// Saves a torn tail aside at `savedAt` and cuts it off the file; returns where it was saved, or
    /// nil when there was none.
    public static func repairTornTail(_ reading: Reading, savingAt savedAt: @autoclosure () -> String) throws
        -> String?
    {
        guard !reading.tornTail.isEmpty else { return nil }
        let savedAt = savedAt()
        try FileSystem.writeAtomically(reading.tornTail, to: savedAt)
        let writer = try FileDescriptor.openStorageFile(reading.path, O_WRONLY)
        defer { writer.close() }
        try writer.truncate(to: reading.durableLength, subject: reading.path)
        try writer.sync(subject: reading.path)
        return savedAt
    }

    /// Start-up's verdict on `problems`: the first that forbids starting, and how many more there are.
    public static func refusal(_ problems: [ReplayProblem]) -> LedgerError? {
        let refusing = problems.filter(\.refusesStart)
        guard let first = refusing.first else { return nil }
        var text = "\(first); refusing to start. "
        if case .missing = first.kind {
            text += "Nothing was changed."
        } else {
            text += "Inspect or repair that line; no line was changed."
        }
        if refusing.count > 1 {
            text +=
                " \(refusing.count - 1) more problem(s) follow; `openidctl check --config FILE` lists them all."
        }
        return LedgerError(text)
    }

    private static func memchrIndex(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
