import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// A set of CPUs by number, as affinity masks and the kernel's CPU lists (`0-3,8`) describe them.
public struct CPUSet: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The highest CPU number a set may hold, plus one: the kernel's usual `CONFIG_NR_CPUS` ceiling.
    public static let capacity = 4096

    /// Ascending, no repeats.
    public let cpus: [Int]

    public init<S: Sequence<Int>>(_ cpus: S) {
        self.cpus = Array(Set(cpus.filter { (0..<Self.capacity).contains($0) })).sorted()
    }

    /// Parses a CPU list (`0-3,8,10-11`), as `Cpus_allowed_list` and sysfs print it; nil if malformed.
    public init?(list: String) {
        var cpus: [Int] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                let low = Self.number(bounds[0]), let high = Self.number(bounds[bounds.count - 1]),
                low <= high
            else { return nil }
            cpus.append(contentsOf: low...high)
        }
        self.init(cpus)
    }

    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = Int(text), value < capacity
        else { return nil }
        return value
    }

    public var isEmpty: Bool { cpus.isEmpty }

    public func contains(_ cpu: Int) -> Bool { cpus.contains(cpu) }

    /// The list form, runs joined: `0-3,8`.
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count && cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    fileprivate static let words = capacity / (MemoryLayout<UInt>.size * 8)

    fileprivate init(mask: [UInt]) {
        let bits = MemoryLayout<UInt>.size * 8
        var cpus: [Int] = []
        for (word, value) in mask.enumerated() where value != 0 {
            for bit in 0..<bits where value & (1 << UInt(bit)) != 0 { cpus.append(word * bits + bit) }
        }
        self.cpus = cpus
    }

    fileprivate var mask: [UInt] {
        let bits = MemoryLayout<UInt>.size * 8
        var mask = [UInt](repeating: 0, count: Self.words)
        for cpu in cpus { mask[cpu / bits] |= 1 << UInt(cpu % bits) }
        return mask
    }
}

extension CurrentThread {
    /// The kernel's id of the calling thread (the `TID` in `/proc/self/task`).
    public static var id: Int32 { clinux_thread_id() }

    /// The CPUs the calling thread may run on.
    public static func affinity() throws -> CPUSet {
        var mask = [UInt](repeating: 0, count: CPUSet.words)
        let result = mask.withUnsafeMutableBufferPointer {
            clinux_thread_affinity($0.baseAddress!, UInt($0.count * MemoryLayout<UInt>.size))
        }
        guard result >= 0 else { throw SystemCallError(call: "sched_getaffinity", errno: errno) }
        return CPUSet(mask: mask)
    }

    /// Restricts the calling thread to `cpus` (only this thread: threads it starts later inherit it).
    public static func setAffinity(_ cpus: CPUSet) throws {
        guard !cpus.isEmpty else { throw SystemCallError(call: "sched_setaffinity", errno: EINVAL) }
        let mask = cpus.mask
        let result = mask.withUnsafeBufferPointer {
            clinux_set_thread_affinity($0.baseAddress!, UInt($0.count * MemoryLayout<UInt>.size))
        }
        guard result == 0 else { throw SystemCallError(call: "sched_setaffinity", errno: errno) }
    }
}
