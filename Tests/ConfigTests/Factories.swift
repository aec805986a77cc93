import Config
import Foundation
import Testing

let configPath = "/etc/openidd/config.json"

/// A minimal valid configuration (SHA256-RSA), as nested sections; tests change or remove keys by
/// their dotted name.
func makeConfig(_ changes: [String: Any?] = [:]) -> [String: [String: Any]] {
    var sections: [String: [String: Any]] = [
        "platform": [
            "baseUrl": "https://platform.example/api",
            "businessId": "754e0c5d",
            "merchantId": "eb1b",
            "privateKeyFile": "keys/merchant.pem",
            "platformPublicKeyFile": "keys/platform.pem",
        ],
        "callback": ["publicUrl": "https://m.example/cb"],
    ]
    for (dotted, value) in changes {
        let parts = dotted.split(separator: ".", maxSplits: 1).map(String.init)
        if let value {
            sections[parts[0], default: [:]][parts[1]] = value
        } else {
            sections[parts[0]]?[parts[1]] = nil
        }
    }
    return sections
}

func jsonBytes(_ object: Any) -> [UInt8] {
    Array(try! JSONSerialization.data(withJSONObject: object))
}

func parse(_ changes: [String: Any?] = [:], path: String = configPath) throws(ConfigError) -> Configuration {
    try Configuration.parse(jsonBytes(makeConfig(changes)), path: path)
}

func parse(text: String, path: String = configPath) throws(ConfigError) -> Configuration {
    try Configuration.parse(Array(text.utf8), path: path)
}

/// Expects parsing to fail with an error naming `key` (and, if given, saying `message`).
func expectError(
    _ changes: [String: Any?], key: String?, containing message: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        _ = try parse(changes)
        Issue.record("parsed, expected an error naming \(key ?? "no key")", sourceLocation: sourceLocation)
    } catch {
        #expect(error.key == key, sourceLocation: sourceLocation)
        #expect(error.path == configPath, sourceLocation: sourceLocation)
        if let key { #expect(error.description.contains(key), sourceLocation: sourceLocation) }
        if let message {
            #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Tests/CryptoTests/Fixtures, found from this file (symlinks resolved, so a scratch package works too).
func cryptoFixture(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("../CryptoTests/Fixtures/\(name)").standardizedFileURL
    return try String(contentsOf: url, encoding: .utf8)
}

/// A fresh directory under the system's temporary directory, removed when the test is done with it.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "openidd-config-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path + "/keys", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Files are private (0600) by default, as key files must be; `mode` makes a looser one.
    func write(_ name: String, _ text: String, mode: Int = 0o600) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path + "/" + name)
    }
}
