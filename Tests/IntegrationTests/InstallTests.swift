import Foundation
import Testing

/// `scripts/install.sh` staged into a directory, as a package build would run it.
@Suite struct InstallTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized.path

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func stagesBinariesUnitsConfigAndKeyDirectoryWithTheirPermissions() throws {
        let stage = TemporaryDirectory()
        let result = try run(
            Self.repository + "/scripts/install.sh",
            ["--destdir", stage.path, "--no-build", "--bin", Binaries.directory])
        #expect(result.status == 0, "\(result.stderr)")
        let root = stage.path
        #expect(try mode(root + "/usr/local/bin/openidd") == 0o755)
        #expect(try mode(root + "/usr/local/bin/openidctl") == 0o755)
        #expect(try mode(root + "/etc/openidd") == 0o750)
        #expect(try mode(root + "/etc/openidd/keys") == 0o700)
        #expect(try mode(root + "/etc/openidd/config.json") == 0o640)
        for unit in ["openidd.service", "openidd.socket", "openidd-callback.socket"] {
            #expect(try mode(root + "/etc/systemd/system/" + unit) == 0o644)
        }
        let version = try run(root + "/usr/local/bin/openidd", ["--version"])
        #expect(version.stdout.hasPrefix("openidd "))

        // The staged example config is valid once the keys it names are in the credentials directory.
        let keys = TemporaryDirectory()
        _ = keys.write("merchant_private.pem", TestKeys.merchant.pkcs8PEM())
        _ = keys.write("platform_public.pem", TestKeys.platform.publicKey.spkiPEM())
        let check = try run(
            root + "/usr/local/bin/openidd",
            ["--check-config", "--config", root + "/etc/openidd/config.json"],
            environment: ["CREDENTIALS_DIRECTORY": keys.path])
        #expect(check.status == 0, "\(check.stderr)")

        // A second run keeps an edited config.
        try "{}".write(toFile: root + "/etc/openidd/config.json", atomically: false, encoding: .utf8)
        let again = try run(
            Self.repository + "/scripts/install.sh",
            ["--destdir", stage.path, "--no-build", "--bin", Binaries.directory])
        #expect(again.stdout.contains("kept the existing"))
        #expect(try String(contentsOfFile: root + "/etc/openidd/config.json", encoding: .utf8) == "{}")
    }

    @Test func aPrefixIsFollowedInTheUnits() throws {
        let stage = TemporaryDirectory()
        let result = try run(
            Self.repository + "/scripts/install.sh",
            ["--destdir", stage.path, "--prefix", "/opt/openidd", "--no-build", "--bin", Binaries.directory])
        #expect(result.status == 0, "\(result.stderr)")
        let unit = try String(
            contentsOfFile: stage.path + "/etc/systemd/system/openidd.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/opt/openidd/bin/openidd --config /etc/openidd/config.json"))
        #expect(!unit.contains("/usr/local/bin"))
    }
}
