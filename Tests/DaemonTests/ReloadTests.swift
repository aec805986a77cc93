import Config
import Foundation
import Logging
import Testing

@testable import Daemon

/// `Daemon.reload()`, which SIGHUP runs: a reloadable key's new value applies; a restart-only key's
/// change is refused by name, and then nothing else applies either.
@Suite struct ReloadTests {
    /// A daemon on a temporary directory (storage, IPC socket, MD5 key), its callback port on 127.0.0.1:0.
    final class RunningDaemon {
        let directory = NSTemporaryDirectory() + "openidd-reload-tests-" + UUID().uuidString
        var configPath: String { directory + "/config.json" }
        let sink = MemorySink()
        let logger: Logger
        var daemon: Daemon!

        init() throws {
            logger = Logger(level: .info, sink: sink)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let keyFile = directory + "/md5.key"
            try Data("md5-key".utf8).write(to: URL(fileURLWithPath: keyFile))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
            try write()
            let configuration = try Configuration.load(path: configPath)
            daemon = try Daemon(
                configuration: configuration, keys: try configuration.loadKeys(), logger: logger)
        }

        deinit {
            daemon.shutdown(graceSeconds: 1)
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Writes the configuration with `changes` (dotted key to value) over the defaults here.
        func write(_ changes: [String: Any] = [:]) throws {
            var sections: [String: [String: Any]] = [
                "platform": [
                    "baseUrl": "http://127.0.0.1:9", "businessId": "b", "merchantId": "m", "signType": "MD5",
                    "md5KeyFile": "md5.key",
                ],
                "callback": ["listen": "127.0.0.1:0", "publicUrl": "https://m.example/cb"],
                "ipc": ["socketPath": "ipc.sock", "socketMode": "0600"],
                "storage": ["directory": "state"],
                "log": ["level": "info"],
            ]
            for (key, value) in changes {
                let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
                sections[parts[0], default: [:]][parts[1]] = value
            }
            try JSONSerialization.data(withJSONObject: sections).write(to: URL(fileURLWithPath: configPath))
        }
    }

    @Test func aReloadableKeyTakesEffect() throws {
        let running = try RunningDaemon()
        #expect(running.logger.level == .info)
        try running.write(["log.level": "debug"])
        try running.daemon.reload()
        #expect(running.logger.level == .debug)
        #expect(running.sink.lines.contains { $0.contains("configuration reloaded") })
    }

    @Test(arguments: [
        ("callback.publicUrl", "https://m.example/other"),
        ("platform.merchantId", "other-merchant"),
        ("ipc.socketMode", "0660"),
        ("storage.directory", "other-state"),
    ])
    func aRestartOnlyKeyIsRefusedByName(key: String, value: String) throws {
        let running = try RunningDaemon()
        try running.write([key: value, "log.level": "debug"])
        do {
            try running.daemon.reload()
            Issue.record("reloaded a change to \(key)")
        } catch {
            #expect("\(error)".hasPrefix("\(key) changed; that needs a restart"), "\(error)")
        }
        #expect(running.logger.level == .info, "the reloadable log.level beside it was not applied")
    }
}
