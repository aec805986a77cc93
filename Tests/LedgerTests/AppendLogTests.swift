import Foundation
import Ledger
import POSIX
import Synchronization
import Testing

@Suite struct AppendLogTests {
    @Test func createsTheFileAndAppendsWholeLinesInOrder() throws {
        let directory = try TemporaryDirectory()
        let log = try AppendLog(path: directory.file("log"), durableLength: 0)
        #expect(directory.exists("log"))
        #expect(try directory.read("log") == "")
        try log.append(Array("one\n".utf8))
        #expect(try directory.read("log") == "one\n", "durable, hence visible, when append returns")
        try log.append(Array("two\nthree\n".utf8))
        try log.append(Array("four\n".utf8))
        #expect(try directory.read("log") == "one\ntwo\nthree\nfour\n")
        #expect(log.syncCount == 3, "alone, each append pays one sync")
        #expect(log.failure == nil)
        #expect(log.path == directory.file("log"))
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
}
