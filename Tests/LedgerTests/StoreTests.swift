import Correlation
import Foundation
import Ledger
import Testing

@Suite struct StoreTests {
    @Test func openCreatesAnEmptyStore() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state")
        let (store, replayed) = try openStore(directory: path, now: t0)
        #expect(store.directory == path)
        #expect(replayed.registry.openCount == 0)
        #expect(replayed.registry.bindingCount == 0)
        #expect(replayed.tornTails.isEmpty)
        #expect(store.failure == nil)
    }

    @Test func replaysJournalAndLedgerIntoARegistry() throws {
        let directory = try TemporaryDirectory()
        let journal =
            [
                JournalLine.encode(.pending(makeRequest(serialNo: "pending", token: "t-p"))),
                JournalLine.encode(.pending(makeRequest(serialNo: "failed"))),
                JournalLine.encode(.pending(makeRequest(serialNo: "bound", userId: "u-7"))),
                JournalLine.encode(.pending(makeRequest(serialNo: "old", expiresAt: t0 - 1))),
                JournalLine.encode(.failed(serialNo: "failed")),
            ].flatMap { $0 }
        let ledger =
            [
                LedgerLine.encode(makeBinding(serialNo: "bound", userId: "u-7", openId: "o-7")),
                LedgerLine.encode(makeBinding(serialNo: "never-journaled", userId: "u-8", openId: "o-8")),
                LedgerLine.encode(makeBinding(serialNo: "never-journaled", userId: "u-8", openId: "o-8")),
            ].flatMap { $0 }
        try directory.write(Store.journalName, text(journal))
        try directory.write(Store.ledgerName, text(ledger))

        let (_, replayed) = try openStore(directory: directory.path, now: t0)
        var registry = replayed.registry
        #expect(registry.status(serialNo: "pending", now: t0)?.state == .pending)
        #expect(registry.status(serialNo: "failed", now: t0)?.state == .failed)
        #expect(registry.status(serialNo: "bound", now: t0)?.state == .bound)
        #expect(registry.status(serialNo: "old", now: t0)?.state == .expired)
        #expect(registry.status(serialNo: "never-journaled", now: t0)?.openId == "o-8")
        #expect(registry.openCount == 1, "only `pending` is still open after the expiry sweep")
        #expect(registry.bindingCount == 2)
        #expect(registry.latestBinding(userId: "u-7")?.openId == "o-7")
        #expect(
            registry.beginBinding(serialNo: "pending", openId: "o-1", userId: nil, now: t0) { $0 == "t-p" }
                == .proceed(makeRequest(serialNo: "pending", token: "t-p")))
    }

    @Test func appendsAreReplayedOnReopen() throws {
        let directory = try TemporaryDirectory()
        do {
            let (store, _) = try openStore(directory: directory.path, now: t0)
            try store.append(.pending(makeRequest()))
            try store.appendDurably(makeBinding())
        }
        #expect(try directory.read(Store.ledgerName) == text(LedgerLine.encode(makeBinding())))
        let (store, replayed) = try openStore(directory: directory.path, now: t0)
        #expect(replayed.registry.latestBinding(userId: "u-42") == makeBinding())
        #expect(replayed.registry.openCount == 0)
        try store.appendDurably(makeBinding(serialNo: "s-2", openId: "open-2"))
        #expect(try directory.read(Store.ledgerName).split(separator: "\n").count == 2)
    }

    @Test func tornTailsAreReportedAndAppendsStartOnAFreshLine() throws {
        let directory = try TemporaryDirectory()
        let complete = text(LedgerLine.encode(makeBinding()))
        try directory.write(Store.ledgerName, complete + #"{"serialNo":"s-2","us"#)
        try directory.write(Store.journalName, #"{"op":"pen"#)
        let (store, replayed) = try openStore(directory: directory.path, now: t0)
        #expect(
            Set(replayed.tornTails) == [
                directory.file(Store.ledgerName + ".torn-\(t0)"),
                directory.file(Store.journalName + ".torn-\(t0)"),
            ])
        #expect(try directory.read(Store.ledgerName + ".torn-\(t0)") == #"{"serialNo":"s-2","us"#)
        #expect(replayed.registry.bindingCount == 1)
        try store.appendDurably(makeBinding(serialNo: "s-3", openId: "open-3"))
        #expect(
            try directory.read(Store.ledgerName) == complete
                + text(LedgerLine.encode(makeBinding(serialNo: "s-3", openId: "open-3"))))
    }

    @Test func corruptLedgerLineRefusesToOpen() throws {
        let directory = try TemporaryDirectory()
        let content =
            text(LedgerLine.encode(makeBinding())) + "{not json}\n"
            + text(LedgerLine.encode(makeBinding(serialNo: "s-2")))
        try directory.write(Store.ledgerName, content)
        #expect {
            try openStore(directory: directory.path, now: t0)
        } throws: { error in
            error is LedgerError && "\(error)".contains(Store.ledgerName) && "\(error)".contains("line 2")
        }
        #expect(try directory.read(Store.ledgerName) == content)
    }

    @Test func aLedgerBindingOneSerialNoToTwoOpenIdsRefusesToOpen() throws {
        let directory = try TemporaryDirectory()
        let content =
            text(LedgerLine.encode(makeBinding(serialNo: "s-1", openId: "open-a"))) + "\n"
            + text(LedgerLine.encode(makeBinding(serialNo: "s-2", openId: "open-c")))
            + text(LedgerLine.encode(makeBinding(serialNo: "s-1", openId: "open-b")))
        try directory.write(Store.ledgerName, content)
        #expect {
            try openStore(directory: directory.path, now: t0)
        } throws: { error in
            let message = "\(error)"
            return error is LedgerError && message.contains(directory.file(Store.ledgerName) + " line 4")
                && message.contains("line 1") && message.contains("open-a") && message.contains("open-b")
                && message.contains("refusing to start")
        }
        #expect(try directory.read(Store.ledgerName) == content, "no line was changed")
    }

    @Test func aLedgerBindingOneSerialNoToTwoUserIdsRefusesToOpen() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            Store.ledgerName,
            text(LedgerLine.encode(makeBinding(serialNo: "s-1", userId: "u-1")))
                + text(LedgerLine.encode(makeBinding(serialNo: "s-1", userId: "u-2"))))
        #expect {
            try openStore(directory: directory.path, now: t0)
        } throws: { error in
            "\(error)".contains("line 2") && "\(error)".contains("u-1") && "\(error)".contains("u-2")
        }
    }

    @Test func aLineRepeatedWholeIsNoContradiction() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            Store.ledgerName,
            text(LedgerLine.encode(makeBinding(serialNo: "s-1", boundAt: t0)))
                + text(LedgerLine.encode(makeBinding(serialNo: "s-1", boundAt: t0 + 5))))
        let (_, replayed) = try openStore(directory: directory.path, now: t0)
        #expect(replayed.registry.bindingCount == 1)
    }

    @Test func replayListsEveryProblemWithoutChangingAFile() throws {
        let directory = try TemporaryDirectory()
        let journal = #"{"op":"unknown","serialNo":"s"}"# + "\n" + "torn"
        let ledger =
            text(LedgerLine.encode(makeBinding(serialNo: "s-1", openId: "open-a"))) + "{not json}\n"
            + text(LedgerLine.encode(makeBinding(serialNo: "s-1", openId: "open-b")))
            + text(LedgerLine.encode(makeBinding(serialNo: "s-2"))) + "{\"serialNo\""
        try directory.write(Store.journalName, journal)
        try directory.write(Store.ledgerName, ledger)
        let replay = try StorageReplay.read(directory: directory.path, now: t0)
        #expect(
            replay.problems.map(\.path) == [
                directory.file(Store.journalName), directory.file(Store.journalName),
                directory.file(Store.ledgerName), directory.file(Store.ledgerName),
                directory.file(Store.ledgerName),
            ])
        #expect(replay.problems.map(\.line) == [1, 2, 2, 3, 5])
        #expect(replay.problems.map(\.refusesStart) == [true, false, true, true, false])
        #expect(replay.registry.bindingCount == 2)
        #expect(try directory.read(Store.journalName) == journal)
        #expect(try directory.read(Store.ledgerName) == ledger)
        #expect(try directory.names() == [Store.journalName, Store.ledgerName].sorted())
    }

    @Test func corruptJournalLineRefusesToOpen() throws {
        let directory = try TemporaryDirectory()
        try directory.write(Store.journalName, #"{"op":"unknown","serialNo":"s"}"# + "\n")
        try directory.write(Store.ledgerName, "")
        #expect {
            try openStore(directory: directory.path, now: t0)
        } throws: { error in
            "\(error)".contains(Store.journalName) && "\(error)".contains("line 1")
                && "\(error)".contains("unknown op")
        }
    }
}

@Suite struct JournalCompactionTests {
    func request(_ index: Int) -> PendingRequest {
        PendingRequest(
            serialNo: "s-\(index)", userId: "u-\(index)", token: "t-\(index)",
            callbackUrl: "https://m.example/cb/t-\(index)",
            createdAt: 1_000, expiresAt: 9_000_000_000_000)
    }

    @Test func compactedJournalReplaysTheSamePendingSet() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state")
        do {
            let (store, _) = try openStore(directory: path, now: 2_000)
            for index in 0..<100 { try store.append(.pending(request(index))) }
            try store.appendDurably(
                Binding(
                    serialNo: "s-3", userId: "u-3", openId: "o-3", merchantId: "m", businessId: "b",
                    boundAt: 3_000))
            let before = store.journal.length
            try store.compactJournal { (10..<100).filter { $0 != 3 }.map(request) }
            #expect(store.journal.length < before)
            try store.append(.pending(request(100)))
        }
        let (_, replayed) = try openStore(directory: path, now: 2_000)
        let registry = replayed.registry
        #expect(registry.openCount == 91)  // 10..<100 and 100
        #expect(registry.status(serialNo: "s-5", now: 2_000) == nil)
        #expect(registry.status(serialNo: "s-50", now: 2_000)?.state == .pending)
        #expect(registry.status(serialNo: "s-100", now: 2_000)?.state == .pending)
        #expect(registry.status(serialNo: "s-3", now: 2_000)?.state == .bound)
        let text = try String(contentsOfFile: path + "/pending.jsonl", encoding: .utf8)
        #expect(text.split(separator: "\n").count == 91)
        #expect(!FileManager.default.fileExists(atPath: path + "/pending.jsonl.tmp"))
    }

    /// As in the daemon, a request is reserved (visible to the snapshot) before its line is appended;
    /// compactions racing the appends must lose none of them.
    @Test func appendsRacingCompactionsAreNeverLost() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state")
        // NSLock rather than Mutex: ThreadSanitizer cannot see Mutex's futex and would report a race.
        let reserved = LockedList()
        do {
            let (store, _) = try openStore(directory: path, now: 2_000)
            let group = DispatchGroup()
            for index in 0..<300 {
                DispatchQueue.global().async(group: group) {
                    reserved.append(index)
                    try? store.append(.pending(self.request(index)))
                }
                if index % 60 == 0 {
                    try store.compactJournal { reserved.values.map(request) }
                }
            }
            group.wait()
        }
        let (_, replayed) = try openStore(directory: path, now: 2_000)
        for index in 0..<300 {
            #expect(
                replayed.registry.status(serialNo: "s-\(index)", now: 2_000)?.state == .pending,
                "s-\(index) lost")
        }
    }
}

final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int] = []
    func append(_ value: Int) { lock.withLock { storage.append(value) } }
    var values: [Int] { lock.withLock { storage } }

    @Test func aSecondStoreOnOneDirectoryIsRefusedNamingItAndTheHolder() throws {
        let directory = try TemporaryDirectory()
        do {
            let (store, _) = try Store.open(directory: directory.path, now: t0)
            // No lock file to delete: the lock is on the directory itself.
            #expect(!directory.exists("lock"))
            #expect {
                try Store.open(directory: directory.path, now: t0)
            } throws: { error in
                "\(error)".contains(
                    "\(directory.path) is in use by another openidd process (pid \(getpid()))")
            }
            withExtendedLifetime(store) {}
        }
        // Once the store is gone, the directory is free again.
        _ = try openStore(directory: directory.path, now: t0)
    }

    @Test func aDetachedLedgerKeepsTheStoreFailingWhateverTheJournalDoes() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try openStore(directory: directory.path, now: t0)
        try store.append(.pending(makeRequest()))
        try FileManager.default.removeItem(atPath: directory.file(Store.ledgerName))
        let done = DispatchSemaphore(value: 0)
        store.append(makeBinding()) { _ in done.signal() }
        #expect(done.wait(timeout: .now() + 10) == .success)
        try store.append(.pending(makeRequest(serialNo: "s-2")))
        guard case .detached(let file) = store.failure else {
            Issue.record("store.failure is \(String(describing: store.failure))")
            return
        }
        #expect(file.path == directory.file(Store.ledgerName))
    }

    /// The daemon creates both files when it first starts; a ledger removed while it was stopped took
    /// its bindings with it, so start-up refuses rather than begin empty.
    @Test func aLedgerRemovedWhileStoppedIsRefusedNamingIt() throws {
        let (removed, kept) = (Store.ledgerName, Store.journalName)
        let directory = try TemporaryDirectory()
        do {
            let (store, _) = try openStore(directory: directory.path, now: t0)
            try store.appendDurably(makeBinding(serialNo: "s-1", userId: "u-1", openId: "o-1"))
        }
        #expect(unlink(directory.file(removed)) == 0)
        let keptBefore = try directory.read(kept)
        #expect {
            try openStore(directory: directory.path, now: t0)
        } throws: { error in
            "\(error)".contains("\(directory.file(removed)) is missing, but \(directory.file(kept))")
                && "\(error)".contains("Nothing was changed")
        }
        #expect(try directory.names() == [kept], "nothing recreated")
        #expect(try directory.read(kept) == keptBefore)
        let replay = try StorageReplay.read(directory: directory.path, now: t0)
        #expect(replay.problems.map(\.path) == [directory.file(removed)])
    }

    /// A ledger restored from a backup onto a new machine comes without a journal: it opens.
    @Test func aLedgerWithoutAJournalOpens() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            Store.ledgerName,
            text(LedgerLine.encode(makeBinding(serialNo: "s-1", userId: "u-1", openId: "o-1"))))
        let (_, replayed) = try openStore(directory: directory.path, now: t0)
        #expect(replayed.registry.bindingCount == 1)
    }

    @Test(arguments: [Store.ledgerName, Store.journalName])
    func aSymlinkedFileIsRefusedBeforeAnythingIsWritten(name: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write("outside", "")
        #expect(symlink(directory.file("outside"), directory.file(name)) == 0)
        #expect {
            try openStore(directory: directory.path, now: t0)
        } throws: { error in
            "\(error)".contains("\(directory.file(name)) is a symbolic link")
        }
        #expect(try directory.read("outside") == "")
    }
}
