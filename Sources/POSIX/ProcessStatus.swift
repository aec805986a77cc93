#if canImport(Glibc)
    import Glibc
#endif

/// The lines of /proc/PID/status (proc(5)) that say whose a process is.
public struct ProcessStatus: Sendable, Equatable {
    /// The second field of `Uid:` (real, effective, saved, file system).
    public var effectiveUid: uid_t
    /// `Groups:`, the supplementary groups.
    public var groups: [gid_t]

    /// Nil when the process is gone, /proc hides it (hidepid, systemd's ProtectProc) or the text is not
    /// what proc(5) describes.
    public static func read(pid: pid_t) -> ProcessStatus? {
        guard pid > 0, let bytes = try? FileSystem.readAll("/proc/\(pid)/status") else { return nil }
        return ProcessStatus(parsing: String(decoding: bytes, as: UTF8.self))
    }

    public init?(parsing text: String) {
        var uid: uid_t?
        var groups: [gid_t]?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Uid:") {
                let fields = line.dropFirst(4).split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count == 4, let effective = uid_t(fields[1]) else { return nil }
                uid = effective
            } else if line.hasPrefix("Groups:") {
                var parsed: [gid_t] = []
                for field in line.dropFirst(7).split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                    guard let gid = gid_t(field) else { return nil }
                    parsed.append(gid)
                }
                groups = parsed
            }
        }
        guard let uid, let groups else { return nil }
        self.effectiveUid = uid
        self.groups = groups
    }
}
