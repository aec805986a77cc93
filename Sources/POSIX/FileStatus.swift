#if canImport(Glibc)
    import Glibc
#endif

/// Which file a descriptor or a path is: stat(2)'s device and inode.
public struct FileStatus: Sendable, Equatable {
    public let device: UInt64
    public let inode: UInt64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

extension FileDescriptor {
    /// fstat(2): the open file's identity, which no rename or unlink of its names changes.
    public func status(subject: String? = nil) throws -> FileStatus {
        var info = stat()
        _ = try retryingEINTR("fstat", subject: subject) { fstat(rawValue, &info) }
        return FileStatus(info)
    }

    /// flock(2) with LOCK_EX | LOCK_NB. False when another open file description holds a lock on the
    /// file; the lock lasts until this descriptor (and any duplicate of it) is closed.
    public func lockExclusively(subject: String? = nil) throws -> Bool {
        while true {
            if flock(rawValue, LOCK_EX | LOCK_NB) == 0 { return true }
            let error = errno
            if error == EINTR { continue }
            if error == EWOULDBLOCK { return false }
            throw SystemCallError(call: "flock", errno: error, subject: subject)
        }
    }

    /// Where a process with the rights (root, or this user) can read this open file while this process
    /// lives, even once no name in the file system leads to it (proc(5), /proc/PID/fd).
    public var procPath: String { "/proc/\(getpid())/fd/\(rawValue)" }
}

extension FileSystem {
    /// lstat(2): what is at `path` itself, a symbolic link not followed; nil when nothing is.
    public static func linkStatus(_ path: String) throws -> FileStatus? {
        var info = stat()
        while lstat(path, &info) != 0 {
            let error = errno
            if error == EINTR { continue }
            if error == ENOENT || error == ENOTDIR { return nil }
            throw SystemCallError(call: "lstat", errno: error, subject: path)
        }
        return FileStatus(info)
    }
}

/// The flock(2) locks that the kernel lists in /proc/locks (proc(5)).
public enum FileLocks {
    /// The pid that holds a flock on `file`, when /proc/locks can be read (systemd's ProcSubset=pid
    /// hides it) and lists one.
    public static func holder(of file: FileStatus) -> pid_t? {
        guard let bytes = try? FileSystem.readSmall("/proc/locks", limit: 1 << 22) else { return nil }
        return holder(of: file, in: String(decoding: bytes, as: UTF8.self))
    }

    /// Lines read `1: FLOCK  ADVISORY  WRITE 4242 00:2f:1234 0 EOF`: the device as hexadecimal major and
    /// minor numbers, then the inode. Lines of waiters (`1: -> FLOCK …`) hold nothing and are skipped.
    static func holder(of file: FileStatus, in text: String) -> pid_t? {
        // The kernel's encoding of a device number (glibc's gnu_dev_major and gnu_dev_minor).
        let major = ((file.device >> 8) & 0xfff) | ((file.device >> 32) & ~0xfff)
        let minor = (file.device & 0xff) | ((file.device >> 12) & ~0xff)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "FLOCK" else { continue }
            let id = fields[5].split(separator: ":")
            guard id.count == 3, UInt64(id[0], radix: 16) == major, UInt64(id[1], radix: 16) == minor,
                UInt64(id[2]) == file.inode
            else { continue }
            return pid_t(fields[4])
        }
        return nil
    }
}
