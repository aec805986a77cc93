import Correlation
import POSIX
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// syslog(3) priorities; journald reads them from the `<N>` prefix of each stderr line (sd-daemon(3)).
public enum LogLevel: Int32, Sendable, Comparable, CaseIterable {
    case emergency = 0, alert, critical, error, warning, notice, info, debug

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public init?(name: String) {
        switch name {
        case "error": self = .error
        case "warning": self = .warning
        case "notice": self = .notice
        case "info": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }
}

/// Where finished lines go (UTF-8, without the newline). The daemon writes to stderr; tests capture
/// lines in memory.
public protocol LogSink: Sendable {
    func write(_ line: [UInt8])
    /// Writes the line that `build` appends to the array it is given (empty, or a batch's pending
    /// lines: `build` only appends). A sink that can let the line be built in place of its copy does.
    func write(level: LogLevel, building build: (inout [UInt8]) -> Void)
}

extension LogSink {
    public func write(level: LogLevel, building build: (inout [UInt8]) -> Void) {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        build(&line)
        write(line)
    }
}

/// Writes lines to standard error (or another descriptor, for tests). Each write holds whole lines and
/// at most `PIPE_BUF` bytes unless a single line is longer, so lines from concurrent threads never
/// interleave, even on a pipe or journald's stream socket.
///
/// Lines to a terminal or a file start with the time they were written, RFC 3339 in UTC with
/// milliseconds (`2026-11-26T17:07:17.863Z <6>bound …`); lines to journald do not, as journald
/// stamps each line it receives itself.
///
/// Inside `LogBatch.collect`, a thread's info and debug lines wait in a buffer and leave together when it
/// returns: the ledger's sync thread logs a line per binding, and one write per batch of bindings costs
/// a system call (and a wake-up of journald) per batch rather than per line. A more severe line is
/// written at once, after whatever the buffer holds.
public struct StandardErrorSink: LogSink {
    let descriptor: Int32
    let timestamped: Bool

    /// Standard error, with timestamps unless it is journald's stream.
    public init() {
        descriptor = 2
        timestamped = !JournalStream.isStandardError()
    }

    /// Writes to `descriptor` instead (tests read it back through a pipe).
    public init(descriptor: Int32, timestamped: Bool = false) {
        self.descriptor = descriptor
        self.timestamped = timestamped
    }

    /// Inside a batch the line is built straight into the batch's buffer: no array of its own.
    public func write(level: LogLevel, building build: (inout [UInt8]) -> Void) {
        guard let batch = LogBatch.current else {
            var line: [UInt8] = []
            line.reserveCapacity(256)
            stamp(&line)
            build(&line)
            Self.write(line, to: descriptor)
            return
        }
        batch.add(flushingTo: descriptor) { line in
            stamp(&line)
            build(&line)
        }
        if level < .info { batch.flush() }
    }

    public func write(_ line: [UInt8]) {
        var stamped = line
        if timestamped {
            stamped = []
            stamp(&stamped)
            stamped.append(contentsOf: line)
        }
        if let batch = LogBatch.current {
            batch.add(stamped, flushingTo: descriptor)
            // Only routine lines wait: a notice, warning or error goes out now (with the lines before
            // it, in order), so it is written before the answer it explains reaches the client.
            if !LogBatch.isRoutine(line) { batch.flush() }
            return
        }
        Self.write(stamped, to: descriptor)
    }

    /// Appends the time and a space, when lines carry it.
    private func stamp(_ line: inout [UInt8]) {
        guard timestamped else { return }
        Timestamp.appendRFC3339(milliseconds: WallClock.nowMilliseconds(), to: &line)
        line.append(UInt8(ascii: " "))
    }

    private static func write(_ line: [UInt8], to descriptor: Int32) {
        // writev, not a copy with the newline appended: still one write, so still atomic per line.
        var newline = UInt8(ascii: "\n")
        line.withUnsafeBytes { bytes in
            withUnsafeMutablePointer(to: &newline) { newline in
                var parts = (
                    iovec(
                        iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count),
                    iovec(iov_base: UnsafeMutableRawPointer(newline), iov_len: 1)
                )
                _ = withUnsafeBytes(of: &parts) {
                    writev(descriptor, $0.baseAddress!.assumingMemoryBound(to: iovec.self), 2)
                }
            }
        }
    }
}

/// Whether standard error is journald's stream: for a service whose stdout or stderr is connected to
/// the journal, systemd.exec(5) sets `JOURNAL_STREAM` to that stream's `DEVICE:INODE`, to be compared
/// with fstat(2) of the program's own stderr (a child whose stderr was redirected inherits the
/// variable but not the stream).
public enum JournalStream {
    public static func isStandardError() -> Bool {
        guard let stream = getenv("JOURNAL_STREAM"),
            let status = try? FileDescriptor(rawValue: 2).status(subject: "stderr")
        else { return false }
        return isConnected(status, journalStream: String(cString: stream))
    }

    /// Whether `journalStream` (`DEVICE:INODE`, both decimal) names `file`.
    public static func isConnected(_ file: FileStatus, journalStream: String?) -> Bool {
        let parts = journalStream?.split(separator: ":", omittingEmptySubsequences: false) ?? []
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else {
            return false
        }
        return file.device == device && file.inode == inode
    }
}

/// Gathers the lines one thread writes to a `StandardErrorSink` while `collect` runs.
public enum LogBatch {
    /// What one write may hold and still be atomic on a pipe (PIPE_BUF, POSIX's minimum 512, Linux 4096).
    static let maxWrite = 4096

    final class Buffer {
        var bytes: [UInt8] = []
        var descriptor: Int32 = 2

        /// Appends `line` and its newline; what is already buffered goes out first when the two would
        /// not fit in one atomic write together.
        func add(_ line: [UInt8], flushingTo descriptor: Int32) {
            if !bytes.isEmpty
                && (bytes.count + line.count + 1 > LogBatch.maxWrite || descriptor != self.descriptor)
            {
                flush()
            }
            self.descriptor = descriptor
            bytes.append(contentsOf: line)
            bytes.append(UInt8(ascii: "\n"))
        }

        /// Appends the line `build` appends, and its newline. When it and the lines before it would not
        /// fit in one atomic write together, those go out first, by themselves.
        func add(flushingTo descriptor: Int32, building build: (inout [UInt8]) -> Void) {
            if !bytes.isEmpty && descriptor != self.descriptor { flush() }
            self.descriptor = descriptor
            let mark = bytes.count
            build(&bytes)
            bytes.append(UInt8(ascii: "\n"))
            guard mark > 0 && bytes.count > LogBatch.maxWrite else { return }
            let line = Array(bytes[mark...])
            bytes.removeSubrange(mark...)
            flush()
            bytes.append(contentsOf: line)
        }

        func flush() {
            guard !bytes.isEmpty else { return }
            var written = 0
            bytes.withUnsafeBytes { all in
                while written < all.count {
                    let count = Glibc.write(descriptor, all.baseAddress! + written, all.count - written)
                    if count > 0 {
                        written += count
                    } else if count < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // nowhere to log a failure to log; drop the rest
                    }
                }
            }
            bytes.removeAll(keepingCapacity: true)
        }
    }

    /// Info and debug lines (priority prefix `<6>` or `<7>`): the ones a batch may hold back.
    static func isRoutine(_ line: [UInt8]) -> Bool {
        line.count >= 3 && line[0] == UInt8(ascii: "<") && line[2] == UInt8(ascii: ">")
            && line[1] >= UInt8(ascii: "6") && line[1] <= UInt8(ascii: "7")
    }

    /// The calling thread's buffer, while it is inside `collect`.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var current: Buffer? {
        pthread_getspecific(key).map { Unmanaged<Buffer>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Runs `body`; the lines this thread writes to a `StandardErrorSink` meanwhile are written when it
    /// returns, in as few writes as keep each atomic. Nested calls join the outermost one.
    public static func collect<T>(_ body: () throws -> T) rethrows -> T {
        if current != nil { return try body() }
        let buffer = Buffer()
        buffer.bytes.reserveCapacity(maxWrite)
        pthread_setspecific(key, Unmanaged.passUnretained(buffer).toOpaque())
        defer {
            pthread_setspecific(key, nil)
            buffer.flush()
        }
        return try body()
    }
}

/// Keeps lines in memory, for tests that assert what was (and was not) logged.
public final class MemorySink: LogSink {
    private let storage = Locked<[String]>([])
    public init() {}
    public func write(_ line: [UInt8]) {
        storage.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
    }
    public var lines: [String] { storage.withLock { $0 } }
}

/// A logger is a value: a sink, a threshold, and fields every line carries (such as a request id).
/// Messages are autoclosures, so a suppressed debug line costs nothing to build.
public struct Logger: Sendable {
    /// Shared by every copy of this logger, so a reload's new level reaches all of them at once.
    private let threshold: Threshold
    private let sink: any LogSink
    private var context: [(String, String)]
    /// Shared by every copy of this logger, so security events are limited per process, not per request.
    let audit: AuditLimiter

    public init(
        level: LogLevel = .info, sink: any LogSink = StandardErrorSink(), audit: AuditLimiter = AuditLimiter()
    ) {
        self.threshold = Threshold(level)
        self.sink = sink
        self.context = []
        self.audit = audit
    }

    public var level: LogLevel { threshold.level }

    /// Changes the level for this logger and every logger derived from it.
    public func setLevel(_ level: LogLevel) { threshold.level = level }

    final class Threshold: Sendable {
        private let raw: Atomic<Int32>
        init(_ level: LogLevel) { raw = Atomic(level.rawValue) }
        var level: LogLevel {
            get { LogLevel(rawValue: raw.load(ordering: .relaxed)) ?? .info }
            set { raw.store(newValue.rawValue, ordering: .relaxed) }
        }
    }

    /// A logger whose lines also carry `key=value`.
    public func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy.context.append((key, value))
        return copy
    }

    /// A logger whose lines also carry each of `fields`, in order: one allocation for them all, where
    /// chained `with` calls would copy the context once per field.
    public func with(_ fields: (String, String)...) -> Logger {
        var copy = self
        copy.context.reserveCapacity(context.count + fields.count)
        copy.context.append(contentsOf: fields)
        return copy
    }

    public func log(
        _ level: LogLevel, _ message: @autoclosure () -> String, _ fields: [(String, String)] = []
    ) {
        guard level <= self.level else { return }
        // Built as bytes, and inside a `LogBatch` straight into its buffer: a bound callback logs a
        // line with five fields on the ledger's sync thread.
        sink.write(level: level) { line in
            line.append(UInt8(ascii: "<"))
            line.append(UInt8(ascii: "0") + UInt8(level.rawValue))
            line.append(UInt8(ascii: ">"))
            line.append(contentsOf: message().utf8)
            for (key, value) in context {
                Logger.appendField(key, value, to: &line)
            }
            for (key, value) in fields {
                Logger.appendField(key, value, to: &line)
            }
        }
    }

    private static func appendField(_ key: String, _ value: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: " "))
        // Keys from their contiguous UTF-8 too: the UTF8View iterator costs several times as much.
        if key.utf8.withContiguousStorageIfAvailable({ line.append(contentsOf: $0) }) == nil {
            line.append(contentsOf: key.utf8)
        }
        line.append(UInt8(ascii: "="))
        // The common value (an id, a number) needs no quoting: checked on its contiguous UTF-8 bytes. A
        // byte of a multi-byte character is >= 0x80, so this agrees with `quoted`'s check on scalars.
        let plain: Bool? = value.utf8.withContiguousStorageIfAvailable { bytes in
            guard !bytes.isEmpty else { return false }
            for byte in bytes where byte <= 0x20 || byte == UInt8(ascii: "\"") || byte == 0x7F {
                return false
            }
            line.append(contentsOf: bytes)
            return true
        }
        if plain != true { line.append(contentsOf: quoted(value).utf8) }
    }

    public func critical(_ message: @autoclosure () -> String, _ fields: [(String, String)] = []) {
        log(.critical, message(), fields)
    }
    public func error(_ message: @autoclosure () -> String, _ fields: [(String, String)] = []) {
        log(.error, message(), fields)
    }
    public func warning(_ message: @autoclosure () -> String, _ fields: [(String, String)] = []) {
        log(.warning, message(), fields)
    }
    public func notice(_ message: @autoclosure () -> String, _ fields: [(String, String)] = []) {
        log(.notice, message(), fields)
    }
    public func info(_ message: @autoclosure () -> String, _ fields: [(String, String)] = []) {
        log(.info, message(), fields)
    }
    public func debug(_ message: @autoclosure () -> String, _ fields: [(String, String)] = []) {
        log(.debug, message(), fields)
    }

    /// Values are quoted when they hold spaces, quotes or control characters, so a hostile value
    /// (a userId with a newline, say) can never forge a second log line.
    static func quoted(_ value: String) -> String {
        let plain =
            !value.isEmpty
            && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0.value != 0x7F }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
