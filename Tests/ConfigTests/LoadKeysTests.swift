import Config
import Foundation
import Testing

/// A config file in a temporary directory whose key paths are relative to it.
private func configuration(in directory: TemporaryDirectory, _ changes: [String: Any?] = [:]) throws
    -> Configuration
{
    try directory.write("config.json", String(decoding: jsonBytes(makeConfig(changes)), as: UTF8.self))
    return try Configuration.load(path: directory.path + "/config.json")
}

private func expectKeyError(
    _ config: Configuration, key: String, containing: String, notContaining secret: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        _ = try config.loadKeys()
        Issue.record("keys loaded", sourceLocation: sourceLocation)
    } catch {
        #expect(error.key == key, sourceLocation: sourceLocation)
        #expect(error.description.contains(containing), "\(error)", sourceLocation: sourceLocation)
        if let secret {
            #expect(!error.description.contains(secret), "\(error)", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct LoadKeysTests {
    @Test func rsaKeysLoad() throws {
        let directory = try TemporaryDirectory()
        try directory.write("keys/merchant.pem", try cryptoFixture("merchant_pkcs8.pem"))
        try directory.write("keys/platform.pem", try cryptoFixture("merchant_spki.pem"))
        let keys = try configuration(in: directory).loadKeys()
        let privateKey = try #require(keys.merchantPrivateKey)
        #expect(keys.platformPublicKey?.fingerprint == privateKey.publicKey.fingerprint)
        #expect(keys.md5Key == nil)
    }

    @Test func missingKeyFileNamesKeyAndFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("keys/platform.pem", try cryptoFixture("merchant_spki.pem"))
        let config = try configuration(in: directory)
        expectKeyError(
            config, key: "platform.privateKeyFile", containing: directory.path + "/keys/merchant.pem")
    }

    @Test func everyKeyFileProblemIsReported() throws {
        let directory = try TemporaryDirectory()
        let config = try configuration(in: directory)
        do {
            _ = try config.loadKeys()
            Issue.record("keys loaded")
        } catch {
            #expect(
                error.problems.map(\.key) == ["platform.privateKeyFile", "platform.platformPublicKeyFile"])
        }
    }

    @Test func missingPublicKeyFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("keys/merchant.pem", try cryptoFixture("merchant_pkcs8.pem"))
        expectKeyError(
            try configuration(in: directory), key: "platform.platformPublicKeyFile",
            containing: "keys/platform.pem")
    }

    @Test(arguments: [
        "this file holds SECRETGARBAGE, not a key",
        "-----BEGIN PRIVATE KEY-----\nSECRETGARBAGEAAAABBBBCCCC\n-----END PRIVATE KEY-----\n",
        "U0VDUkVUR0FSQkFHRUFBQUFCQkJCQ0NDQw==",
    ])
    func garbagePrivateKeyIsNamedButNotQuoted(content: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write("keys/merchant.pem", content)
        try directory.write("keys/platform.pem", try cryptoFixture("merchant_spki.pem"))
        expectKeyError(
            try configuration(in: directory), key: "platform.privateKeyFile", containing: "merchant.pem",
            notContaining: "SECRETGARBAGE")
        if content.hasPrefix("U0VD") {
            expectKeyError(
                try configuration(in: directory), key: "platform.privateKeyFile", containing: "merchant.pem",
                notContaining: content)
        }
    }

    @Test func privateKeyWhereThePublicKeyBelongsIsRefusedWithoutQuotingIt() throws {
        let directory = try TemporaryDirectory()
        let privatePEM = try cryptoFixture("merchant_pkcs8.pem")
        try directory.write("keys/merchant.pem", privatePEM)
        try directory.write("keys/platform.pem", privatePEM)
        let body = privatePEM.split(separator: "\n")[1]
        expectKeyError(
            try configuration(in: directory), key: "platform.platformPublicKeyFile",
            containing: "platform.pem",
            notContaining: String(body.prefix(16)))
    }

    @Test func md5KeyIsTrimmedOfTrailingNewline() throws {
        let directory = try TemporaryDirectory()
        try directory.write("md5.key", "md5-secret-key\n")
        let config = try configuration(
            in: directory,
            [
                "platform.signType": "MD5", "platform.md5KeyFile": "md5.key",
                "platform.privateKeyFile": .none,
                "platform.platformPublicKeyFile": .none,
            ])
        let keys = try config.loadKeys()
        #expect(keys.md5Key == Array("md5-secret-key".utf8))
        #expect(keys.merchantPrivateKey == nil)
        #expect(keys.platformPublicKey == nil)

        try directory.write("md5.key", "  md5-secret-key\r\n\n")
        #expect(try config.loadKeys().md5Key == Array("md5-secret-key".utf8))
    }

    @Test func emptyOrMissingMD5Key() throws {
        let directory = try TemporaryDirectory()
        let config = try configuration(
            in: directory,
            [
                "platform.signType": "MD5", "platform.md5KeyFile": "md5.key",
                "platform.privateKeyFile": .none,
                "platform.platformPublicKeyFile": .none,
            ])
        expectKeyError(config, key: "platform.md5KeyFile", containing: "cannot read")
        try directory.write("md5.key", " \n\n")
        expectKeyError(config, key: "platform.md5KeyFile", containing: "empty")
    }

    @Test func secretKeysReadableByOthersAreRefusedButThePublicKeyIsNot() throws {
        let directory = try TemporaryDirectory()
        let loaded = try configuration(in: directory)
        try directory.write("keys/merchant.pem", try cryptoFixture("merchant_pkcs8.pem"), mode: 0o644)
        try directory.write("keys/platform.pem", try cryptoFixture("merchant_spki.pem"), mode: 0o644)
        expectKeyError(loaded, key: "platform.privateKeyFile", containing: "mode 644")
        try directory.write("keys/merchant.pem", try cryptoFixture("merchant_pkcs8.pem"), mode: 0o600)
        #expect(try loaded.loadKeys().platformPublicKey != nil)
    }
}
