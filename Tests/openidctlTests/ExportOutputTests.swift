import Foundation
import Testing

@testable import openidctl

#if canImport(Glibc)
    import Glibc
#endif

/// `export --output FILE` writes through an unnamed file: until the export is complete and synced,
/// nothing new has a name in FILE's directory, so a killed export leaves nothing behind.
@Suite struct ExportOutputTests {
    private func makeDirectory() -> String {
        var template = Array((NSTemporaryDirectory() + "openidctl-export.XXXXXX").utf8CString)
        return String(cString: mkdtemp(&template)!)
    }

    private func names(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// More than the output's 1 MiB buffer, so some of it has reached the file before the check.
    private let line = Array(repeating: UInt8(ascii: "x"), count: 999)

    @Test func nothingHasANameUntilTheExportIsComplete() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = try ExportOutput(path: directory + "/export.jsonl")
        for _ in 0..<2_000 { try line.withUnsafeBufferPointer { try output.writeLine($0) } }
        #expect(names(in: directory) == [])

        try output.finish()
        #expect(names(in: directory) == ["export.jsonl"])
        let written = try #require(FileManager.default.contents(atPath: directory + "/export.jsonl"))
        #expect(written.count == 2_000 * 1_000)
        #expect(written.allSatisfy { $0 == UInt8(ascii: "x") || $0 == 0x0A })
        var status = stat()
        #expect(stat(directory + "/export.jsonl", &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
    }

    @Test func anAbandonedExportLeavesTheOldFileAndNothingElse() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/export.jsonl"
        try Data("yesterday's export\n".utf8).write(to: URL(fileURLWithPath: path))
        do {
            let output = try ExportOutput(path: path)
            for _ in 0..<2_000 { try line.withUnsafeBufferPointer { try output.writeLine($0) } }
            output.abandon()
        }
        #expect(names(in: directory) == ["export.jsonl"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "yesterday's export\n")
    }

    @Test func aSecondExportReplacesTheFirst() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/export.jsonl"
        for text in ["first", "second"] {
            let output = try ExportOutput(path: path)
            try Array(text.utf8).withUnsafeBufferPointer { try output.writeLine($0) }
            try output.finish()
        }
        #expect(names(in: directory) == ["export.jsonl"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second\n")
    }

    @Test func aMissingDirectoryIsAClearError() {
        #expect(throws: ExportError.self) {
            _ = try ExportOutput(path: "/nonexistent-openidctl-dir/export.jsonl")
        }
    }
}
