import Foundation
import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// An append-only file of lines whose `append` returns only once the line is on disk.
///
/// Group commit: callers queue their bytes; whichever caller finds no sync running becomes the leader,
/// writes everything queued with one `pwrite` and one `fdatasync`, and wakes the others. Under load one
/// sync covers many lines; alone, a caller pays one write and one sync.
///
/// A failed write or sync fails every caller in that batch and cuts the file back to its last durable
/// length, so nothing half-written stays behind a later line; the next append retries the disk.
///
/// Before each batch's sync, one lstat checks that the path still leads to the file appended to. If
/// the file was deleted or replaced, that batch and every later one fail with `.detached`: the file is
/// not recreated, and what was acknowledged stays in the old inode, which the descriptor keeps alive.
///
/// Callers that must not block (the callback port's event loop) append with a completion instead: a
/// flusher thread, started when needed and gone after a few idle seconds, syncs their batches and calls
/// the completions, while the next batch gathers behind the running sync.
public final class AppendLog: @unchecked Sendable {
    public typealias Completion = @Sendable (AppendFailure?) -> Void
    /// Told of each batch that reached the disk: the lines it held and how long its fdatasync took.
    public typealias FlushObserver = @Sendable (_ lines: Int, _ syncSeconds: Double) -> Void
    /// Runs a batch's completions (the body it is given) inside whatever scope the owner wants around
    /// them, told the batch's result, which every completion in it gets too: the store records its
    /// health once per batch, and the daemon gathers the log lines they write into one write.
    public typealias CompletionScope =
        @Sendable (
            _ result: AppendFailure?, _ runCompletions: () -> Void
        ) -> Void

    public let path: String
    /// Replaced only by `rewrite`, while it holds the flushing role, so the flusher never sees it change.
    private var fd: FileDescriptor
    /// The device and inode of `fd`'s file, which the path must still lead to. Changed with `fd`.
    private var identity: FileStatus
    /// Told once, from the flush that finds it, that the file was deleted or replaced.
    private let onDetached: (@Sendable (DetachedFile) -> Void)?
    private let condition = Condition()

    // Guarded by `condition`.
    private var queued: [UInt8] = []
    /// The lines in `queued`: one per append.
    private var queuedLines = 0
    private var queuedBatch: UInt64 = 1
    private var finishedThrough: UInt64 = 0
    private var failures: [UInt64: AppendFailure] = [:]
    private var waitersPerBatch: [UInt64: Int] = [:]
    /// Completions of asynchronous appends in `queued`, called once their batch is synced.
    private var queuedCompletions: [Completion] = []
    /// Emptied buffers of the last flush, kept for their capacity: the next batch fills them without
    /// regrowing from nothing.
    private var spareBytes: [UInt8] = []
    private var spareCompletions: [Completion] = []
    private var flusherRunning = false
    private var flushing = false
    private var durableLength: Int
    private var needsRepair = false
    /// A rewrite renamed a new file into place but the directory's fsync failed: until one succeeds,
    /// the rename itself may not survive a crash, so no batch is acknowledged before it does.
    private var directoryUnsynced = false
    private var lastError: AppendFailure?
    /// Set for good once the file was found deleted or replaced.
    private var detached: DetachedFile?
    private var syncs: UInt64 = 0
    /// When the running flush started (CLOCK_MONOTONIC ns), 0 when none runs.
    private var flushStartedAt: UInt64 = 0
    private let observer: FlushObserver?
    private let completionScope: CompletionScope?

    /// Opens (creating if needed) `path` for appending at `durableLength` (what replay accepted); a
    /// symbolic link at `path` is refused.
    public init(
        path: String, durableLength: Int, observer: FlushObserver? = nil,
        completionScope: CompletionScope? = nil, onDetached: (@Sendable (DetachedFile) -> Void)? = nil
    ) throws {
        self.path = path
        self.onDetached = onDetached
        self.observer = observer
        self.completionScope = completionScope
        let existed = FileSystem.exists(path)
        fd = try FileDescriptor.openStorageFile(path, O_WRONLY | O_CREAT)
        identity = try fd.status(subject: path)
        self.durableLength = durableLength
        // Bytes past what replay accepted were never acknowledged; the first batch cuts them off
        // (pwrite alone would leave the tail of a longer garbage run after the new line).
        needsRepair = try fd.size(subject: path) > durableLength
        if !existed {
            // A new directory entry is durable only once the directory itself is synced.
            try FileSystem.syncDirectory(FileSystem.directoryName(of: path))
        }
    }

    deinit { fd.close() }

    /// The last storage error, until a later append succeeds (never, once the file is detached).
    public var failure: AppendFailure? { condition.withLock { lastError } }

    /// The file deleted or replaced under the log, if it was.
    public var detachedFile: DetachedFile? { condition.withLock { detached } }

    /// Batches whose fdatasync completed successfully.
    public var syncCount: UInt64 { condition.withLock { syncs } }

    /// Failed batches whose synchronous waiters have not yet read their error.
    var unreadFailureCount: Int { condition.withLock { failures.count } }

    /// Appends `line` (one line, its newline included) and returns once it is durable; throws the write
    /// or sync error.
    public func append(_ line: [UInt8]) throws {
        condition.lock()
        defer { condition.unlock() }
        let batch = queuedBatch
        queued.append(contentsOf: line)
        queuedLines += 1
        waitersPerBatch[batch, default: 0] += 1
        while finishedThrough < batch {
            if flushing {
                condition.wait()
            } else {
                runCompletions(flushQueued())
            }
        }
        waitersPerBatch[batch]! -= 1
        let failure = failures[batch]
        if waitersPerBatch[batch] == 0 {
            waitersPerBatch[batch] = nil
            failures[batch] = nil
        }
        if let failure { throw failure }
    }

    /// Appends `line` (one line, its newline included) and returns at once; `completion` runs on the
    /// flusher thread once it is durable, with nil, or with the write or sync error.
    public func append(_ line: [UInt8], completion: @escaping Completion) {
        condition.lock()
        defer { condition.unlock() }
        queued.append(contentsOf: line)
        queuedLines += 1
        queuedCompletions.append(completion)
        if !flusherRunning {
            flusherRunning = true
            let thread = Thread { [self] in flusherLoop() }
            thread.name = "ledger-sync"
            thread.start()
        } else if !flushing && queuedCompletions.count == 1 {
            // The flusher is asleep and this is the first of a new batch: one wake-up per batch.
            condition.broadcast()
        }
    }

    /// Syncs batches with completions while there are any; exits after 5 idle seconds, so an idle log
    /// holds no thread (and can be freed).
    private func flusherLoop() {
        CurrentThread.setName("ledger-sync")
        condition.lock()
        while true {
            while queuedCompletions.isEmpty || flushing {
                let deadline = MonotonicClock.deadline(afterSeconds: 5)
                if !condition.wait(untilNanos: deadline) && queuedCompletions.isEmpty && !flushing {
                    flusherRunning = false
                    condition.unlock()
                    return
                }
            }
            var (calls, result) = flushQueued()
            condition.unlock()
            run(calls, result)
            calls.removeAll(keepingCapacity: true)
            condition.lock()
            spareCompletions = calls
        }
    }

    /// Called with the lock held; calls `completions` without it (they may take other locks, or append).
    private func runCompletions(_ completions: (calls: [Completion], result: AppendFailure?)) {
        guard !completions.calls.isEmpty else { return }
        condition.unlock()
        run(completions.calls, completions.result)
        condition.lock()
    }

    /// A batch's completions, in the owner's scope: on the flusher thread, or on a synchronous
    /// appender's that flushed a batch holding some.
    private func run(_ calls: [Completion], _ result: AppendFailure?) {
        if let completionScope {
            completionScope(result) { for completion in calls { completion(result) } }
        } else {
            for completion in calls { completion(result) }
        }
    }

    /// Whether a write and sync has been running for longer than `seconds` (a hung disk).
    public func isSyncStuck(longerThan seconds: Double) -> Bool {
        let started = condition.withLock { flushStartedAt }
        return started != 0 && MonotonicClock.nowNanos() - started > UInt64(seconds * 1e9)
    }

    /// The number of bytes durably in the file.
    public var length: Int { condition.withLock { durableLength } }

    /// Replaces the whole file atomically (write a temporary file, fsync, rename, fsync the directory)
    /// with what `contents` returns. Appends wait meanwhile; those queued before the swap land after
    /// it, in the new file. `contents` runs with no flush in progress, so it sees a stable state.
    /// A file deleted or replaced under the log is not rewritten: that throws `.detached`. Once the
    /// rename is done the log appends to the new file, even if the directory's fsync then fails (thrown).
    public func rewrite(_ contents: () -> [UInt8]) throws {
        condition.lock()
        while flushing { condition.wait() }
        flushing = true
        let alreadyDetached = detached
        let offset = durableLength
        condition.unlock()
        var failure: Error?
        do {
            if let alreadyDetached { throw AppendFailure.detached(alreadyDetached) }
            if let found = try detachment(length: offset) {
                condition.withLock {
                    detached = found
                    lastError = .detached(found)
                }
                onDetached?(found)
                throw AppendFailure.detached(found)
            }
            let bytes = contents()
            let replacement = try FileSystem.writeAndRename(bytes, to: path)
            // The path leads to the new file from here on: adopted at once, so that a failure below
            // cannot leave the next flush comparing the path with the old file's identity.
            condition.lock()
            fd.close()
            fd = replacement.file
            identity = replacement.status
            durableLength = bytes.count
            needsRepair = false
            directoryUnsynced = true
            condition.unlock()
            try FileSystem.syncDirectory(FileSystem.directoryName(of: path))
            condition.withLock { directoryUnsynced = false }
        } catch {
            failure = error
        }
        condition.withLock {
            flushing = false
            condition.broadcast()
        }
        if let failure { throw failure }
    }

    /// Called with the lock held; releases it around the I/O. Returns the batch's completions and result.
    private func flushQueued() -> (calls: [Completion], result: AppendFailure?) {
        flushing = true
        let batch = queuedBatch
        var bytes = spareBytes
        swap(&bytes, &queued)
        spareBytes = []
        let lines = queuedLines
        queuedLines = 0
        let completions = queuedCompletions
        queuedCompletions = spareCompletions
        spareCompletions = []
        queuedBatch += 1
        let offset = durableLength
        let repair = needsRepair
        let syncDirectoryFirst = directoryUnsynced
        let alreadyDetached = detached
        flushStartedAt = MonotonicClock.nowNanos()
        condition.unlock()

        var result: AppendFailure?
        if let alreadyDetached {
            result = .detached(alreadyDetached)
        } else {
            do {
                if repair { try fd.truncate(to: offset, subject: path) }
                try fd.writeAll(bytes, at: offset, subject: path)
                // Checked after the write, so a swap during it is seen too, and before the sync that
                // acknowledges the batch.
                if let found = try detachment(length: offset) {
                    result = .detached(found)
                    // The old file keeps exactly the acknowledged lines.
                    try? fd.truncate(to: offset, subject: path)
                    onDetached?(found)
                } else {
                    if syncDirectoryFirst { try FileSystem.syncDirectory(FileSystem.directoryName(of: path)) }
                    let syncStartedAt = MonotonicClock.nowNanos()
                    try fd.dataSync(subject: path)
                    observer?(lines, Double(MonotonicClock.nowNanos() - syncStartedAt) / 1e9)
                }
            } catch let error as SystemCallError {
                result = .systemCall(error)
                // Cut back what may have reached the file, so the next batch starts on a line boundary.
                try? fd.truncate(to: offset, subject: path)
            } catch {
                result = .systemCall(SystemCallError(call: "write", errno: EIO, subject: path))
            }
        }

        condition.lock()
        if case .detached(let found) = result { detached = found }
        flushStartedAt = 0
        if let result {
            // Kept for the batch's synchronous waiters, the last of whom removes it; completions are told
            // directly, so a batch of completions alone keeps nothing.
            if waitersPerBatch[batch] != nil { failures[batch] = result }
            lastError = result
            needsRepair = true
        } else {
            durableLength = offset + bytes.count
            // Counted only once fdatasync returned 0, as the observer hears only of such batches.
            syncs += 1
            lastError = nil
            needsRepair = false
            if syncDirectoryFirst { directoryUnsynced = false }
        }
        finishedThrough = batch
        flushing = false
        condition.broadcast()
        // Kept only at a batch's usual size: a rare huge batch should not pin its memory for good.
        if bytes.capacity <= 1 << 20 {
            bytes.removeAll(keepingCapacity: true)
            spareBytes = bytes
        }
        return (completions, result)
    }

    /// One lstat: whether `path` still leads to the file appended to, which holds `length` acknowledged
    /// bytes. (An unlinked file keeps its inode number while the descriptor holds it, so no other file
    /// can match.) Called by the one flush or rewrite running, so `fd` and `identity` are stable.
    private func detachment(length: Int) throws -> DetachedFile? {
        let atPath = try FileSystem.linkStatus(path)
        if atPath == identity { return nil }
        return DetachedFile(
            path: path, change: atPath == nil ? .deleted : .replaced, inode: identity.inode,
            openFile: fd.procPath, length: length)
    }
}
