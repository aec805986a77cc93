import Foundation
import Ledger
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Reads `name` with `LineReader`, collecting each line and its number.
private func read(_ directory: TemporaryDirectory, _ name: String = "log.jsonl", bufferSize: Int = 1 << 20)
    throws -> [(String, Int)]
{
    var lines: [(String, Int)] = []
    try LineReader.readCompleteLines(of: directory.file(name), bufferSize: bufferSize) { line, number in
        lines.append((String(decoding: line, as: UTF8.self), number))
    }
    return lines
}

private struct Stop: Error {}

@Suite struct LineReaderTests {
    @Test func completeLinesWithTheirNumbersEmptyOnesSkipped() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "one\ntwo\n\nfour 验\n")
        let lines = try read(directory)
        #expect(lines.map(\.0) == ["one", "two", "four 验"])
        #expect(lines.map(\.1) == [1, 2, 4])
    }

    @Test func tornTailIsSkippedAndTheFileLeftAsItWas() throws {
        let directory = try TemporaryDirectory()
        let content = "one\ntwo\n{\"complete\":\"json\"}"
        try directory.write("log.jsonl", content)
        #expect(try read(directory).map(\.0) == ["one", "two"])
        #expect(try directory.read("log.jsonl") == content, "a reader never repairs the file")
        #expect(try directory.names() == ["log.jsonl"], "nor saves the tail aside")
    }

    @Test func emptyFileAndOnlyATornLine() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "")
        #expect(try read(directory).isEmpty)
        try directory.write("log.jsonl", "partial")
        #expect(try read(directory).isEmpty)
    }

    /// Every buffer size from one byte up gives the same lines: lines split across reads are joined.
    @Test func everyBufferSizeReadsTheSameLines() throws {
        let directory = try TemporaryDirectory()
        let content = "a\nbb\n\nccc\ndddd\nee\ntorn"
        try directory.write("log.jsonl", content)
        for size in 5...content.utf8.count + 1 {  // "dddd\n" is the longest line
            let lines = try read(directory, bufferSize: size)
            #expect(lines.map(\.0) == ["a", "bb", "ccc", "dddd", "ee"], "buffer \(size)")
            #expect(lines.map(\.1) == [1, 2, 4, 5, 6], "buffer \(size)")
        }
    }

    @Test func aCompleteLineLongerThanTheBufferIsAnErrorNamingFileAndLine() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "ok\n" + String(repeating: "x", count: 40) + "\nlater\n")
        var seen: [String] = []
        #expect {
            try LineReader.readCompleteLines(of: directory.file("log.jsonl"), bufferSize: 16) { line, _ in
                seen.append(String(decoding: line, as: UTF8.self))
            }
        } throws: { error in
            "\(error)" == "\(directory.file("log.jsonl")):2: line is longer than 15 bytes"
        }
        #expect(seen == ["ok"])
    }

    @Test func aTornTailLongerThanTheBufferIsSkipped() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "ok\n" + String(repeating: "x", count: 40))
        #expect(try read(directory, bufferSize: 16).map(\.0) == ["ok"])
    }

    @Test func onlyWhatWasThereWhenReadingStartedIsRead() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "one\ntwo\n")
        let appender = try FileDescriptor.open(directory.file("log.jsonl"), O_WRONLY | O_APPEND)
        defer { appender.close() }
        var lines: [String] = []
        try LineReader.readCompleteLines(of: directory.file("log.jsonl"), bufferSize: 4) { line, _ in
            if lines.isEmpty { try appender.writeAll(Array("three\n".utf8)) }
            lines.append(String(decoding: line, as: UTF8.self))
        }
        #expect(lines == ["one", "two"])
    }

    @Test func errorsFromTheCallerPassThroughUnchanged() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "one\ntwo\n")
        var count = 0
        #expect(throws: Stop.self) {
            try LineReader.readCompleteLines(of: directory.file("log.jsonl")) { _, _ in
                count += 1
                throw Stop()
            }
        }
        #expect(count == 1)
    }

    @Test func aMissingFileIsENOENTNamingThePath() throws {
        let directory = try TemporaryDirectory()
        #expect {
            try read(directory, "none")
        } throws: { error in
            let error = error as? SystemCallError
            return error?.errno == ENOENT && error?.subject == directory.file("none")
        }
        #expect(!directory.exists("none"))
    }
}
