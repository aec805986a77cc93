#if canImport(Glibc)
    import Glibc
#endif

/// Looks user and group names up in the system's databases (passwd and group, through NSS).
public enum UserDatabase {
    /// The uid of the user `name`; nil if there is no such user. Throws when the database could not be
    /// read, so an unreachable directory service is not mistaken for a missing user.
    public static func uid(ofUser name: String) throws -> uid_t? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        try lookUp("getpwnam_r", name) { getpwnam_r(name, &entry, $0.baseAddress!, $0.count, &found) }
        return found == nil ? nil : entry.pw_uid
    }

    /// The gid of the group `name`; nil if there is no such group.
    public static func gid(ofGroup name: String) throws -> gid_t? {
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        try lookUp("getgrnam_r", name) { getgrnam_r(name, &entry, $0.baseAddress!, $0.count, &found) }
        return found == nil ? nil : entry.gr_gid
    }

    /// Calls a `get*nam_r` function with a buffer that grows while it answers ERANGE (a group with many
    /// members needs more than 1 KiB).
    private static func lookUp(
        _ call: String, _ name: String, _ body: (UnsafeMutableBufferPointer<CChar>) -> Int32
    ) throws {
        var buffer = [CChar](repeating: 0, count: 1024)
        while true {
            let status = buffer.withUnsafeMutableBufferPointer { body($0) }
            // getpwnam_r(3): these also mean "not found", depending on the NSS module.
            if [0, ENOENT, ESRCH, EBADF, EPERM].contains(status) { return }
            guard status == ERANGE, buffer.count < 1 << 20 else {
                throw SystemCallError(call: call, errno: status, subject: name)
            }
            buffer = [CChar](repeating: 0, count: buffer.count * 2)
        }
    }
}
