import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's stderr: a timestamp on every line for a terminal or a file, none under journald (which
/// stamps lines itself), recognised as systemd.exec(5) says, by `JOURNAL_STREAM`'s device:inode.
@Suite struct LogFormatTests {
    static var stamped: Regex<Substring> { #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z <[0-7]>\S/# }

    func logLines(journalStream: (DaemonUnderTest) -> String?) throws -> [String] {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        _ = FileManager.default.createFile(atPath: daemon.logPath, contents: nil)
        if let stream = journalStream(daemon) { daemon.environment["JOURNAL_STREAM"] = stream }
        try daemon.start()
        #expect(daemon.stop() == 0)
        let lines = daemon.rawLog.split(separator: "\n").map(String.init)
        try #require(lines.count >= 2, "\(daemon.rawLog)")
        return lines
    }

    @Test func linesStartWithATimestampWhenStderrIsNotTheJournal() throws {
        // A JOURNAL_STREAM inherited from elsewhere (this test run's own, say) names another file.
        for stream in [nil, "0:0"] as [String?] {
            for line in try logLines(journalStream: { _ in stream }) {
                #expect(line.firstMatch(of: Self.stamped) != nil, "\(line)")
            }
        }
    }

    @Test func linesStartWithThePriorityUnderTheJournal() throws {
        let lines = try logLines { daemon in
            var info = stat()
            guard stat(daemon.logPath, &info) == 0 else { return nil }
            return "\(info.st_dev):\(info.st_ino)"
        }
        for line in lines {
            #expect(line.firstMatch(of: #/^<[0-7]>\S/#) != nil, "\(line)")
        }
    }
}
