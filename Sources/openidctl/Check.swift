import Config
import Foundation
import Ledger
import POSIX

// `openidctl check`: reads the storage directory's journal and ledger as openidd's start-up does, with
// the same code, and lists every problem instead of stopping at the first. It changes nothing and
// takes no lock, so it can run beside the daemon or while the daemon refuses to start.

func runCheck(_ options: ExportOptions) -> Never {
    if options.configPath != nil && options.storageDirectory != nil {
        exitUsage("check takes --config or --storage, not both")
    }
    if options.since != nil || options.format != nil || options.output != nil {
        exitUsage("check takes only --config PATH or --storage DIR")
    }
    let directory: String
    if let storage = options.storageDirectory {
        directory = storage
    } else {
        let configPath = options.configPath ?? Configuration.defaultPath
        do {
            directory = try configuredStorageDirectory(configPath)
        } catch {
            exitError("\(error); or give the storage directory with --storage DIR")
        }
    }
    guard FileSystem.exists(directory) else { exitError("\(directory): no such storage directory") }
    let replay: StorageReplay
    do {
        replay = try StorageReplay.read(directory: directory, now: WallClock.nowMilliseconds())
    } catch {
        exitError("\(directory): \(error)")
    }
    for problem in replay.problems { print(problem) }
    if !replay.problems.isEmpty {
        let refusing = replay.problems.filter(\.refusesStart).count
        print(
            "\(replay.problems.count) problem(s) in \(directory); openidd refuses to start on \(refusing) of them"
        )
        exit(1)
    }
    let registry = replay.registry
    print(
        "ok: \(directory): \(Store.ledgerName) \(replay.ledger.lines) lines, \(registry.bindingCount) bindings; \(Store.journalName) \(replay.journal.lines) lines, \(registry.openCount) requests pending"
    )
    exit(0)
}
