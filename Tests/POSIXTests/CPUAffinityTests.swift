import Foundation
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// CPU lists as the kernel prints them, and a thread's affinity set and read back through the kernel.
@Suite struct CPUSetTests {
    @Test func parsesCPUListsAndPrintsThemWithRunsJoined() throws {
        #expect(CPUSet(list: "0")?.cpus == [0])
        let set = try #require(CPUSet(list: "0-3,8,10-11"))
        #expect(set.cpus == [0, 1, 2, 3, 8, 10, 11])
        #expect(set.description == "0-3,8,10-11")
        #expect(CPUSet(list: "5,1-2,2")?.cpus == [1, 2, 5], "sorted, repeats dropped")
        #expect(CPUSet([3, 1, 2, 7]).description == "1-3,7")
        #expect(CPUSet(list: "4095")?.cpus == [4095])
        #expect(set.contains(8) && !set.contains(9))
    }

    @Test(arguments: ["", "1-", "-1", "3-1", "a", "1,,2", "0x1", "4096", " 1", "1 ", "+1", "1-2-3"])
    func malformedListsAreRefused(list: String) {
        #expect(CPUSet(list: list) == nil, "accepted \(list)")
    }

    @Test func numbersOutsideTheCapacityAreDropped() {
        #expect(CPUSet([-1, 0, 4096]).cpus == [0])
    }
}

@Suite struct ThreadAffinityTests {
    /// What the kernel says a thread may run on, from `/proc`.
    static func allowedList(of thread: Int32) throws -> CPUSet {
        let status = String(
            decoding: try FileSystem.readSmall("/proc/self/task/\(thread)/status"), as: UTF8.self)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        return try #require(CPUSet(list: line.dropFirst("Cpus_allowed_list:".count).trimmed))
    }

    /// Runs `body` on a thread of its own, so a changed affinity never leaks into other tests.
    static func onNewThread(_ body: @escaping @Sendable () throws -> Void) throws {
        let failure = Locked<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do { try body() } catch { failure.withLock { $0 = "\(error)" } }
            done.signal()
        }
        thread.start()
        done.wait()
        if let message = failure.withLock({ $0 }) { Issue.record(Comment(rawValue: message)) }
    }

    @Test func affinityIsWhatTheKernelReportsForTheThread() throws {
        try Self.onNewThread {
            let mine = try CurrentThread.affinity()
            #expect(!mine.isEmpty)
            #expect(mine == (try Self.allowedList(of: CurrentThread.id)))
        }
    }

    @Test func setAffinityPinsOnlyTheCallingThread() throws {
        let before = try Self.allowedList(of: CurrentThread.id)
        try Self.onNewThread {
            let all = try CurrentThread.affinity()
            let last = try #require(all.cpus.last)
            try CurrentThread.setAffinity(CPUSet([last]))
            #expect(try Self.allowedList(of: CurrentThread.id) == CPUSet([last]))
            #expect(try CurrentThread.affinity() == CPUSet([last]))
            try CurrentThread.setAffinity(all)
            #expect(try Self.allowedList(of: CurrentThread.id) == all)
        }
        #expect(try Self.allowedList(of: CurrentThread.id) == before, "the test's own thread is untouched")
    }

    @Test func anEmptySetOrOnlyAbsentCPUsAreRefused() throws {
        try Self.onNewThread {
            let before = try CurrentThread.affinity()
            #expect {
                try CurrentThread.setAffinity(CPUSet([]))
            } throws: { ($0 as? SystemCallError)?.errno == EINVAL }
            // No machine this runs on has a CPU 4095.
            #expect {
                try CurrentThread.setAffinity(CPUSet([4095]))
            } throws: { ($0 as? SystemCallError)?.errno == EINVAL }
            #expect(try CurrentThread.affinity() == before, "a refused change changes nothing")
        }
    }

    @Test func threadIdsAreTheKernelsAndDistinct() throws {
        let main = CurrentThread.id
        #expect(FileManager.default.fileExists(atPath: "/proc/self/task/\(main)"))
        let other = Locked<Int32>(0)
        try Self.onNewThread { other.withLock { $0 = CurrentThread.id } }
        #expect(other.withLock { $0 } != main)
        #expect(other.withLock { $0 } > 0)
    }
}

extension Substring {
    fileprivate var trimmed: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
