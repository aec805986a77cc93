import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's system calls as `strace` sees them: every acknowledgement follows the `fdatasync` of
/// the line it acknowledges. Counters and histograms cannot show this; a sync left out shows here.
@Suite struct SyncOrderTests {
    static let strace = ["/usr/bin/strace", "/bin/strace"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// A missing strace fails the test (issue 21): a skipped check reads as a passed one.
    @Test func eachAnswerIsSentOnlyAfterItsLineWasWrittenAndSynced() throws {
        let strace = try #require(SyncOrderTests.strace, "strace is missing: scripts/setup installs it")
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        let tracePath = directory.path + "/strace.txt"
        daemon.launcher = [
            strace, "-f", "-yy", "-s", "4096", "-o", tracePath, "-e",
            "trace=write,pwrite64,pwritev,pwritev2,writev,fdatasync,fsync,sync_file_range,send,sendto,sendmsg",
        ]
        try daemon.start(readyWithinSeconds: 60)
        defer { daemon.stopTraced() }

        var serialNos: [String] = []
        for index in 0..<6 {
            let issued = try daemon.issue(userId: "u-\(index)")
            let answer = try daemon.callback(
                token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "oid-\(index)"))
            #expect(answer.text == "SUCCESS")
            serialNos.append(issued.serialNo)
        }
        daemon.stopTraced()

        let trace = try StraceLog(path: tracePath)
        // The callbacks were sent one at a time, so the n-th SUCCESS sent on a TCP socket answers the n-th.
        let successes = trace.calls.filter {
            $0.isSend && $0.descriptor.hasPrefix("TCP:") && $0.arguments.contains("SUCCESS")
        }
        #expect(successes.count == serialNos.count, "\(successes.map(\.line))")
        for (serialNo, answer) in zip(serialNos, successes) {
            // The auth link's 200, with its serialNo, on the IPC socket.
            let linkAnswer = try #require(
                trace.calls.first {
                    $0.isSend && $0.descriptor.hasPrefix("UNIX") && $0.arguments.contains(serialNo)
                }, "no auth-url answer for \(serialNo)")
            trace.expectWrittenAndSynced(
                serialNo, file: "/state/pending.jsonl", before: linkAnswer, what: "auth link")
            trace.expectWrittenAndSynced(
                serialNo, file: "/state/bindings.jsonl", before: answer, what: "callback")
        }
    }
}

extension DaemonUnderTest {
    /// Stops a daemon started under `strace`: the daemon is strace's child, and strace exits after it.
    func stopTraced() {
        guard let process, process.isRunning else { return }
        let children =
            (try? String(
                contentsOfFile:
                    "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children",
                encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ pid_t($0) }) { kill(child, SIGTERM) }
        process.waitUntilExit()
    }
}

/// An `strace -f -yy -o FILE` log, in the order strace saw the calls.
struct StraceLog {
    struct Call {
        /// Position in the log of the call's entry, and of its return.
        let started: Int
        var returned: Int?
        let name: String
        /// The first argument's descriptor as `-yy` decodes it (path, or socket with addresses).
        let descriptor: String
        let arguments: String
        var result: String?
        let line: String

        var isSend: Bool { ["write", "writev", "send", "sendto", "sendmsg"].contains(name) }
    }

    var calls: [Call] = []

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var unfinished: [Substring: Int] = [:]  // pid → index in `calls`
        for (position, line) in text.split(separator: "\n").enumerated() {
            guard let space = line.firstIndex(of: " ") else { continue }
            let pid = line[..<space]
            let rest = line[space...].drop { $0 == " " }
            if rest.hasPrefix("<... ") {
                // `<... fdatasync resumed>) = 0`
                guard let index = unfinished.removeValue(forKey: pid) else { continue }
                calls[index].returned = position
                calls[index].result = Self.result(of: rest)
                continue
            }
            guard let open = rest.firstIndex(of: "(") else { continue }
            let name = String(rest[..<open])
            let arguments = String(rest[rest.index(after: open)...])
            var descriptor = ""
            if let start = arguments.firstIndex(of: "<"), let end = arguments.firstIndex(of: ">"),
                start < end,
                arguments[..<start].allSatisfy(\.isNumber)
            {
                descriptor = String(arguments[arguments.index(after: start)..<end])
            }
            var call = Call(
                started: position, returned: nil, name: name, descriptor: descriptor, arguments: arguments,
                result: nil, line: String(line))
            if rest.hasSuffix("<unfinished ...>") {
                unfinished[pid] = calls.count
            } else {
                call.returned = position
                call.result = Self.result(of: rest)
            }
            calls.append(call)
        }
    }

    private static func result(of text: Substring) -> String? {
        guard let equals = text.range(of: ") = ", options: .backwards) else { return nil }
        return String(text[equals.upperBound...].prefix { $0 != " " })
    }

    /// The line naming `serialNo` was written to `file`, and a sync of that descriptor returned 0, both
    /// before `answer` was sent.
    func expectWrittenAndSynced(
        _ serialNo: String, file: String, before answer: Call, what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let write = calls.first {
            $0.descriptor.hasSuffix(file) && $0.name.hasPrefix("pwrite") && $0.arguments.contains(serialNo)
        }
        guard let write, let written = write.returned, written < answer.started else {
            Issue.record(
                "\(what) \(serialNo): no write of its line to \(file) before its answer",
                sourceLocation: sourceLocation)
            return
        }
        let synced = calls.contains {
            ($0.name == "fdatasync" || $0.name == "fsync") && $0.descriptor == write.descriptor
                && $0.started > written && $0.result == "0" && ($0.returned ?? .max) < answer.started
        }
        #expect(
            synced,
            "\(what) \(serialNo): its line was written to \(file) but no fdatasync of it returned before the answer was sent",
            sourceLocation: sourceLocation)
    }
}
