import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `openidd --sandbox` leaves nothing behind (its keys included) unless told to keep it.
@Suite struct SandboxTests {
    /// Starts the sandbox and returns it with the temporary directory its banner names.
    func startSandbox(_ extra: [String] = []) throws -> (process: Process, directory: String, banner: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.openidd)
        process.arguments = ["--sandbox"] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var banner = ""
        while !banner.contains("Ctrl-C") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        let line = banner.split(separator: "\n").first { $0.contains("state, keys and config:") }
        guard let line, let directory = line.split(separator: " ").last.map(String.init) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("no directory in the banner: \(banner)")
        }
        return (process, directory, banner)
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func theTemporaryDirectoryIsRemovedOnExit(signal: Int32) throws {
        let sandbox = try startSandbox()
        defer { try? FileManager.default.removeItem(atPath: sandbox.directory) }
        #expect(sandbox.banner.contains("removed when the sandbox stops"), "\(sandbox.banner)")
        #expect(FileManager.default.fileExists(atPath: sandbox.directory + "/merchant_private.pem"))
        kill(sandbox.process.processIdentifier, signal)
        sandbox.process.waitUntilExit()
        #expect(sandbox.process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.directory))
    }

    @Test func keepLeavesTheDirectoryAndSaysSo() throws {
        let sandbox = try startSandbox(["--keep"])
        defer { try? FileManager.default.removeItem(atPath: sandbox.directory) }
        #expect(sandbox.banner.contains("kept when the sandbox stops"), "\(sandbox.banner)")
        kill(sandbox.process.processIdentifier, SIGTERM)
        sandbox.process.waitUntilExit()
        #expect(sandbox.process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: sandbox.directory + "/config.json"))
        #expect(FileManager.default.fileExists(atPath: sandbox.directory + "/merchant_private.pem"))
    }
}
