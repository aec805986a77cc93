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

    @Test(arguments: ["--destdir", "--prefix", "--bin"])
    func anOptionWithoutItsValueIsAUsageError(option: String) throws {
        let result = try run(Self.repository + "/scripts/install.sh", ["--no-build", option])
        #expect(result.status == 2)
        #expect(
            result.stderr == "install.sh: \(option) needs a value; see install.sh --help\n",
            "\(result.stderr)")
    }

    @Test func messagesNameTheStagedPaths() throws {
        let stage = TemporaryDirectory()
        let result = try run(
            Self.repository + "/scripts/install.sh",
            ["--destdir", stage.path, "--no-build", "--bin", Binaries.directory])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote \(stage.path)/etc/openidd/config.json"), "\(result.stdout)")
        #expect(result.stdout.contains("\(stage.path)/usr/local/bin/openidd"), "\(result.stdout)")
        #expect(
            result.stdout.contains("\(stage.path)/etc/systemd/system/openidd.service"), "\(result.stdout)")
    }

    @Test func uninstallRemovesWhatItInstalledAndKeepsConfigAndState() throws {
        let stage = TemporaryDirectory()
        let root = stage.path
        let install = try run(
            Self.repository + "/scripts/install.sh",
            ["--destdir", root, "--no-build", "--bin", Binaries.directory])
        #expect(install.status == 0, "\(install.stderr)")
        try FileManager.default.createDirectory(
            atPath: root + "/var/lib/openidd", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(
            atPath: root + "/var/lib/openidd/bindings.jsonl", contents: Data("{}\n".utf8))
        _ = FileManager.default.createFile(
            atPath: root + "/etc/openidd/keys/merchant_private.pem", contents: Data("k".utf8))

        let uninstall = try run(Self.repository + "/scripts/install.sh", ["--uninstall", "--destdir", root])
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        for gone in [
            "/usr/local/bin/openidd", "/usr/local/bin/openidctl", "/etc/systemd/system/openidd.service",
            "/etc/systemd/system/openidd.socket", "/etc/systemd/system/openidd-callback.socket",
            "/usr/local/share/doc/openidd",
        ] {
            #expect(!FileManager.default.fileExists(atPath: root + gone), "\(gone)")
        }
        for kept in [
            "/etc/openidd/config.json", "/etc/openidd/keys/merchant_private.pem",
            "/var/lib/openidd/bindings.jsonl",
        ] {
            #expect(FileManager.default.fileExists(atPath: root + kept), "\(kept)")
        }
        #expect(uninstall.stdout.contains("kept \(root)/etc/openidd"), "\(uninstall.stdout)")
    }
}
