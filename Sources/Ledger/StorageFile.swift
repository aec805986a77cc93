import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// Why an append was not acknowledged.
public enum AppendFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A write, sync or truncation failed (a full disk, an I/O error, a read-only file system): the
    /// next batch tries the disk again.
    case systemCall(SystemCallError)
    /// The log's path no longer leads to the file it appends to: nothing more is acknowledged until a
    /// restart.
    case detached(DetachedFile)

    public var description: String {
        switch self {
        case .systemCall(let error): "\(error)"
        case .detached(let file): file.description
        }
    }
}

/// A ledger or journal deleted or replaced while the daemon appends to it. Lines appended after that
/// would go to a file that no restart reads, so the log stops acknowledging: the lines acknowledged
/// before are in the old file, which this process still holds open.
public struct DetachedFile: Sendable, Equatable, CustomStringConvertible {
    public enum Change: String, Sendable {
        /// Nothing is at the path (deleted, or renamed away).
        case deleted
        /// Another file is at the path (a copy renamed over it, say).
        case replaced
    }

    public let path: String
    public let change: Change
    /// The old file's inode, and where it can be read while this process runs (/proc/PID/fd/N).
    public let inode: UInt64
    public let openFile: String
    /// The bytes acknowledged in it.
    public let length: Int

    public var description: String {
        "\(path) was \(change.rawValue) while openidd was appending to it, so nothing more is acknowledged. The \(length) bytes acknowledged so far are in its old inode \(inode), readable at \(openFile) until openidd exits: copy them back to \(path) (cp \(openFile) \(path)), then restart openidd."
    }
}

extension FileDescriptor {
    /// Opens a ledger or journal file, never through a symbolic link: one would send the writes outside
    /// the storage directory, past its lock and its permissions.
    static func openStorageFile(_ path: String, _ flags: Int32) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(path, flags | O_NOFOLLOW, mode: 0o600)
        } catch let error as SystemCallError where error.errno == ELOOP {
            throw LedgerError(
                "\(path) is a symbolic link; openidd keeps its ledger and journal as regular files in the storage directory. Replace the link with the file it points to."
            )
        }
    }
}
