import Config
import Foundation
import Testing

@Suite struct SettingsTests {
    /// A changed value for every key, each valid in `base` below.
    static let changes: [String: any Sendable] = [
        "platform.baseUrl": "https://other.example/api",
        "platform.businessId": "other-business",
        "platform.merchantId": "other-merchant",
        "platform.signType": "MD5",
        "platform.privateKeyFile": "keys/other.pem",
        "platform.platformPublicKeyFile": "keys/other-platform.pem",
        "platform.md5KeyFile": "keys/other-md5.key",
        "platform.userIdField": "thirdAccount",
        "platform.timeoutSeconds": 5,
        "callback.listen": "127.0.0.1:9999",
        "callback.publicUrl": "https://m.example/other",
        "callback.openIdField": "open_id",
        "callback.trustedProxies": ["10.0.0.0/8"],
        "callback.maxConnectionsPerClient": 8,
        "ipc.socketPath": "/run/other/openidd.sock",
        "ipc.socketMode": "0600",
        "ipc.allowedUsers": [1001],
        "ipc.allowedGroups": [1001],
        "storage.directory": "/var/lib/other",
        "requests.ttlSeconds": 60,
        "requests.maxPending": 10,
        "log.level": "debug",
    ]

    /// The minimal configuration with an MD5 key file too, so that `signType` may change alone.
    static let base: [String: String] = ["platform.md5KeyFile": "keys/md5.key"]

    @Test func everyKeyIsInExactlyOneSettingsType() {
        let restartOnly = Set(RestartSettings.keys.map(\.name))
        let reloadable = Set(ReloadableSettings.keys.map(\.name))
        #expect(restartOnly.isDisjoint(with: reloadable))
        #expect(restartOnly.count == RestartSettings.keys.count)
        #expect(reloadable.count == ReloadableSettings.keys.count)
        #expect(Set(Configuration.keys) == restartOnly.union(reloadable))
        #expect(Set(Self.changes.keys) == Set(Configuration.keys), "a changed value for every key")
    }

    /// Changing one key in the file changes that key alone, in the settings type that lists it: so a
    /// reload refuses exactly the restart-only keys, by name.
    @Test(arguments: Configuration.keys)
    func aChangedKeyIsReportedByItsSettingsType(key: String) throws {
        let old = try parse(Self.base)
        var changed: [String: Any?] = Self.base
        changed[key] = try #require(Self.changes[key]) as Any
        let new = try parse(changed)
        let restartOnly = new.restartOnly.changedKeys(from: old.restartOnly)
        let reloadable = new.reloadable.changedKeys(from: old.reloadable)
        if RestartSettings.keys.contains(where: { $0.name == key }) {
            #expect(restartOnly == [key])
            #expect(reloadable == [])
        } else {
            #expect(restartOnly == [])
            #expect(reloadable == [key])
        }
    }

    @Test func anUnchangedFileChangesNoKey() throws {
        let old = try parse(Self.base)
        let new = try parse(Self.base)
        #expect(new.restartOnly.changedKeys(from: old.restartOnly) == [])
        #expect(new.reloadable.changedKeys(from: old.reloadable) == [])
    }
}
