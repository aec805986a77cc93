import Foundation
import POSIX
import Synchronization
import Testing

@testable import Ledger

@Suite struct AppendLogTests {
    @Test func createsTheFileAndAppendsWholeLinesInOrder() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        #expect(directory.exists("log"))
        #expect(try directory.read("log") == "")
        try log.append(Array("one\n".utf8))
        #expect(try directory.read("log") == "one\n", "durable, hence visible, when append returns")
        try log.append(Array("two\n".utf8))
        try log.append(Array("three\n".utf8))
        #expect(try directory.read("log") == "one\ntwo\nthree\n")
        #expect(log.syncCount == 3, "alone, each append pays one sync")
        #expect(log.failure == nil)
        #expect(log.path == directory.file("log"))
    }

    @Test func aSyncThatFailsIsNeitherCountedNorTimed() throws {
        // /dev/null takes the write, and fdatasync on it fails (EINVAL): the sync did not happen.
        let observed = Mutex(0)
        let log = try AppendLog(path: "/dev/null", durableLength: 0) { _, _ in
            observed.withLock { $0 += 1 }
        }
        #expect {
            try log.append(Array("one\n".utf8))
        } throws: { error in
            guard case .systemCall(let failure) = error as? AppendFailure else { return false }
            return failure.call == "fdatasync"
        }
        #expect(log.syncCount == 0, "only syncs that completed are counted")
        #expect(observed.withLock { $0 } == 0, "only syncs that completed are timed")
    }

    @Test func newFileIsPrivate() throws {
        let directory = try TemporaryDirectory()
        _ = try AppendLog(path: directory.file("log"), durableLength: 0)
        #expect(try FileSystem.permissions(directory.file("log")) == 0o600)
    }

    @Test func openInAMissingDirectoryThrowsNamingThePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("missing/log")
        #expect {
            try AppendLog(path: path, durableLength: 0)
        } throws: { error in
            (error as? SystemCallError)?.errno == ENOENT && "\(error)".contains(path)
        }
    }

    @Test func reopenContinuesAtDurableLength() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log", "one\n")
        let log = try AppendLog(path: directory.file("log"), durableLength: 4)
        try log.append(Array("two\n".utf8))
        #expect(try directory.read("log") == "one\ntwo\n")
    }

    @Test func reopenOverwritesGarbageBeyondDurableLength() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log", "one\nGARBAGE-LONGER-THAN-THE-NEXT-LINE")
        let log = try AppendLog(path: directory.file("log"), durableLength: 4)
        try log.append(Array("two\n".utf8))
        #expect(try directory.read("log") == "one\ntwo\n")
        try log.append(Array("three\n".utf8))
        #expect(try directory.read("log") == "one\ntwo\nthree\n")
    }

    @Test func concurrentAppendsAreGroupCommitted() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        let threads = 32
        let linesPerThread = 50
        let errors = Mutex<[String]>([])
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for line in 0..<linesPerThread {
                    do {
                        try log.append(Array("t\(thread)-\(line)\n".utf8))
                    } catch {
                        errors.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        group.wait()
        #expect(errors.withLock { $0 }.isEmpty)

        let lines = try directory.read("log").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "", "the file ends with a newline")
        let written = lines.dropLast().map(String.init)
        #expect(written.count == threads * linesPerThread)
        #expect(Set(written).count == written.count, "no line twice")
        #expect(
            Set(written) == Set((0..<threads).flatMap { t in (0..<linesPerThread).map { "t\(t)-\($0)" } }))
        // Each thread waited for its line before writing the next, so its lines are in order.
        for thread in 0..<threads {
            let mine = written.filter { $0.hasPrefix("t\(thread)-") }
            #expect(mine == (0..<linesPerThread).map { "t\(thread)-\($0)" })
        }
        #expect(log.syncCount >= 1)
        #expect(log.syncCount < UInt64(threads * linesPerThread), "one sync covered several appends")
    }

    @Test func anAsynchronousAppendCompletesOnlyOnceItsLineIsInTheFile() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        let seen = Mutex<[String]>([])
        let group = DispatchGroup()
        let path = directory.file("log")
        for line in ["one\n", "two\n", "three\n"] {
            group.enter()
            log.append(Array(line.utf8)) { error in
                let contents = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                seen.withLock { $0.append("\(error == nil) \(contents.contains(line))") }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 10) == .success)
        #expect(seen.withLock { $0 } == ["true true", "true true", "true true"])
        #expect(try directory.read("log") == "one\ntwo\nthree\n", "in the order appended")
        #expect(log.failure == nil)
    }

    @Test func completionsRunInsideTheOwnersScopeOncePerBatch() throws {
        let directory = try TemporaryDirectory()
        let state = Mutex<(inScope: Bool, scopes: Int, seenInScope: [Bool])>((false, 0, []))
        let log = try AppendLog(
            path: directory.file("log"), durableLength: 0,
            completionScope: { _, runCompletions in
                state.withLock {
                    $0.inScope = true
                    $0.scopes += 1
                }
                runCompletions()
                state.withLock { $0.inScope = false }
            })
        let group = DispatchGroup()
        let count = 200
        for index in 0..<count {
            group.enter()
            log.append(Array("line \(index)\n".utf8)) { _ in
                state.withLock { $0.seenInScope.append($0.inScope) }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 10) == .success)
        let final = state.withLock { $0 }
        #expect(final.seenInScope.count == count)
        #expect(final.seenInScope.allSatisfy { $0 }, "every completion ran inside the scope")
        #expect(final.scopes >= 1 && final.scopes <= count)
        #expect(UInt64(final.scopes) == log.syncCount, "one scope per synced batch")
    }

    @Test func asynchronousAppendsFromManyThreadsShareSyncsAndMixWithSynchronousOnes() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        let failures = Mutex<Int>(0)
        let group = DispatchGroup()
        let threads = 4
        let perThread = 500
        for thread in 0..<threads {
            Thread.detachNewThread {
                for line in 0..<perThread {
                    group.enter()
                    log.append(Array("a\(thread)-\(line)\n".utf8)) { error in
                        if error != nil { failures.withLock { $0 += 1 } }
                        group.leave()
                    }
                }
            }
        }
        // Meanwhile a caller that blocks.
        for line in 0..<20 { try log.append(Array("s-\(line)\n".utf8)) }
        usleep(100_000)
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(failures.withLock { $0 } == 0)
        let written = try directory.read("log").split(separator: "\n").map(String.init)
        #expect(written.count == threads * perThread + 20)
        #expect(Set(written).count == written.count)
        for thread in 0..<threads {
            #expect(
                written.filter { $0.hasPrefix("a\(thread)-") } == (0..<perThread).map { "a\(thread)-\($0)" })
        }
        #expect(written.filter { $0.hasPrefix("s-") } == (0..<20).map { "s-\($0)" })
        #expect(log.syncCount < UInt64(threads * perThread), "one sync covered several appends")
    }

    @Test func aFailingDiskFailsTheAsynchronousBatchAndSaysWhy() throws {
        // /dev/full answers every write with ENOSPC: a disk that is full, for real.
        let log = try AppendLog(path: "/dev/full", durableLength: 0)
        let result = Mutex<AppendFailure?>(nil)
        let done = DispatchSemaphore(value: 0)
        log.append(Array("line\n".utf8)) { error in
            result.withLock { $0 = error }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(result.withLock { $0 }?.errno == ENOSPC)
        #expect(log.failure?.errno == ENOSPC)
        #expect(log.length == 0)
        // The synchronous path reports the same disk the same way.
        #expect(throws: AppendFailure.self) { try log.append(Array("again\n".utf8)) }
    }

    /// The scope is told each batch's result, the one its completions get (the store records its
    /// health from it, once per batch).
    @Test func theScopeIsToldTheBatchsResult() throws {
        let directory = try TemporaryDirectory()
        for (path, expected) in [(directory.file("log"), Int32(0)), ("/dev/full", ENOSPC)] {
            let told = Mutex<[Int32]>([])
            let log = try AppendLog(
                path: path, durableLength: 0,
                completionScope: { result, runCompletions in
                    told.withLock { $0.append(result?.errno ?? 0) }
                    runCompletions()
                })
            let done = DispatchSemaphore(value: 0)
            let got = Mutex<Int32?>(nil)
            log.append(Array("line\n".utf8)) { error in
                got.withLock { $0 = error?.errno ?? 0 }
                done.signal()
            }
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(told.withLock { $0 } == [expected], "\(path)")
            #expect(got.withLock { $0 } == expected, "\(path)")
        }
    }

    /// A synchronous append that finds no sync running flushes the queued asynchronous lines itself,
    /// and runs their completions: inside the owner's scope as well, on its own thread.
    @Test func completionsRunInTheScopeWhicheverThreadFlushesThem() throws {
        let directory = try TemporaryDirectory()
        let scopes = Mutex<[pthread_t: Int]>([:])
        let outside = Mutex<Int>(0)
        let log = try AppendLog(
            path: directory.file("log"), durableLength: 0,
            completionScope: { _, runCompletions in
                let me = pthread_self()
                scopes.withLock { $0[me, default: 0] += 1 }
                runCompletions()
                scopes.withLock { $0[me]! -= 1 }
            })
        let group = DispatchGroup()
        let rounds = 300
        for index in 0..<rounds {
            group.enter()
            log.append(Array("a-\(index)\n".utf8)) { _ in
                if scopes.withLock({ ($0[pthread_self()] ?? 0) == 0 }) { outside.withLock { $0 += 1 } }
                group.leave()
            }
            // Right behind it, before the flusher thread gets to it, now and then.
            if index % 3 == 0 { try log.append(Array("s-\(index)\n".utf8)) }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(outside.withLock { $0 } == 0)
    }

    @Test func theObserverHearsOfEachBatchItsLinesAndSyncTime() throws {
        let directory = try TemporaryDirectory()
        let batches = Mutex<[(lines: Int, seconds: Double)]>([])
        let log = try AppendLog(path: directory.file("log"), durableLength: 0) { lines, seconds in
            batches.withLock { $0.append((lines, seconds)) }
        }
        try log.append(Array("one\n".utf8))
        try log.append(Array("two\n".utf8))
        let seen = batches.withLock { $0 }
        #expect(seen.map(\.lines) == [1, 1])
        #expect(seen.allSatisfy { $0.seconds > 0 && $0.seconds < 10 })

        // Many asynchronous appends: the batches' lines add up to what was written.
        let group = DispatchGroup()
        for line in 0..<200 {
            group.enter()
            log.append(Array("a-\(line)\n".utf8)) { _ in group.leave() }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        let all = batches.withLock { $0 }
        #expect(all.dropFirst(2).map(\.lines).reduce(0, +) == 200)
        #expect(UInt64(all.count) == log.syncCount)
    }

    @Test func aFailedBatchIsNotObserved() throws {
        let observed = Mutex<Int>(0)
        let log = try AppendLog(path: "/dev/full", durableLength: 0) { _, _ in observed.withLock { $0 += 1 } }
        #expect(throws: AppendFailure.self) { try log.append(Array("line\n".utf8)) }
        #expect(observed.withLock { $0 } == 0)
    }

    @Test func aDeletedFileFailsEveryLaterBatchAndIsNotRecreated() throws {
        let directory = try TemporaryDirectory()
        let told = Mutex<[DetachedFile]>([])
        let log = try AppendLog(
            path: directory.file("log"), durableLength: 0,
            onDetached: { file in told.withLock { $0.append(file) } })
        try log.append(Array("one\n".utf8))
        let inode = try #require(try FileSystem.linkStatus(directory.file("log"))).inode
        try FileManager.default.removeItem(atPath: directory.file("log"))

        #expect(throws: AppendFailure.self) { try log.append(Array("two\n".utf8)) }
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<AppendFailure?>(nil)
        log.append(Array("three\n".utf8)) { error in
            result.withLock { $0 = error }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        let file = try #require(log.detachedFile)
        #expect(result.withLock { $0 } == .detached(file))
        #expect(log.failure == .detached(file))
        #expect(file.change == .deleted && file.inode == inode && file.length == 4)
        #expect(told.withLock { $0 } == [file], "told once")
        #expect(!directory.exists("log"))
        // The old inode holds exactly the acknowledged line, readable where the description says.
        #expect(try String(contentsOfFile: file.openFile, encoding: .utf8) == "one\n")
        #expect("\(file)".contains(directory.file("log")) && "\(file)".contains("deleted"))
        #expect("\(file)".contains("inode \(inode)") && "\(file)".contains(file.openFile))
    }

    @Test func aFileRenamedOverTheLogIsLeftAsItIs() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        try log.append(Array("one\n".utf8))
        try directory.write("edit", "edited\n")
        #expect(rename(directory.file("edit"), directory.file("log")) == 0)

        #expect(throws: AppendFailure.self) { try log.append(Array("two\n".utf8)) }
        #expect(log.detachedFile?.change == .replaced)
        #expect(try directory.read("log") == "edited\n")
        #expect(log.length == 4)
    }

    @Test func aDetachedLogIsNotRewritten() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        try log.append(Array("one\n".utf8))
        try FileManager.default.removeItem(atPath: directory.file("log"))
        #expect(throws: AppendFailure.self) { try log.rewrite { Array("compacted\n".utf8) } }
        #expect(!directory.exists("log"))
        #expect(log.detachedFile?.change == .deleted)
    }

    @Test func ownRewritesAreNotMistakenForASwap() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        try log.append(Array("one\n".utf8))
        try log.rewrite { Array("kept\n".utf8) }
        try log.append(Array("two\n".utf8))
        #expect(try directory.read("log") == "kept\ntwo\n")
        #expect(log.detachedFile == nil)
    }

    @Test func aSymbolicLinkIsRefusedNamingIt() throws {
        let directory = try TemporaryDirectory()
        try directory.write("elsewhere", "")
        #expect(symlink(directory.file("elsewhere"), directory.file("log")) == 0)
        #expect {
            try AppendLog(path: directory.file("log"), durableLength: 0)
        } throws: { error in
            "\(error)".contains("\(directory.file("log")) is a symbolic link")
        }
    }

    @Test func failedAsynchronousBatchesLeaveNoFailureBehind() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        try FileManager.default.removeItem(atPath: directory.file("log"))
        for index in 0..<20 {
            let done = DispatchSemaphore(value: 0)
            log.append(Array("line \(index)\n".utf8)) { _ in done.signal() }
            try #require(done.wait(timeout: .now() + 10) == .success)
        }
        #expect(log.detachedFile?.change == .deleted)
        // Only a synchronous waiter reads a batch's failure; none waits on these batches.
        #expect(log.unreadFailureCount == 0)
    }

    @Test func aSymbolicLinkAtTheTemporaryPathIsNotFollowed() throws {
        let directory = try TemporaryDirectory()
        let outside = try TemporaryDirectory()
        try outside.write("target", "outside\n")
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        try log.append(Array("one\n".utf8))
        #expect(symlink(outside.file("target"), directory.file("log.tmp")) == 0)
        try log.rewrite { Array("kept\n".utf8) }
        try log.append(Array("two\n".utf8))
        #expect(try outside.read("target") == "outside\n")
        #expect(try directory.read("log") == "kept\ntwo\n")
        #expect(try directory.names() == ["log"])
    }

    /// A directory its owner may write but not read: creating and renaming files in it works, opening it
    /// for the fsync that makes the rename durable fails with EACCES. Until that fsync succeeds, the
    /// rename may not survive a crash, so no append is acknowledged; then appends go to the new file.
    @Test func aRewriteWhoseDirectorySyncFailsKeepsAppendingToTheNewFile() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        try log.append(Array("one\n".utf8))
        #expect(chmod(directory.path, 0o300) == 0)
        let rewriteError = Mutex<Error?>(nil)
        let appendError = Mutex<Error?>(nil)
        let done = DispatchSemaphore(value: 0)
        // Root passes permission checks by CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH; a thread of its own
        // drops them (capabilities are per thread on Linux) and exits with them dropped.
        let thread = Thread {
            dropFileAccessOverrides()
            do { try log.rewrite { Array("kept\n".utf8) } } catch { rewriteError.withLock { $0 = error } }
            do { try log.append(Array("lost\n".utf8)) } catch { appendError.withLock { $0 = error } }
            done.signal()
        }
        thread.start()
        try #require(done.wait(timeout: .now() + 10) == .success)
        #expect(chmod(directory.path, 0o700) == 0)
        let error = try #require(rewriteError.withLock { $0 })
        #expect((error as? SystemCallError)?.errno == EACCES, "\(error)")
        let refused = try #require(appendError.withLock { $0 }, "an append before the directory's fsync")
        guard case .systemCall(let failure) = refused as? AppendFailure else {
            Issue.record("\(refused)")
            return
        }
        #expect(failure.errno == EACCES, "\(failure)")

        try log.append(Array("two\n".utf8))
        #expect(log.detachedFile == nil)
        #expect(try directory.read("log") == "kept\ntwo\n")
    }
}

/// Clears CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the calling thread's effective capabilities
/// (capget(2), capset(2); glibc exports both without declaring them).
private func dropFileAccessOverrides() {
    struct Header {
        var version: UInt32 = 0x2008_0522  // _LINUX_CAPABILITY_VERSION_3
        var pid: Int32 = 0
    }
    struct Data {
        var effective: UInt32 = 0
        var permitted: UInt32 = 0
        var inheritable: UInt32 = 0
    }
    typealias Call = @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
    let capget = unsafeBitCast(dlsym(nil, "capget"), to: Call.self)
    let capset = unsafeBitCast(dlsym(nil, "capset"), to: Call.self)
    var header = Header()
    var data = (Data(), Data())
    precondition(capget(&header, &data) == 0)
    data.0.effective &= ~UInt32((1 << 1) | (1 << 2))  // CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    precondition(capset(&header, &data) == 0)
}
