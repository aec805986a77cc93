import Correlation
import JSON
import POSIX
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The storage directory: `bindings.jsonl` (the ledger, SPEC's format) and `pending.jsonl` (the journal
/// of issued requests). Opening it locks the directory and replays both into a `Registry`.
public final class Store: Sendable {
    public static let ledgerName = "bindings.jsonl"
    public static let journalName = "pending.jsonl"

    public let directory: String
    public let ledger: AppendLog
    public let journal: AppendLog
    /// The directory itself, flocked for the store's lifetime: two daemons appending to one ledger would
    /// write over each other's lines. A lock on a file name would end with an `rm` of that name; the
    /// directory cannot be swapped under its own descriptor.
    private let lock: FileDescriptor
    private let health: Health

    /// A write or sync that failed, and when (Unix ms); kept after storage recovers, for `status`.
    public struct StorageError: Sendable {
        public let error: AppendFailure
        public let at: Int64
    }

    /// A ledger or journal sync running longer than this counts as stuck (a hung disk).
    public static let stuckSyncSeconds = 30.0

    public struct Replayed: Sendable {
        public let registry: Registry
        /// Torn last lines that were cut off and saved aside, for the log.
        public let tornTails: [String]
    }

    /// The latest write's outcome and the last failure: shared with the ledger's completion scope,
    /// which records each batch of asynchronous appends once.
    final class Health: Sendable {
        let lastFailure = Locked<AppendFailure?>(nil)
        let lastError = Locked<StorageError?>(nil)

        func record(_ error: AppendFailure?) {
            lastFailure.withLock { $0 = error }
            if let error {
                lastError.withLock { $0 = StorageError(error: error, at: WallClock.nowMilliseconds()) }
            }
        }
    }

    private init(
        directory: String, ledger: AppendLog, journal: AppendLog, lock: FileDescriptor, health: Health
    ) {
        self.directory = directory
        self.ledger = ledger
        self.journal = journal
        self.lock = lock
        self.health = health
    }

    deinit { lock.close() }

    /// Takes the directory's exclusive flock, held until the store is gone: one openidd per ledger.
    /// Another holder is named by pid in the error.
    private static func lockDirectory(_ directory: String) throws -> FileDescriptor {
        let fd = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY)
        do {
            if try fd.lockExclusively(subject: directory) { return fd }
            let holder = FileLocks.holder(of: try fd.status(subject: directory)).map { " (pid \($0))" } ?? ""
            throw LedgerError(
                "\(directory) is in use by another openidd process\(holder); only one may write a ledger")
        } catch {
            fd.close()
            throw error
        }
    }

    /// Who is told of each batch the ledger and the journal write (metrics).
    public struct FlushObservers: Sendable {
        public var ledger: AppendLog.FlushObserver?
        public var journal: AppendLog.FlushObserver?
        /// Around each batch of the ledger's asynchronous completions (see `AppendLog.CompletionScope`).
        public var ledgerCompletions: AppendLog.CompletionScope?
        /// Told once per file that the ledger or the journal was deleted or replaced.
        public var detached: (@Sendable (DetachedFile) -> Void)?
        public init(
            ledger: AppendLog.FlushObserver? = nil, journal: AppendLog.FlushObserver? = nil,
            ledgerCompletions: AppendLog.CompletionScope? = nil,
            detached: (@Sendable (DetachedFile) -> Void)? = nil
        ) {
            self.ledger = ledger
            self.journal = journal
            self.ledgerCompletions = ledgerCompletions
            self.detached = detached
        }
    }

    public static func open(directory: String, now: Int64, observers: FlushObservers = FlushObservers())
        throws -> (Store, Replayed)
    {
        try FileSystem.makeDirectory(directory)
        let lock = try lockDirectory(directory)
        var opened = false
        defer { if !opened { lock.close() } }
        let journalPath = directory + "/" + journalName
        let ledgerPath = directory + "/" + ledgerName
        let replay = try StorageReplay.read(directory: directory, now: now)
        if let refusal = LineFile.refusal(replay.problems) { throw refusal }
        let torn = [
            try LineFile.repairTornTail(replay.journal, savingAt: journalPath + ".torn-\(now)"),
            try LineFile.repairTornTail(replay.ledger, savingAt: ledgerPath + ".torn-\(now)"),
        ].compactMap { $0 }
        // Replay's temporary buffers came from the heap; hand the freed pages back to the kernel.
        Memory.trim()

        let health = Health()
        let ownersScope = observers.ledgerCompletions
        let store = Store(
            directory: directory,
            ledger: try AppendLog(
                path: ledgerPath, durableLength: replay.ledger.durableLength, observer: observers.ledger,
                completionScope: { result, runCompletions in
                    health.record(result)
                    if let ownersScope { ownersScope(result, runCompletions) } else { runCompletions() }
                },
                onDetached: observers.detached),
            journal: try AppendLog(
                path: journalPath, durableLength: replay.journal.durableLength, observer: observers.journal,
                onDetached: observers.detached),
            lock: lock, health: health)
        opened = true
        return (store, Replayed(registry: replay.registry, tornTails: torn))
    }

    /// Appends the binding's ledger line without waiting; `completion` runs (on the ledger's sync
    /// thread) once it is fsynced, with nil, or with the error.
    /// The store's health is recorded once per batch, by the ledger's completion scope.
    public func append(_ binding: Binding, completion: @escaping @Sendable (AppendFailure?) -> Void) {
        ledger.append(LedgerLine.encode(binding), completion: completion)
    }

    public func append(_ entry: JournalLine.Entry) throws {
        try recording { try journal.append(JournalLine.encode(entry)) }
    }

    /// Health follows the latest write to either file: a disk that has room again reads healthy as
    /// soon as one write succeeds.
    private func recording(_ write: () throws -> Void) throws {
        do {
            try write()
            record(nil)
        } catch let error as AppendFailure {
            record(error)
            throw error
        }
    }

    private func record(_ error: AppendFailure?) { health.record(error) }

    /// Rewrites the journal to hold only `pending()` (called while appends wait), so it stays
    /// proportional to what is pending rather than to everything ever issued.
    public func compactJournal(_ pending: () -> [PendingRequest]) throws {
        try journal.rewrite {
            var bytes: [UInt8] = []
            for request in pending() { bytes += JournalLine.encode(.pending(request)) }
            return bytes
        }
    }

    /// The storage failure still standing, for health reports: a file deleted or replaced, which only a
    /// restart clears, else the latest write's error.
    public var failure: AppendFailure? {
        if let file = ledger.detachedFile ?? journal.detachedFile { return .detached(file) }
        return health.lastFailure.withLock { $0 }
    }

    /// The most recent storage failure since start-up, even if storage has recovered since.
    public var lastStorageError: StorageError? { health.lastError.withLock { $0 } }

    /// Whether a ledger or journal sync has been running for over `stuckSyncSeconds`.
    public func isSyncStuck(longerThan seconds: Double = Store.stuckSyncSeconds) -> Bool {
        ledger.isSyncStuck(longerThan: seconds) || journal.isSyncStuck(longerThan: seconds)
    }
}
