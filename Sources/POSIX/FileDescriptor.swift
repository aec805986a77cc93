#if canImport(Glibc)
    import Glibc
#endif

/// An open file descriptor. A value type; whoever opened it closes it.
public struct FileDescriptor: Sendable, Hashable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardError = FileDescriptor(rawValue: 2)

    /// Opens a file with O_CLOEXEC always added.
    public static func open(
        _ path: String, _ flags: Int32, mode: mode_t = 0o600
    ) throws -> FileDescriptor {
        let fd = try retryingEINTR("open", subject: path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(rawValue: fd)
    }

    public func close() {
        // close(2) must not be retried on EINTR on Linux: the descriptor is already released.
        _ = Glibc.close(rawValue)
    }

    /// Reads up to `maximum` bytes; an empty result means end of file. EAGAIN surfaces as an error.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try retryingEINTR("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes every byte, looping over short writes.
    public func writeAll(_ bytes: UnsafeRawBufferPointer, subject: String? = nil) throws {
        var offset = 0
        while offset < bytes.count {
            let written = try retryingEINTR("write", subject: subject) {
                Glibc.write(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            }
            offset += written
        }
    }

    public func writeAll(_ bytes: [UInt8], subject: String? = nil) throws {
        try bytes.withUnsafeBytes { (buffer) -> Void in
            try writeAll(buffer, subject: subject)
        }
    }

    /// pwrite(2) of every byte at `offset`, looping over short writes; the file offset does not move.
    public func writeAll(_ bytes: [UInt8], at offset: Int, subject: String? = nil) throws {
        try bytes.withUnsafeBytes { (buffer) -> Void in
            var written = 0
            while written < buffer.count {
                written += try retryingEINTR("pwrite", subject: subject) {
                    pwrite(
                        rawValue, buffer.baseAddress! + written, buffer.count - written,
                        off_t(offset + written))
                }
            }
        }
    }

    public func dataSync(subject: String? = nil) throws {
        _ = try retryingEINTR("fdatasync", subject: subject) { fdatasync(rawValue) }
    }

    public func sync(subject: String? = nil) throws {
        _ = try retryingEINTR("fsync", subject: subject) { fsync(rawValue) }
    }

    public func truncate(to length: Int, subject: String? = nil) throws {
        _ = try retryingEINTR("ftruncate", subject: subject) { ftruncate(rawValue, off_t(length)) }
    }

    public func size(subject: String? = nil) throws -> Int {
        var info = stat()
        _ = try retryingEINTR("fstat", subject: subject) { fstat(rawValue, &info) }
        return Int(info.st_size)
    }

    public func setNonBlocking() throws {
        let flags = try retryingEINTR("fcntl") { fcntl(rawValue, F_GETFL) }
        _ = try retryingEINTR("fcntl") { fcntl(rawValue, F_SETFL, flags | O_NONBLOCK) }
    }
}

/// Whole-file helpers for start-up and configuration, where files are small or read once.
public enum FileSystem {
    /// Reads a whole file. Used for config, keys and replay.
    public static func readAll(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        defer { fd.close() }
        var result: [UInt8] = []
        let chunk = 1 << 20
        result.reserveCapacity(max(try fd.size(subject: path), 0))
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = try buffer.withUnsafeMutableBytes { (raw) -> Int in
                try fd.read(into: raw)
            }
            if count == 0 { break }
            result.append(contentsOf: buffer[0..<count])
        }
        return result
    }

    /// Reads a small file (sysfs, `/proc`) through one reused page-sized buffer; throws past `limit`.
    public static func readSmall(_ path: String, limit: Int = 1 << 16) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        defer { fd.close() }
        var result: [UInt8] = []
        try withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { buffer in
            while true {
                let count = try fd.read(into: buffer)
                if count == 0 { return }
                guard result.count + count <= limit else {
                    throw SystemCallError(call: "read", errno: EFBIG, subject: path)
                }
                result.append(contentsOf: buffer[0..<count])
            }
        }
        return result
    }

    /// fsync of a directory makes a created, renamed or removed entry in it durable.
    public static func syncDirectory(_ path: String) throws {
        let fd = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        defer { fd.close() }
        try fd.sync(subject: path)
    }

    /// Creates the directory (mode 0700) if missing.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws {
        if mkdir(path, mode) == 0 { return }
        let error = errno
        if error == EEXIST { return }
        throw SystemCallError(call: "mkdir", errno: error, subject: path)
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The permission bits of a file, for refusing keys that others can read.
    public static func permissions(_ path: String) throws -> mode_t {
        var info = stat()
        _ = try retryingEINTR("stat", subject: path) { stat(path, &info) }
        return info.st_mode & 0o7777
    }

    /// Writes a new file atomically: temporary file, fsync, rename, fsync of the directory.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let written = try writeAndRename(bytes, to: path, mode: mode)
        written.file.close()
        try syncDirectory(directoryName(of: path))
    }

    /// Writes `bytes` to `path` + ".tmp", fsyncs it and renames it to `path`. Returns the new file, still
    /// open for writing, and its identity; the rename is durable once the caller syncs the directory.
    /// A stale temporary file is unlinked and the new one created with O_EXCL | O_NOFOLLOW, so a link
    /// planted at that name is never followed. When this throws, `path` is as it was.
    public static func writeAndRename(
        _ bytes: [UInt8], to path: String, mode: mode_t = 0o600
    ) throws -> (file: FileDescriptor, status: FileStatus) {
        let temporary = path + ".tmp"
        try unlinkIfPresent(temporary)
        let fd = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode)
        do {
            try fd.writeAll(bytes, subject: temporary)
            try fd.sync(subject: temporary)
            // Taken before the rename, which keeps the inode: nothing can fail once the path has changed.
            let status = try fd.status(subject: temporary)
            _ = try retryingEINTR("rename", subject: path) { rename(temporary, path) }
            return (fd, status)
        } catch {
            fd.close()
            try? unlinkIfPresent(temporary)
            throw error
        }
    }

    /// unlink(2); a name already gone is no error.
    public static func unlinkIfPresent(_ path: String) throws {
        while unlink(path) != 0 {
            let error = errno
            if error == EINTR { continue }
            if error == ENOENT { return }
            throw SystemCallError(call: "unlink", errno: error, subject: path)
        }
    }

    public static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}

/// CLOCK_MONOTONIC in nanoseconds: deadlines that wall-clock jumps cannot move.
public enum MonotonicClock {
    public static func nowNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    public static func deadline(afterSeconds seconds: Double) -> UInt64 {
        nowNanos() + UInt64(max(seconds, 0) * 1_000_000_000)
    }

    /// Milliseconds left until `deadline`, for poll(2); 0 once it has passed.
    public static func millisecondsUntil(_ deadline: UInt64) -> Int32 {
        let now = nowNanos()
        guard deadline > now else { return 0 }
        return Int32(clamping: (deadline - now + 999_999) / 1_000_000)
    }
}

/// Wall-clock time in Unix milliseconds: the platform's `timestamp` and our RFC 3339 stamps.
public enum WallClock {
    public static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
