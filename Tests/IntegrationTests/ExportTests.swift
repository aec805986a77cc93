import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The peak resident memory of a running process since its exec (VmHWM), in bytes.
///
/// Not the child's ru_maxrss: at exec the kernel folds the peak of the memory being replaced into it,
/// and posix_spawn's child still shares the test runner's memory then, so with the whole suite
/// running it reported the runner's 90 MB rather than openidctl's own peak.
private func peakResidentBytes(of pid: pid_t) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kilobytes = Int(
            line.dropFirst("VmHWM:".count).dropLast(" kB".count).trimmingCharacters(in: .whitespaces))
    else { return nil }
    return kilobytes * 1024
}

/// glibc's pipe2(2), which Swift's Glibc module does not export (it needs _GNU_SOURCE).
@_silgen_name("pipe2")
private func glibcPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// A storage directory holding `ledger` as its bindings.jsonl.
private func storage(_ ledger: String) -> TemporaryDirectory {
    let directory = TemporaryDirectory()
    _ = directory.write("bindings.jsonl", ledger)
    return directory
}

private func export(_ arguments: [String], environment: [String: String]? = nil) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    try run(Binaries.openidctl, ["export"] + arguments, environment: environment)
}

/// Runs openidctl with its standard output on a pipe that `readOutput` reads (and may stop reading),
/// given the pipe and the child's pid; then reaps it.
private func spawnOpenidctl(_ arguments: [String], readOutput: (Int32, pid_t) -> Void) throws -> (
    status: Int32, stderr: String
) {
    var pipeEnds: [Int32] = [0, 0]
    // O_CLOEXEC: children other tests start meanwhile must not hold the write end open.
    guard glibcPipe2(&pipeEnds, O_CLOEXEC) == 0 else { throw TestFailure("pipe2 failed") }
    let directory = TemporaryDirectory()
    let stderrPath = directory.path + "/stderr"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv = ([Binaries.openidctl] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, Binaries.openidctl, &actions, nil, argv, environ)
    close(pipeEnds[1])
    guard spawned == 0 else {
        close(pipeEnds[0])
        throw TestFailure("posix_spawn: \(spawned)")
    }
    readOutput(pipeEnds[0], pid)
    close(pipeEnds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    return (exitStatus, stderr)
}

@Suite struct ExportTests {
    static let lines = [
        ledgerLine("s-1", userId: "alice", openId: "o-a", boundAt: "2026-11-26T07:59:59.999Z"),
        ledgerLine("s-2", userId: "bob", openId: "o-b", boundAt: "2026-11-26T08:00:00.000Z"),
        ledgerLine("s-3", userId: "carol", openId: "o-c", boundAt: "2026-11-26T08:00:00.001Z"),
    ]

    @Test func jsonlIsEveryLineByteForByte() throws {
        let ledger =
            Self.lines.joined()
            + #"{"serialNo":"s-4","userId":"\u00e9 \"q\"","openId":"o","merchantId":"m","businessId":"b","boundAt":"2026-11-26T09:00:00.000Z","later":7}"#
            + "\n"
        let store = storage(ledger)
        let result = try export(["--storage", store.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == ledger)
        #expect(result.stderr.isEmpty)
        #expect(try export(["--storage", store.path, "--format", "jsonl"]).stdout == ledger)
    }

    @Test func csvIsExactRFC4180() throws {
        let ledger =
            Self.lines[0]
            + ledgerLine(
                "s-5", userId: #"Smith, \"J\" 用户"#, openId: "-o", boundAt: "2026-11-26T09:00:00.000Z")
            + ledgerLine("s-6", userId: "=HYPERLINK(1)", openId: "o-6")
        let store = storage(ledger)
        let result = try export(["--storage", store.path, "--format", "csv"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout
                == "serialNo,userId,openId,merchantId,businessId,boundAt\r\n"
                + "s-1,alice,o-a,mch-eb1b,biz-754e0c5d,2026-11-26T07:59:59.999Z\r\n"
                + "s-5,\"Smith, \"\"J\"\" 用户\",-o,mch-eb1b,biz-754e0c5d,2026-11-26T09:00:00.000Z\r\n"
                + "s-6,=HYPERLINK(1),o-6,mch-eb1b,biz-754e0c5d,2026-11-26T08:00:00.000Z\r\n")
    }

    @Test func csvOfAnEmptyLedgerIsTheHeader() throws {
        let store = storage("")
        let result = try export(["--storage", store.path, "--format", "csv"])
        #expect(result.status == 0)
        #expect(result.stdout == "serialNo,userId,openId,merchantId,businessId,boundAt\r\n")
        #expect(try export(["--storage", store.path]).stdout == "")
    }

    /// Bindings at 07:59:59.999, 08:00:00.000 and 08:00:00.001 UTC: an equal boundAt is included.
    @Test(arguments: [
        ("2026-11-26T08:00:00Z", ["s-2", "s-3"]),
        ("2026-11-26T08:00:00.000Z", ["s-2", "s-3"]),
        ("2026-11-26T16:00:00+08:00", ["s-2", "s-3"]),
        ("2026-11-26T02:30:00-05:30", ["s-2", "s-3"]),
        ("2026-11-26T07:59:59.999Z", ["s-1", "s-2", "s-3"]),
        ("2026-11-26T07:59:59.9985Z", ["s-1", "s-2", "s-3"]),
        ("2026-11-26T08:00:00.0005Z", ["s-3"]),
        ("2026-11-26T08:00:00.001Z", ["s-3"]),
        ("2026-11-26T08:00:00.002Z", []),
        ("1970-01-01T00:00:00Z", ["s-1", "s-2", "s-3"]),
    ])
    func sinceIncludesBindingsAtOrAfterTheInstant(since: String, serials: [String]) throws {
        let store = storage(Self.lines.joined())
        let jsonl = try export(["--storage", store.path, "--since", since])
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        let expected = Self.lines.filter { line in serials.contains { line.contains("\"\($0)\"") } }
        #expect(jsonl.stdout == expected.joined())
        let csv = try export(["--storage", store.path, "--since", since, "--format", "csv"])
        #expect(
            csv.stdout.components(separatedBy: "\r\n").dropFirst().compactMap {
                $0.split(separator: ",").first.map(String.init)
            } == serials)
    }

    @Test func tornTailIsSkippedSilentlyAndTheLedgerLeftAlone() throws {
        let torn = String(Self.lines[2].dropLast())  // complete JSON, but no newline: never acknowledged
        let ledger = Self.lines[0] + Self.lines[1] + torn
        let store = storage(ledger)
        for format in ["jsonl", "csv"] {
            let result = try export(["--storage", store.path, "--format", format])
            #expect(result.status == 0)
            #expect(result.stderr.isEmpty)
            #expect(!result.stdout.contains("s-3"))
            #expect(result.stdout.contains("s-2"))
        }
        #expect(try String(contentsOfFile: store.path + "/bindings.jsonl", encoding: .utf8) == ledger)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.path) == ["bindings.jsonl"])
    }

    @Test(arguments: [
        "{\"serialNo\":\"s-9\"}\n",
        "not json at all\n",
        ledgerLine("s-9", boundAt: "2026-11-26T08:00:00Z"),
        String(Self.lines[1].dropLast()) + Self.lines[2],
    ])
    func corruptCompleteLineIsAnErrorNamingFileAndLine(bad: String) throws {
        let store = storage(Self.lines[0] + "\n" + bad + Self.lines[2])
        let result = try export(["--storage", store.path])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("\(store.path)/bindings.jsonl:3: corrupt ledger line"), "\(result.stderr)")
    }

    @Test func failedExportLeavesAnExistingOutputFileAsItWasAndNoTemporaryFile() throws {
        let store = storage(Self.lines[0] + "{broken\n" + Self.lines[1])
        let output = store.write("previous.jsonl", "previous export\n")
        let result = try export(["--storage", store.path, "--output", output])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bindings.jsonl:2:"))
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "previous export\n")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: store.path).sorted() == [
                "bindings.jsonl", "previous.jsonl",
            ])
    }

    @Test func outputFileIsReplacedWholeWithMode0600() throws {
        let store = storage(Self.lines.joined())
        let output = store.write("export.csv", "old\n", mode: 0o644)
        let result = try export(["--storage", store.path, "--format", "csv", "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written.hasPrefix("serialNo,userId,openId,merchantId,businessId,boundAt\r\ns-1,alice,"))
        #expect(written.components(separatedBy: "\r\n").count == 5)
        let mode = try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: store.path).sorted() == [
                "bindings.jsonl", "export.csv",
            ])
    }

    /// SIGKILL can land mid-export (an OOM kill, a cancelled job): the output file has no name until it
    /// is complete, so nothing is left behind beside FILE.
    @Test func exportKilledMidwayLeavesNothingBehind() throws {
        let store = TemporaryDirectory()
        try writeNumberedLedger(count: 300_000, to: store.path + "/bindings.jsonl")
        let outputDirectory = store.path + "/out"
        #expect(mkdir(outputDirectory, 0o700) == 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let arguments = [
            Binaries.openidctl, "export", "--storage", store.path, "--output", outputDirectory + "/x.jsonl",
        ]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, Binaries.openidctl, &actions, nil, argv, environ) == 0)

        // Killed once it holds a file in the output directory: it opens that before reading the ledger.
        let deadline = Date().addingTimeInterval(10)
        var opened = false
        while !opened && Date() < deadline {
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            opened = descriptors.contains {
                let target = try? FileManager.default.destinationOfSymbolicLink(
                    atPath: "/proc/\(pid)/fd/\($0)")
                return target?.hasPrefix(outputDirectory + "/") ?? false
            }
            if !opened { usleep(200) }
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        #expect(opened)
        #expect(status & 0x7f == SIGKILL, "killed mid-export, not finished first (status \(status))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outputDirectory) == [])
    }

    @Test func outputInAMissingDirectoryIsAClearError() throws {
        let store = storage(Self.lines.joined())
        let result = try export(["--storage", store.path, "--output", "/nonexistent-dir/x.jsonl"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot write /nonexistent-dir/x.jsonl"), "\(result.stderr)")
    }

    @Test(arguments: [
        ["--since", "2026-11-26"], ["--since", "yesterday"], ["--since", "2026-11-26T08:00:00"],
        ["--since", "2026-11-26 08:00:00Z"], ["--since", "2026-02-30T08:00:00Z"],
        ["--since", "1795680000000"],
        ["--since", ""],
    ])
    func badSinceIsUsageError(arguments: [String]) throws {
        let store = storage(Self.lines.joined())
        let result = try export(["--storage", store.path] + arguments)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr.contains("--since \"\(arguments[1])\" is not an RFC 3339 date-time"),
            "\(result.stderr)")
    }

    @Test(arguments: [
        (["--format", "xml"], "--format must be jsonl or csv"),
        (["--config", "/etc/x.json"], "--config or --storage, not both"),
        (["extra"], "export takes no operand"),
        (["--since"], "--since needs a value"),
    ])
    func otherUsageErrors(arguments: [String], message: String) throws {
        let store = storage(Self.lines.joined())
        let result = try export(["--storage", store.path] + arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func missingLedgerIsAClearError() throws {
        let directory = TemporaryDirectory()
        let result = try export(["--storage", directory.path + "/state"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr
                == "openidctl: no ledger at \(directory.path)/state/bindings.jsonl (from --storage): not a storage directory openidd has used\n"
        )
    }

    @Test func missingConfigNamesItAndSuggestsStorage() throws {
        let directory = TemporaryDirectory()
        let result = try export(["--config", directory.path + "/config.json"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(directory.path)/config.json: cannot read the configuration file"))
        #expect(result.stderr.contains("--storage DIR"))
    }

    /// The installed config names keys `credential:NAME`, which resolve only under systemd; export reads
    /// no keys, so it needs only storage.directory (relative to the config file, as the daemon reads it).
    @Test func configWithCredentialKeysWorksOutsideSystemd() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(
            atPath: directory.path + "/state", withIntermediateDirectories: false)
        _ = directory.write("state/bindings.jsonl", Self.lines.joined())
        let config = directory.write(
            "config.json",
            """
            {
              "platform": {
                "baseUrl": "https://platform.example", "businessId": "b", "merchantId": "m",
                "privateKeyFile": "credential:merchant_private.pem",
                "platformPublicKeyFile": "credential:platform_public.pem"
              },
              "callback": { "publicUrl": "https://merchant.example/cb" },
              "storage": { "directory": "state" }
            }
            """)
        var environment = ProcessInfo.processInfo.environment
        environment["CREDENTIALS_DIRECTORY"] = nil
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.openidctl)
        process.arguments = ["export", "--config", config]
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: stderr, as: UTF8.self))")
        #expect(String(decoding: stdout, as: UTF8.self) == Self.lines.joined())
    }

    @Test func invalidConfigIsRefusedNamingTheKey() throws {
        let directory = TemporaryDirectory()
        let config = directory.write("config.json", #"{"storage": {"directory": "state", "bogus": 1}}"#)
        let result = try export(["--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("config.json: 7 problems:\n  platform.baseUrl: "), "\(result.stderr)")
        #expect(result.stderr.contains("\n  storage.bogus: unknown key"), "\(result.stderr)")
        #expect(result.stderr.contains("--storage DIR"))
    }

    /// Beside a running daemon, through its own config: what it wrote, byte for byte.
    @Test func exportsBesideARunningDaemon() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        for (user, openId) in [("alice", "o-alice"), ("bob, \"the\" builder", "o-bob")] {
            let issued = try daemon.issue(userId: user.replacingOccurrences(of: "\"", with: "\\\""))
            let answer = try daemon.callback(
                token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: openId))
            try #require(answer.text == "SUCCESS")
        }
        let ledger = try String(contentsOfFile: daemon.ledgerPath, encoding: .utf8)
        let jsonl = try export(["--config", daemon.configPath])
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        #expect(jsonl.stdout == ledger)
        let csv = try export(["--config", daemon.configPath, "--format", "csv"])
        let rows = csv.stdout.components(separatedBy: "\r\n")
        #expect(rows.count == 4)
        #expect(rows[2].contains(#","bob, ""the"" builder",o-bob,mch-eb1b,biz-754e0c5d,"#), "\(rows)")
        #expect(daemon.process?.isRunning == true)
        #expect(try daemon.ipc("GET", "/v1/health").json["bindings"] as? Int == 2)
    }

    @Test func brokenPipeEndsQuietlyWithStatus0() throws {
        let ledger = (0..<20_000).map { ledgerLine("s-\($0)") }.joined()
        let store = storage(ledger)
        let result = try spawnOpenidctl(["export", "--storage", store.path]) { fd, _ in
            var buffer = [UInt8](repeating: 0, count: 100)
            _ = read(fd, &buffer, buffer.count)  // like `| head -c 100`
        }
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func helpListsExport() throws {
        let help = try run(Binaries.openidctl, ["--help"])
        #expect(
            help.stdout.contains("export [--config PATH | --storage DIR] [--since TIME] [--format jsonl|csv]")
        )
    }

    /// A million bindings (about 135 MB) stream through a fixed buffer: the child's peak memory stays
    /// far below the file's size, and every line comes out.
    @Test func millionBindingsStreamInBoundedMemory() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/bindings.jsonl"
        let count = 1_000_000
        let lineLength = try writeNumberedLedger(count: count, to: path)
        let fileSize = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(fileSize == count * lineLength)

        var lines = 0
        var lastLine: [UInt8] = []
        var peakBytes = 0
        var samples = 0
        let result = try spawnOpenidctl(["export", "--storage", directory.path]) { fd, pid in
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let got = read(fd, &buffer, buffer.count)
                if got <= 0 { break }
                // A high-water mark: sampled while the export runs, the last sample covers all but its end.
                if let peak = peakResidentBytes(of: pid) {
                    peakBytes = max(peakBytes, peak)
                    samples += 1
                }
                buffer.withUnsafeBufferPointer { buffer in
                    var start = UnsafeRawPointer(buffer.baseAddress!)
                    let end = start + got
                    while let newline = memchr(start, 0x0A, end - start) {
                        lines += 1
                        start = UnsafeRawPointer(newline) + 1
                    }
                }
                lastLine = Array(
                    (lastLine + buffer[max(0, got - lineLength)..<got]).suffix(lineLength))
            }
        }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(lines == count)
        #expect(
            String(decoding: lastLine, as: UTF8.self)
                == ledgerLine("s0999999", userId: "u0999999", openId: "o0999999"))
        #expect(samples > 10, "the export ran long enough to be measured")
        #expect(peakBytes > 0)
        #expect(peakBytes < 64 << 20, "peak RSS \(peakBytes >> 20) MB for a \(fileSize >> 20) MB ledger")
        #expect(peakBytes < fileSize / 2)
    }
}
