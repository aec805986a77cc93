import Config
import Foundation
import Testing

/// Every key the parser knows is shown in `config.example.json` and described in
/// `docs/configuration.md`, by its dotted name.
@Suite struct KeyDocumentationTests {
    /// This checkout, or `OPENIDD_DOCUMENTS_ROOT` (as DocumentationTests reads it).
    static let root =
        ProcessInfo.processInfo.environment["OPENIDD_DOCUMENTS_ROOT"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func everyKeyAppearsInTheExampleConfiguration() throws {
        let path = Self.root + "/config.example.json"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let sections = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        let missing = Configuration.keys.filter { key in
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            return sections[parts[0]]?[parts[1]] == nil
        }
        #expect(missing == [], "config.example.json lacks these keys")
        // And it is a configuration the daemon accepts, as shipped (key files passed by systemd).
        let example = try Configuration.parse(
            Array(data), path: path,
            environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/openidd.service"])
        #expect(example.reloadable.privateKeyFile == "/run/credentials/openidd.service/merchant_private.pem")
    }

    @Test func everyKeyIsDocumented() throws {
        let path = Self.root + "/docs/configuration.md"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) does not exist")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let missing = Configuration.keys.filter { !text.contains($0) }
        #expect(missing == [], "docs/configuration.md does not name these keys")
    }
}
