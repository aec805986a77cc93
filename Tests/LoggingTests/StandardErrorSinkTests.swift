import Logging
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Lines to a terminal or a file carry the time; lines to journald do not (it stamps them itself).
@Suite struct StandardErrorSinkTests {
    static var stamped: Regex<Substring> { #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z <6>/# }

    @Test func aTimestampedLineStartsWithTheUTCTimeInMilliseconds() throws {
        let pipe = try LogBatchTests.Pipe()
        let logger = Logger(level: .info, sink: StandardErrorSink(descriptor: pipe.write, timestamped: true))
        logger.info("alone", [("k", "v")])
        LogBatch.collect {
            logger.info("batched")
            logger.warning("at once")
        }
        let lines = pipe.drain().split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines)")
        #expect(
            lines[0].firstMatch(of: Self.stamped) != nil && lines[0].hasSuffix(" <6>alone k=v"), "\(lines)")
        #expect(lines[1].firstMatch(of: Self.stamped) != nil && lines[1].hasSuffix(" <6>batched"), "\(lines)")
        #expect(lines[2].hasSuffix("Z <4>at once"), "\(lines)")
    }

    @Test func anUnstampedLineStartsWithItsPriority() throws {
        let pipe = try LogBatchTests.Pipe()
        let logger = Logger(level: .info, sink: StandardErrorSink(descriptor: pipe.write, timestamped: false))
        logger.info("alone")
        LogBatch.collect { logger.info("batched") }
        #expect(pipe.drain() == "<6>alone\n<6>batched\n")
    }

    @Test(arguments: [
        ("2049:1234", true), ("2049:1235", false), ("2048:1234", false), ("", false), ("2049", false),
        ("x:1234", false), ("2049:1234:5", false),
    ])
    func theJournalIsRecognisedByDeviceAndInode(stream: String, matches: Bool) {
        let file = FileStatus(device: 2049, inode: 1234)
        #expect(JournalStream.isConnected(file, journalStream: stream) == matches)
        #expect(!JournalStream.isConnected(file, journalStream: nil))
    }
}
