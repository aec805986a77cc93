import Config
import Logging
import Testing

@Suite struct LogLevelAndCredentialTests {
    @Test func logLevelDefaultsToInfoAndAcceptsTheSyslogNames() throws {
        #expect(try parse().reloadable.logLevel == .info)
        for (name, level) in [
            ("error", LogLevel.error), ("warning", .warning), ("notice", .notice), ("debug", .debug),
        ] {
            #expect(try parse(["log.level": name]).reloadable.logLevel == level)
        }
        expectError(
            ["log.level": "verbose"], key: "log.level", containing: "error, warning, notice, info, debug")
        expectError(["log.level": 3], key: "log.level", containing: "string")
        expectError(["log.format": "json"], key: "log.format", containing: "unknown key")
    }

    @Test func credentialPathsResolveInTheCredentialsDirectory() throws {
        let bytes = jsonBytes(makeConfig(["platform.privateKeyFile": "credential:merchant.pem"]))
        let configuration = try Configuration.parse(
            bytes, path: configPath,
            environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/openidd.service"])
        #expect(configuration.reloadable.privateKeyFile == "/run/credentials/openidd.service/merchant.pem")
        #expect(configuration.credentialsDirectory == "/run/credentials/openidd.service")
        // Relative paths still resolve against the config file.
        #expect(configuration.reloadable.platformPublicKeyFile == "/etc/openidd/keys/platform.pem")
    }

    @Test(arguments: ["credential:", "credential:../etc/shadow", "credential:a/b"])
    func malformedCredentialNamesAreRefused(value: String) {
        do {
            _ = try Configuration.parse(
                jsonBytes(makeConfig(["platform.privateKeyFile": value])), path: configPath,
                environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/x"])
            Issue.record("accepted \(value)")
        } catch {
            #expect(error.key == "platform.privateKeyFile")
        }
    }

    @Test func credentialWithoutSystemdSaysWhatIsMissing() {
        do {
            _ = try Configuration.parse(
                jsonBytes(makeConfig(["platform.privateKeyFile": "credential:merchant.pem"])),
                path: configPath,
                environment: [:])
            Issue.record("accepted a credential without CREDENTIALS_DIRECTORY")
        } catch {
            #expect(error.key == "platform.privateKeyFile")
            #expect(error.message.contains("LoadCredential=merchant.pem:"))
        }
    }
}
