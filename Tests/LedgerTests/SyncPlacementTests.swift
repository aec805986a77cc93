import Foundation
import POSIX
import Synchronization
import Testing

@testable import Ledger

#if canImport(Glibc)
    import Glibc
#endif

/// A sysfs tree in a temporary directory, laid out as the kernel lays out the parts we read: a virtio
/// disk with a partition, an NVMe disk with two hardware queues, a SATA disk on a controller with one
/// interrupt line, device-mapper devices, and a memory-backed disk.
final class FakeSysfs {
    let directory: TemporaryDirectory
    var root: String { directory.path }

    init() throws {
        directory = try TemporaryDirectory()
        let virtio = "devices/pci0000:00/0000:00:02.0"
        try makeDirectory("\(virtio)/msi_irqs/35")
        try makeDirectory("\(virtio)/msi_irqs/36")
        try makeDirectory("\(virtio)/virtio1/block/vda/mq/0")
        try makeDirectory("\(virtio)/virtio1/block/vda/vda1")
        try write("\(virtio)/virtio1/block/vda/vda1/partition", "1\n")
        try link("\(virtio)/virtio1/block/vda/device", to: "../../../virtio1")
        try link("dev/block/254:0", to: "../../\(virtio)/virtio1/block/vda")
        try link("dev/block/254:1", to: "../../\(virtio)/virtio1/block/vda/vda1")
        try counts(35, "0,0")
        try counts(36, "0,1234")

        let nvme = "devices/pci0000:00/0000:00:04.0"
        try makeDirectory("\(nvme)/msi_irqs/40")
        try makeDirectory("\(nvme)/nvme/nvme0/nvme0n1/mq/0")
        try makeDirectory("\(nvme)/nvme/nvme0/nvme0n1/mq/1")
        try link("\(nvme)/nvme/nvme0/nvme0n1/device", to: "../../nvme0")
        try link("dev/block/259:0", to: "../../\(nvme)/nvme/nvme0/nvme0n1")
        try counts(40, "5,5")

        let sata = "devices/pci0000:00/0000:00:1f.2"
        try write("\(sata)/irq", "19\n")
        try makeDirectory("\(sata)/ata1/host0/target0:0:0/0:0:0:0/block/sda")
        try link("\(sata)/ata1/host0/target0:0:0/0:0:0:0/block/sda/device", to: "../../../0:0:0:0")
        try link("dev/block/8:0", to: "../../\(sata)/ata1/host0/target0:0:0/0:0:0:0/block/sda")
        try counts(19, "7,0,0,0")

        try makeDirectory("devices/virtual/block/dm-0/slaves")
        try link(
            "devices/virtual/block/dm-0/slaves/vda1", to: "../../../../../\(virtio)/virtio1/block/vda/vda1")
        try link("dev/block/253:0", to: "../../devices/virtual/block/dm-0")
        try makeDirectory("devices/virtual/block/dm-1/slaves")
        try link(
            "devices/virtual/block/dm-1/slaves/vda1", to: "../../../../../\(virtio)/virtio1/block/vda/vda1")
        try link(
            "devices/virtual/block/dm-1/slaves/sda",
            to: "../../../../../\(sata)/ata1/host0/target0:0:0/0:0:0:0/block/sda")
        try link("dev/block/253:1", to: "../../devices/virtual/block/dm-1")
        try makeDirectory("devices/virtual/block/zram0")
        try link("dev/block/252:0", to: "../../devices/virtual/block/zram0")
    }

    func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: root + "/" + path, withIntermediateDirectories: true)
    }

    func write(_ path: String, _ text: String) throws {
        try makeDirectory(FileSystem.directoryName(of: path))
        try FileSystem.writeAtomically(Array(text.utf8), to: root + "/" + path)
    }

    func link(_ path: String, to destination: String) throws {
        try makeDirectory(FileSystem.directoryName(of: path))
        try FileManager.default.createSymbolicLink(
            atPath: root + "/" + path, withDestinationPath: destination)
    }

    /// Sets interrupt `number`'s per-CPU counts, as `/sys/kernel/irq/N/per_cpu_count` prints them.
    func counts(_ number: Int, _ text: String) throws {
        try write("kernel/irq/\(number)/per_cpu_count", text + "\n")
    }

    /// glibc's `makedev`.
    static func device(_ major: UInt64, _ minor: UInt64) -> dev_t {
        dev_t(
            ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12)
                | (minor & 0xff))
    }

    func locate(_ major: UInt64, _ minor: UInt64) -> DiskInterrupts.Located {
        DiskInterrupts.locate(device: Self.device(major, minor), sysfs: root)
    }
}

@Suite struct DiskInterruptsTests {
    func found(_ located: DiskInterrupts.Located) throws -> DiskInterrupts {
        guard case .found(let interrupts) = located else {
            throw SystemCallError(call: "locate", errno: ENOENT, subject: "\(located)")
        }
        return interrupts
    }

    func reason(_ located: DiskInterrupts.Located) -> String {
        if case .unavailable(let reason) = located { return reason }
        return "found"
    }

    @Test func aDiskAndItsPartitionLeadToThePCIFunctionsVectors() throws {
        let sysfs = try FakeSysfs()
        let disk = try found(sysfs.locate(254, 0))
        #expect(disk.disk == "vda")
        #expect(disk.interrupts == [35, 36])
        #expect(try found(sysfs.locate(254, 1)) == disk, "a partition's interrupts are its disk's")
        #expect(disk.counts() == [0, 1234], "summed over the vectors, per CPU")
    }

    @Test func aDeviceMapperDeviceOverOneDiskFollowsIt() throws {
        let sysfs = try FakeSysfs()
        #expect(try found(sysfs.locate(253, 0)).disk == "vda")
        #expect(reason(sysfs.locate(253, 1)) == "dm-1 spans 2 devices")
    }

    @Test func aDiskWithAQueuePerCPUIsNotFollowed() throws {
        let sysfs = try FakeSysfs()
        #expect(reason(sysfs.locate(259, 0)).hasPrefix("nvme0n1 has 2 hardware queues"))
    }

    @Test func aControllerWithOneInterruptLineIsFollowed() throws {
        let sysfs = try FakeSysfs()
        let disk = try found(sysfs.locate(8, 0))
        #expect(disk.disk == "sda" && disk.interrupts == [19])
        #expect(disk.counts() == [7, 0, 0, 0])
    }

    @Test func memoryDisksAndFileSystemsWithoutADiskAreNot() throws {
        let sysfs = try FakeSysfs()
        #expect(reason(sysfs.locate(252, 0)) == "zram0 has no device with interrupts")
        #expect(reason(sysfs.locate(0, 42)).contains("0:42 is not a block device"))
    }

    @Test func interruptsTheKernelDoesNotCountAreLeftOut() throws {
        let sysfs = try FakeSysfs()
        try FileManager.default.removeItem(atPath: sysfs.root + "/kernel/irq/35")
        #expect(try found(sysfs.locate(254, 0)).interrupts == [36])
        try FileManager.default.removeItem(atPath: sysfs.root + "/kernel/irq/36")
        #expect(reason(sysfs.locate(254, 0)).hasPrefix("no interrupt of vda is counted"))
    }

    @Test func countsOfUnequalLengthAddUpAndUnreadableCountsGiveNil() throws {
        let sysfs = try FakeSysfs()
        let disk = try found(sysfs.locate(254, 0))
        try sysfs.counts(35, "1,2,3")
        #expect(disk.counts() == [1, 1236, 3])
        try sysfs.counts(35, "1,x")
        #expect(disk.counts() == nil)
    }

    @Test func perCPUCountsParseStrictly() {
        #expect(DiskInterrupts.parseCounts(Array("0,38521080\n".utf8)) == [0, 38_521_080])
        #expect(DiskInterrupts.parseCounts(Array("7".utf8)) == [7])
        #expect(DiskInterrupts.parseCounts(Array("18446744073709551615\n".utf8)) == [UInt64.max])
        for bad in ["", "\n", "1,,2", "1,-2", "1, 2", "18446744073709551616", "0x10", "1,2,"] {
            #expect(DiskInterrupts.parseCounts(Array(bad.utf8)) == nil, "accepted \(bad)")
        }
    }

    /// Whether `path` is on a file system without a block device (tmpfs and the like: major 0).
    static func onAnonymousDevice(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && DiskInterrupts.major(status.st_dev) == 0
    }

    @Test(.enabled(if: onAnonymousDevice("/dev/shm")))
    func aMemoryFileSystemHasNoDiskToFollow() {
        guard case .unavailable(let reason) = DiskInterrupts.locate(file: "/dev/shm") else {
            Issue.record("/dev/shm was located on a disk")
            return
        }
        #expect(reason.contains("is not a block device"))
    }

    @Test func theRealDiskUnderATemporaryFileIsFoundOrExplained() throws {
        let directory = try TemporaryDirectory()
        switch DiskInterrupts.locate(file: directory.path) {
        case .found(let disk):
            #expect(!disk.interrupts.isEmpty)
            let counts = try #require(disk.counts(), "the kernel's own counts parse")
            #expect(!counts.isEmpty)
        case .unavailable(let reason):
            #expect(!reason.isEmpty)
        }
        guard case .unavailable(let reason) = DiskInterrupts.locate(file: directory.file("missing")) else {
            Issue.record("a missing file was located")
            return
        }
        #expect(reason.contains("No such file"))
    }
}

@Suite struct InterruptFollowingTests {
    static let twoCPUs = CPUSet([0, 1])

    @Test func theFirstCountsAreOnlyABaseline() {
        var following = InterruptFollowing(allowed: Self.twoCPUs)
        #expect(following.observe([0, 1000], at: 0) == nil)
        #expect(following.observe([0, 2000], at: 1) == .cpu(1))
    }

    @Test func oneCPUWithNineTenthsOfTheInterruptsTakesTheThread() {
        var following = InterruptFollowing(allowed: Self.twoCPUs)
        _ = following.observe([100, 100], at: 0)
        #expect(following.observe([110, 190], at: 1) == .cpu(1), "90 of 100")
        #expect(following.observe([121, 279], at: 2) == .any, "89 of 100")
        #expect(following.observe([221, 279], at: 3) == .cpu(0))
    }

    @Test func tooFewInterruptsWaitForMoreWithoutLosingThem() {
        var following = InterruptFollowing(allowed: Self.twoCPUs)
        _ = following.observe([0, 0], at: 0)
        #expect(following.observe([0, 40], at: 1) == nil)
        #expect(following.observe([0, 70], at: 2) == .cpu(1), "the 40 and the 30 count together")
    }

    @Test func staleOrShrunkOrReshapedCountsStartAgain() {
        var following = InterruptFollowing(allowed: Self.twoCPUs)
        _ = following.observe([0, 0], at: 0)
        #expect(following.observe([0, 1000], at: InterruptFollowing.staleNanos + 1) == nil, "stale")
        #expect(following.observe([0, 500], at: InterruptFollowing.staleNanos + 2) == nil, "went down")
        #expect(following.observe([0, 500, 0], at: InterruptFollowing.staleNanos + 3) == nil, "new CPU")
        #expect(following.observe([0, 600, 0], at: InterruptFollowing.staleNanos + 4) == .cpu(1))
    }

    @Test func aCPUTheProcessMayNotUseIsNeverChosen() {
        var following = InterruptFollowing(allowed: CPUSet([0]))
        _ = following.observe([0, 0], at: 0)
        #expect(following.observe([0, 1000], at: 1) == .any)
    }
}

/// The placement applied to a real `AppendLog`'s sync thread, read back from the kernel by the
/// completions, which run on that thread.
@Suite struct SyncPlacementTests {
    /// Appends one line and returns, once it is durable, the sync thread's CPUs as its completion saw them.
    static func appendAndReadAffinity(_ log: AppendLog) throws -> CPUSet? {
        let seen = Mutex<CPUSet?>(nil)
        let done = DispatchSemaphore(value: 0)
        log.append(Array("line\n".utf8)) { error in
            #expect(error == nil)
            seen.withLock { $0 = try? CurrentThread.affinity() }
            done.signal()
        }
        done.wait()
        return seen.withLock { $0 }
    }

    final class Changes: Sendable {
        let all = Mutex<[SyncPlacement.Change]>([])
        var observer: SyncPlacement.Observer { { change in self.all.withLock { $0.append(change) } } }
        var list: [SyncPlacement.Change] { all.withLock { $0 } }
    }

    @Test func theSyncThreadFollowsTheDisksInterruptsAndLetsGoWhenTheySpread() throws {
        let sysfs = try FakeSysfs()
        guard case .found(let vda) = sysfs.locate(254, 0) else {
            Issue.record("fake vda not found")
            return
        }
        let allowed = try CurrentThread.affinity()
        let target = try #require(allowed.cpus.last)
        // Counts for one CPU more than the machine has: a CPU the process may not use.
        let outside = target + 1
        func setCounts(_ perCPU: [Int: UInt64]) throws {
            try sysfs.counts(36, (0...outside).map { String(perCPU[$0] ?? 0) }.joined(separator: ","))
            try sysfs.counts(35, (0...outside).map { _ in "0" }.joined(separator: ","))
        }
        try setCounts([:])
        let changes = Changes()
        let placement = SyncPlacement(
            following: vda, allowed: allowed, checkEverySeconds: 0, observer: changes.observer)
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0, placement: placement)

        // The placement moves after a batch's completions, so a batch's completions see what the
        // batches before the previous one decided: each step below appends twice.
        #expect(try Self.appendAndReadAffinity(log) == allowed, "the baseline: nothing decided yet")
        #expect(try Self.appendAndReadAffinity(log) == allowed)
        try setCounts([target: 500])
        _ = try Self.appendAndReadAffinity(log)
        #expect(try Self.appendAndReadAffinity(log) == CPUSet([target]), "the next batch runs there")
        #expect(placement.cpu == target)
        #expect(
            changes.list == [.pinned(cpu: target, reason: "vda's completion interrupts go to CPU \(target)")])

        // Half the interrupts now go elsewhere: the thread may run anywhere again.
        try setCounts([target: 550, outside: 50])
        _ = try Self.appendAndReadAffinity(log)
        #expect(try Self.appendAndReadAffinity(log) == allowed)
        #expect(placement.cpu == nil)
        #expect(changes.list.count == 2)
        guard case .released(let reason) = changes.list.last else {
            Issue.record("not released: \(changes.list)")
            return
        }
        #expect(reason.contains("vda"))
        #expect(try directory.read("log") == String(repeating: "line\n", count: 6), "every line kept")
    }

    @Test func aFixedCPUHoldsFromTheSyncThreadsStart() throws {
        let allowed = try CurrentThread.affinity()
        let target = try #require(allowed.cpus.first)
        let changes = Changes()
        let placement = SyncPlacement(cpu: target, allowed: allowed, observer: changes.observer)
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0, placement: placement)
        #expect(try Self.appendAndReadAffinity(log) == CPUSet([target]))
        #expect(placement.cpu == target)
        #expect(changes.list == [.pinned(cpu: target, reason: "storage.syncCPU is \(target)")])
    }

    @Test func aCPUOutsideTheProcesssSetIsReportedAndIgnored() throws {
        let allowed = try CurrentThread.affinity()
        let changes = Changes()
        let placement = SyncPlacement(cpu: 4095, allowed: allowed, observer: changes.observer)
        #expect(changes.list == [.failed("CPU 4095 is not one this process may use (\(allowed))")])
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0, placement: placement)
        #expect(try Self.appendAndReadAffinity(log) == allowed)
        #expect(placement.cpu == nil)
        #expect(changes.list.count == 1)
    }

    @Test func aKernelRefusalStopsPlacementButNotTheLedger() throws {
        // The process "may use" CPU 4095, which no test machine has: the kernel says EINVAL.
        let changes = Changes()
        let placement = SyncPlacement(cpu: 4095, allowed: CPUSet([4095]), observer: changes.observer)
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0, placement: placement)
        let before = try CurrentThread.affinity()
        #expect(try Self.appendAndReadAffinity(log) == before)
        #expect(try Self.appendAndReadAffinity(log) == before)
        #expect(placement.cpu == nil)
        #expect(changes.list.count == 1, "reported once")
        guard case .failed(let reason) = changes.list.first else {
            Issue.record("not failed: \(changes.list)")
            return
        }
        #expect(reason.contains("sched_setaffinity"))
        #expect(try directory.read("log") == "line\nline\n")
    }

    @Test func makeFollowsTheSettingForARealDirectory() throws {
        let directory = try TemporaryDirectory()
        let allowed = try CurrentThread.affinity()
        let changes = Changes()
        #expect(SyncPlacement.make(.any, directory: directory.path, observer: changes.observer) == nil)
        #expect(changes.list.isEmpty)
        let fixed = try #require(
            SyncPlacement.make(.cpu(allowed.cpus[0]), directory: directory.path, observer: changes.observer))
        #expect(fixed.cpu == nil, "nothing placed before the sync thread starts")
        let auto = SyncPlacement.make(.auto, directory: directory.path, observer: changes.observer)
        if auto == nil {
            // Explained: a memory file system, a disk with a queue per CPU, or a single CPU.
            guard case .unavailable(let reason) = changes.list.last else {
                Issue.record("auto gave nothing and said nothing: \(changes.list)")
                return
            }
            #expect(!reason.isEmpty)
        }
    }

    @Test func theStorePlacesItsLedgersSyncThread() throws {
        let allowed = try CurrentThread.affinity()
        let target = try #require(allowed.cpus.last)
        let directory = try TemporaryDirectory()
        let (store, _) = try Store.open(
            directory: directory.path, now: 1_000,
            observers: Store.FlushObservers(ledgerSyncCPU: .cpu(target)))
        #expect(store.journal.placement == nil, "only the ledger's sync thread is placed")
        #expect(try Self.appendAndReadAffinity(store.ledger) == CPUSet([target]))
        #expect(store.ledger.placement?.cpu == target)
    }
}
