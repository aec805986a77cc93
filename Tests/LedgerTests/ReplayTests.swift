import Ledger
import Testing

/// Replays `name` in `directory` as start-up does (refuse on a problem, else repair a torn tail),
/// collecting each line and its number.
private func replay(_ directory: TemporaryDirectory, _ name: String = "log.jsonl", failOn: String? = nil)
    throws -> (
        (durableLength: Int, tornTailSavedAt: String?), [(String, Int)]
    )
{
    var lines: [(String, Int)] = []
    let reading = try LineFile.read(path: directory.file(name)) { line, number in
        let text = String(decoding: line, as: UTF8.self)
        if text == failOn { throw ReplayTestError.unparsable }
        lines.append((text, number))
    }
    if let refusal = LineFile.refusal(reading.problems) { throw refusal }
    let savedAt = try LineFile.repairTornTail(reading, savingAt: directory.file(name + ".torn"))
    return ((reading.durableLength, savedAt), lines)
}

private enum ReplayTestError: Error { case unparsable }

@Suite struct LineFileReplayTests {
    @Test func missingFile() throws {
        let directory = try TemporaryDirectory()
        var evaluated = false
        let reading = try LineFile.read(path: directory.file("none")) { _, _ in
            Issue.record("no lines expected")
        }
        let savedAt = try LineFile.repairTornTail(
            reading,
            savingAt: {
                evaluated = true
                return directory.file("t")
            }())
        #expect(reading.durableLength == 0)
        #expect(savedAt == nil)
        #expect(!evaluated)
        #expect(!directory.exists("none"), "replay does not create the file")
    }

    @Test func emptyFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "")
        let (result, lines) = try replay(directory)
        #expect(result.durableLength == 0)
        #expect(result.tornTailSavedAt == nil)
        #expect(lines.isEmpty)
    }

    @Test func completeLines() throws {
        let directory = try TemporaryDirectory()
        let content = "one\ntwo\n\nfour 验\n"
        try directory.write("log.jsonl", content)
        let (result, lines) = try replay(directory)
        #expect(lines.map(\.0) == ["one", "two", "four 验"])
        #expect(lines.map(\.1) == [1, 2, 4], "empty lines are skipped but counted")
        #expect(result.durableLength == content.utf8.count)
        #expect(result.tornTailSavedAt == nil)
        #expect(try directory.read("log.jsonl") == content)
        #expect(!directory.exists("log.jsonl.torn"))
    }

    @Test func tornLastLineIsSavedAsideAndCutOff() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "one\ntwo\n{\"serialNo\":\"s-")
        let (result, lines) = try replay(directory)
        #expect(lines.map(\.0) == ["one", "two"], "the torn tail is never handed to the parser")
        #expect(result.durableLength == 8)
        #expect(result.tornTailSavedAt == directory.file("log.jsonl.torn"))
        #expect(try directory.read("log.jsonl.torn") == "{\"serialNo\":\"s-")
        #expect(try directory.read("log.jsonl") == "one\ntwo\n")
        #expect(try directory.names() == ["log.jsonl", "log.jsonl.torn"], "no temporary file left behind")
    }

    @Test func fileWithOnlyATornLine() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "partial")
        let (result, lines) = try replay(directory)
        #expect(lines.isEmpty)
        #expect(result.durableLength == 0)
        #expect(try directory.read("log.jsonl") == "")
        #expect(try directory.read("log.jsonl.torn") == "partial")
    }

    @Test func corruptMiddleLineStopsWithPathAndLineNumber() throws {
        let directory = try TemporaryDirectory()
        let content = "one\ntwo\nBAD\nfour\ntorn"
        try directory.write("log.jsonl", content)
        #expect {
            try replay(directory, failOn: "BAD")
        } throws: { error in
            let description = "\(error)"
            return error is LedgerError && description.contains(directory.file("log.jsonl"))
                && description.contains("line 3")
        }
        #expect(try directory.read("log.jsonl") == content, "the file is untouched, torn tail included")
        #expect(!directory.exists("log.jsonl.torn"))
    }

    @Test func corruptFirstLine() throws {
        let directory = try TemporaryDirectory()
        try directory.write("log.jsonl", "BAD\n")
        #expect {
            try replay(directory, failOn: "BAD")
        } throws: { error in
            "\(error)".contains("line 1")
        }
    }
}
