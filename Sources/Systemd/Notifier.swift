import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// The sd_notify(3) protocol, self-contained: one datagram of `KEY=VALUE` lines to `$NOTIFY_SOCKET`.
/// Without systemd (no `NOTIFY_SOCKET`), every call does nothing.
public struct Notifier: Sendable {
    private let path: String?

    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"] ?? ""
        // A path ("/run/systemd/notify") or an abstract address ("@…").
        self.path = (path.hasPrefix("/") || path.hasPrefix("@")) ? path : nil
    }

    public var isEnabled: Bool { path != nil }

    /// Sends the state; failures are ignored, as sd_notify's callers do: systemd's supervision is
    /// best effort and must never take the service down.
    public func send(_ state: String) {
        guard let path else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // Linux abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let message = Array(state.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ status: String) { send("STATUS=\(status)") }
    public func stopping() { send("STOPPING=1\nSTATUS=draining connections") }

    /// RELOADING=1 with the monotonic time, as systemd 253+ `Type=notify-reload` expects; older systemd
    /// ignores the extra field.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let micros = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        send("RELOADING=1\nMONOTONIC_USEC=\(micros)\nSTATUS=reloading configuration")
    }
}

/// `WATCHDOG_USEC` (and `WATCHDOG_PID`, when set, naming this process), as sd_watchdog_enabled(3) reads them.
public enum Watchdog {
    /// The watchdog timeout in seconds, or nil when systemd does not expect pings from this process.
    public static func timeout(environment: [String: String], pid: Int32 = getpid()) -> Double? {
        guard let text = environment["WATCHDOG_USEC"], let micros = UInt64(text), micros > 0 else {
            return nil
        }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        return Double(micros) / 1_000_000
    }
}
