import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// The interrupts by which the disk under a file reports finished I/O, found and counted through sysfs.
///
/// An `fdatasync` ends with the disk's completion interrupt waking the thread that waits on it. When
/// that interrupt lands on another CPU than the thread's, the wake-up costs an inter-processor interrupt
/// (in a VM, an exit to the hypervisor) and the thread may run wherever the scheduler last put it,
/// often beside the busy event loops. `SyncPlacement` uses these counts to keep the ledger's sync thread
/// on the CPU the interrupt goes to.
public struct DiskInterrupts: Sendable, Equatable {
    /// The disk's kernel name, such as `vda` or `sda`.
    public let disk: String
    /// Its interrupt numbers (those `/sys/kernel/irq` lists).
    public let interrupts: [Int]
    let sysfs: String

    public enum Located: Sendable, Equatable {
        case found(DiskInterrupts)
        /// Why there is nothing to follow, in words for the log.
        case unavailable(String)
    }

    /// Finds the disk that holds `path` (a file or directory).
    public static func locate(file path: String, sysfs: String = "/sys") -> Located {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return .unavailable("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        return locate(device: status.st_dev, sysfs: sysfs)
    }

    /// Finds the disk behind block device `device` (a `st_dev`): through a partition to its disk, and
    /// through a device-mapper or md device to the one device beneath it.
    public static func locate(device: dev_t, sysfs: String = "/sys") -> Located {
        // Paths below are compared by prefix, so the root must be spelled as realpath spells them.
        let sysfs = FileSystem.resolved(sysfs) ?? sysfs
        let name = "\(major(device)):\(minor(device))"
        guard let node = FileSystem.resolved("\(sysfs)/dev/block/\(name)") else {
            return .unavailable("device \(name) is not a block device (a memory or network file system)")
        }
        return locate(node: node, sysfs: sysfs, depth: 0)
    }

    private static func locate(node: String, sysfs: String, depth: Int) -> Located {
        // A partition's directory sits inside its disk's.
        let disk =
            FileSystem.exists(node + "/partition") ? FileSystem.directoryName(of: node) : node
        let name = baseName(disk)
        let beneath = FileSystem.entries(disk + "/slaves")
        if !beneath.isEmpty {
            guard beneath.count == 1, depth < 4,
                let lower = FileSystem.resolved(disk + "/slaves/" + beneath[0])
            else {
                return .unavailable("\(name) spans \(beneath.count) devices")
            }
            return locate(node: lower, sysfs: sysfs, depth: depth + 1)
        }
        let queues = FileSystem.entries(disk + "/mq").filter { Int($0) != nil }
        if queues.count > 1 {
            return .unavailable(
                "\(name) has \(queues.count) hardware queues: its completions come to the CPU that asked")
        }
        guard var directory = FileSystem.resolved(disk + "/device") else {
            return .unavailable("\(name) has no device with interrupts")
        }
        // Up from the disk's device to the controller that raises its interrupts: a PCI function lists
        // its MSI vectors, an older one a single line.
        var numbers: [Int] = []
        while directory.hasPrefix(sysfs + "/devices/") && numbers.isEmpty {
            let vectors = FileSystem.entries(directory + "/msi_irqs").compactMap { Int($0) }
            if !vectors.isEmpty {
                numbers = vectors.sorted()
            } else if let line = readNumber(directory + "/irq"), line > 0 {
                numbers = [line]
            }
            directory = FileSystem.directoryName(of: directory)
        }
        let counted = numbers.filter { FileSystem.exists("\(sysfs)/kernel/irq/\($0)/per_cpu_count") }
        guard !counted.isEmpty else {
            return .unavailable("no interrupt of \(name) is counted in \(sysfs)/kernel/irq")
        }
        return .found(DiskInterrupts(disk: name, interrupts: counted, sysfs: sysfs))
    }

    /// Interrupts handled so far by each CPU, summed over the disk's interrupts; nil if unreadable.
    public func counts() -> [UInt64]? {
        var sums: [UInt64] = []
        for number in interrupts {
            guard let bytes = try? FileSystem.readSmall("\(sysfs)/kernel/irq/\(number)/per_cpu_count"),
                let perCPU = Self.parseCounts(bytes)
            else { return nil }
            if sums.count < perCPU.count { sums += repeatElement(0, count: perCPU.count - sums.count) }
            for (cpu, count) in perCPU.enumerated() { sums[cpu] &+= count }
        }
        return sums
    }

    /// `per_cpu_count`: one decimal count per possible CPU, comma-separated, a newline at the end.
    static func parseCounts(_ bytes: [UInt8]) -> [UInt64]? {
        var text = bytes[...]
        while let last = text.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: " ") {
            text = text.dropLast()
        }
        guard !text.isEmpty else { return nil }
        var counts: [UInt64] = []
        for field in text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            guard !field.isEmpty, field.count <= 20,
                field.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let count = UInt64(String(decoding: field, as: UTF8.self))
            else { return nil }
            counts.append(count)
        }
        return counts
    }

    private static func readNumber(_ path: String) -> Int? {
        guard let bytes = try? FileSystem.readSmall(path, limit: 64) else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self).trimmingWhitespace)
    }

    private static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    // glibc's encoding of dev_t (sys/sysmacros.h): the macros do not reach Swift.
    static func major(_ device: dev_t) -> UInt64 {
        let value = UInt64(device)
        return ((value >> 8) & 0xfff) | ((value >> 32) & ~0xfff)
    }

    static func minor(_ device: dev_t) -> UInt64 {
        let value = UInt64(device)
        return (value & 0xff) | ((value >> 12) & ~0xff)
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
