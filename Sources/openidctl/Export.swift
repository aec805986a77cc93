import Config
import Correlation
import Foundation
import Ledger
import POSIX

#if canImport(Glibc)
    import Glibc
#endif

// `openidctl export`: the ledger's bindings for a merchant's database, read straight from the storage
// directory (the daemon need not run; if it does, the append-only ledger is read beside it).

/// The export's options as given; `main.swift` collects them and `runExport` checks them.
struct ExportOptions {
    var configPath: String?
    var storageDirectory: String?
    var since: String?
    var format: String?
    var output: String?

    mutating func set(_ option: String, _ value: String) {
        switch option {
        case "--config": configPath = value
        case "--storage": storageDirectory = value
        case "--since": since = value
        case "--format": format = value
        case "--output": output = value
        default: preconditionFailure("not an export option: \(option)")
        }
    }
}

enum ExportFormat: String {
    case jsonl, csv
}

struct ExportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func runExport(_ options: ExportOptions) -> Never {
    if options.configPath != nil && options.storageDirectory != nil {
        exitUsage("export takes --config or --storage, not both")
    }
    guard let format = ExportFormat(rawValue: options.format ?? "jsonl") else {
        exitUsage("--format must be jsonl or csv, not \"\(options.format ?? "")\"")
    }
    var since: Int64?
    if let text = options.since {
        guard let milliseconds = Timestamp.firstMillisecond(atOrAfter: text) else {
            exitUsage(
                "--since \"\(text)\" is not an RFC 3339 date-time such as 2026-11-26T08:00:00Z or 2026-11-26T16:00:00.5+08:00"
            )
        }
        since = milliseconds
    }
    // `| head` closing the pipe early surfaces as EPIPE from write, handled below.
    Signals.ignoreBrokenPipe()
    do {
        let ledger = try ledgerLocation(options)
        let output = try ExportOutput(path: options.output)
        do {
            try exportBindings(from: ledger, format: format, since: since, to: output)
            try output.finish()
        } catch {
            output.abandon()
            throw error
        }
    } catch let error as SystemCallError where error.errno == EPIPE && options.output == nil {
        // The reader has all it wanted: end quietly, as `yes | head` does.
        exit(0)
    } catch {
        exitError("\(error)")
    }
    exit(0)
}

/// The ledger's path, and where that came from for messages.
private func ledgerLocation(_ options: ExportOptions) throws -> (path: String, origin: String) {
    if let directory = options.storageDirectory {
        return (directory + "/" + Store.ledgerName, "--storage")
    }
    let configPath = options.configPath ?? Configuration.defaultPath
    do {
        return (
            try configuredStorageDirectory(configPath) + "/" + Store.ledgerName,
            "storage.directory in \(configPath)"
        )
    } catch {
        throw ExportError("\(error); or give the storage directory with --storage DIR")
    }
}

/// `storage.directory` of the configuration at `configPath`, for the commands that read the storage
/// directory themselves (export, check).
func configuredStorageDirectory(_ configPath: String) throws -> String {
    var environment = ProcessInfo.processInfo.environment
    // These commands read no keys, so `credential:NAME` key paths need not resolve; outside systemd
    // there is no $CREDENTIALS_DIRECTORY and the configuration would otherwise be refused for its keys.
    if environment["CREDENTIALS_DIRECTORY", default: ""].isEmpty {
        environment["CREDENTIALS_DIRECTORY"] = "/nonexistent"
    }
    return try Configuration.load(path: configPath, environment: environment).restartOnly.storageDirectory
}

/// Streams the selected lines: jsonl as stored, byte for byte; csv through `LedgerCSV`.
private func exportBindings(
    from ledger: (path: String, origin: String), format: ExportFormat, since: Int64?, to output: ExportOutput
) throws {
    if format == .csv { try output.write(LedgerCSV.header) }
    var fields = LedgerFields()
    do {
        try LineReader.readCompleteLines(of: ledger.path) { line, lineNumber in
            do {
                try fields.decode(line)
            } catch {
                throw ExportError(
                    "\(ledger.path):\(lineNumber): corrupt ledger line (\(error)); export stopped there. openidd refuses to start on it too: inspect or repair that line"
                )
            }
            if let since, fields.boundAt < since { return }
            switch format {
            case .jsonl: try output.writeLine(line)
            case .csv: try output.writeRow(fields)
            }
        }
    } catch let error as SystemCallError where error.subject == ledger.path {
        switch error.errno {
        case ENOENT:
            throw ExportError(
                "no ledger at \(ledger.path) (from \(ledger.origin)): not a storage directory openidd has used"
            )
        case EACCES:
            throw ExportError(
                "permission denied reading \(ledger.path): the storage directory is the daemon's; run export as root or as its user"
            )
        default:
            throw ExportError("cannot read the ledger: \(error)")
        }
    }
}

/// Where the export goes, through one fixed-size buffer: standard output, or for `--output FILE` a
/// file in FILE's directory that is fsynced and renamed over it once complete, so FILE is never seen
/// half-written and an export that fails leaves an existing FILE as it was.
///
/// That file is unnamed (O_TMPFILE) while it is written: an export killed midway, even by SIGKILL or
/// a power cut, leaves nothing behind in the directory. It is linked under a temporary name only once
/// complete and synced, then renamed over FILE. Where the filesystem has no O_TMPFILE (or /proc is not
/// mounted, which the link needs) it gets a mkstemp(3) name at once, removed if the export fails.
final class ExportOutput {
    private static let capacity = 1 << 20
    /// O_TMPFILE, which Swift's Glibc module leaves out (it needs _GNU_SOURCE).
    private static let openTemporaryFile: Int32 = 0o20_000_000 | O_DIRECTORY
    private let fd: FileDescriptor
    private let destination: String?
    /// The mkstemp(3) name, for a file that was not opened unnamed.
    private let temporaryPath: String?
    private var pending: [UInt8] = []

    init(path: String?) throws {
        pending.reserveCapacity(Self.capacity + (64 << 10))
        guard let path else {
            fd = FileDescriptor(rawValue: STDOUT_FILENO)
            destination = nil
            temporaryPath = nil
            return
        }
        destination = path
        // Mode 0600 either way: the export maps users to their openIds.
        let unnamed =
            access("/proc/self/fd", X_OK) == 0
            ? open(FileSystem.directoryName(of: path), Self.openTemporaryFile | O_WRONLY | O_CLOEXEC, 0o600)
            : -1
        if unnamed >= 0 {
            fd = FileDescriptor(rawValue: unnamed)
            temporaryPath = nil
            return
        }
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let raw = mkstemp(&template)
        guard raw >= 0 else {
            throw ExportError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        fd = FileDescriptor(rawValue: raw)
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        if destination != nil { fd.close() }
    }

    private var subject: String { temporaryPath ?? destination ?? "standard output" }

    func write(_ bytes: [UInt8]) throws {
        pending.append(contentsOf: bytes)
        try flushIfFull()
    }

    func writeLine(_ line: UnsafeBufferPointer<UInt8>) throws {
        pending.append(contentsOf: line)
        pending.append(0x0A)
        try flushIfFull()
    }

    func writeRow(_ fields: LedgerFields) throws {
        LedgerCSV.appendRow(fields, to: &pending)
        try flushIfFull()
    }

    private func flushIfFull() throws {
        if pending.count >= Self.capacity { try flush() }
    }

    private func flush() throws {
        try fd.writeAll(pending, subject: subject)
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered; for a file, fsyncs it, names it, renames it over FILE and fsyncs the
    /// directory.
    func finish() throws {
        try flush()
        guard let destination else { return }
        try fd.sync(subject: subject)
        let named = try temporaryPath ?? linkUnnamedFile(beside: destination)
        do {
            _ = try retryingEINTR("rename", subject: destination) { rename(named, destination) }
        } catch {
            unlink(named)
            throw error
        }
        try FileSystem.syncDirectory(FileSystem.directoryName(of: destination))
    }

    /// Gives the unnamed file a fresh temporary name beside `destination` (rename(2) cannot take an
    /// unnamed file). Through /proc, as linkat's AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH.
    private func linkUnnamedFile(beside destination: String) throws -> String {
        while true {
            let name = destination + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            if linkat(AT_FDCWD, "/proc/self/fd/\(fd.rawValue)", AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0 {
                return name
            }
            if errno == EINTR || errno == EEXIST { continue }
            throw SystemCallError(call: "linkat", errno: errno, subject: name)
        }
    }

    /// Removes the temporary file of an export that failed (an unnamed one has nothing to remove).
    func abandon() {
        if let temporaryPath { unlink(temporaryPath) }
    }
}
