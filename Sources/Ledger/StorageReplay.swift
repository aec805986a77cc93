import Correlation
import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// The storage directory's journal and ledger replayed into a `Registry`, without changing either
/// file: start-up refuses on any problem but a torn tail (which it then repairs), and `openidctl check`
/// lists every problem. One reading for both, so they never disagree about what is wrong.
public struct StorageReplay: Sendable {
    public let registry: Registry
    public let journal: LineFile.Reading
    public let ledger: LineFile.Reading
    /// Every problem found: the journal's, then the ledger's, each in line order.
    public let problems: [ReplayProblem]

    /// Requests past their expiry at `now` are marked expired.
    public static func read(directory: String, now: Int64) throws -> StorageReplay {
        var registry = Registry()
        let journalPath = directory + "/" + Store.journalName
        let ledgerPath = directory + "/" + Store.ledgerName

        let journal = try LineFile.read(path: journalPath) { line, _ in
            switch try JournalLine.decode(line) {
            case .pending(let request): registry.restore(pending: request)
            case .failed(let serialNo): registry.restore(failedSerialNo: serialNo)
            }
        }
        // Sized from the ledger's length (a line is about 200 bytes, 70 of them the strings kept), so
        // replay neither regrows arrays nor rebuilds indexes. Open requests are not counted: sizing for
        // them could double the indexes (31 MB of RSS at a million bindings).
        let ledgerBytes =
            (try? FileDescriptor.openStorageFile(ledgerPath, O_RDONLY)).map { fd in
                defer { fd.close() }
                return (try? fd.size()) ?? 0
            } ?? 0
        registry.reserveBindingCapacity(ledgerBytes / 200, bytesPerBinding: 72)
        var scratch = ReplayScratch()
        var lineNumbers = LineNumbers()
        var replayed = 0
        let ledger = try LineFile.read(path: ledgerPath) { line, lineNumber in
            try LedgerLine.replay(line, into: &registry, scratch: &scratch)
            lineNumbers.record(position: replayed, line: lineNumber)
            replayed += 1
        }
        let contradictions = registry.finishRestore().map { contradiction in
            ReplayProblem(
                path: ledgerPath, line: lineNumbers.line(of: contradiction.laterPosition),
                kind: .contradiction(
                    contradiction, firstLine: lineNumbers.line(of: contradiction.firstPosition)))
        }
        registry.expire(now: now)
        var ledgerProblems = ledger.problems + contradictions
        ledgerProblems.sort { $0.line < $1.line }
        return StorageReplay(
            registry: registry, journal: journal, ledger: ledger,
            problems: missingFile(journalPath, ledgerPath) + journal.problems + ledgerProblems)
    }

    /// The daemon creates the ledger and the journal together when it first starts, so a journal
    /// without a ledger means the ledger, and every binding in it, was removed while it was stopped.
    /// (A ledger without a journal is a ledger restored from a backup: it starts, with no pending
    /// requests.)
    static func missingFile(_ journalPath: String, _ ledgerPath: String) -> [ReplayProblem] {
        guard FileSystem.exists(journalPath), !FileSystem.exists(ledgerPath) else { return [] }
        return [ReplayProblem(path: ledgerPath, line: 0, kind: .missing(besides: journalPath))]
    }
}

/// The ledger line of each binding replayed, by its position among them: the same but for empty and
/// corrupt lines, so only the offsets where they differ anew are kept.
private struct LineNumbers {
    private var jumps: [(position: Int, offset: Int)] = [(0, 1)]

    mutating func record(position: Int, line: Int) {
        if line - position != jumps[jumps.count - 1].offset { jumps.append((position, line - position)) }
    }

    func line(of position: Int) -> Int {
        position + jumps.last { $0.position <= position }!.offset
    }
}
