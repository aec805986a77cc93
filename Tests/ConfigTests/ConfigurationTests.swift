import Config
import Foundation
import Testing

@Suite struct ConfigurationTests {
    @Test func fullConfigurationWithEveryKey() throws {
        let text = """
            {
              "platform": {
                "baseUrl": "https://platform.example/api/",
                "businessId": "754e0c5d",
                "merchantId": "eb1b",
                "signType": "MD5",
                "privateKeyFile": "/keys/merchant.pem",
                "platformPublicKeyFile": "keys/platform.pem",
                "md5KeyFile": "md5.key",
                "userIdField": "thirdAccount",
                "timeoutSeconds": 2.5
              },
              "callback": {
                "listen": "[::1]:9000",
                "publicUrl": "https://m.example/openidd/cb",
                "openIdField": "open_id",
                "trustedProxies": ["10.0.0.0/8", "::1/128", "192.0.2.7"]
              },
              "ipc": { "socketPath": "/run/x/openidd.sock", "socketMode": "0600" },
              "storage": { "directory": "state" },
              "requests": { "ttlSeconds": 3600, "maxPending": 50 }
            }
            """
        let config = try parse(text: text)
        #expect(config.path == configPath)
        #expect(config.restartOnly.account.baseUrl == "https://platform.example/api/")
        #expect(config.restartOnly.account.businessId == "754e0c5d")
        #expect(config.restartOnly.account.merchantId == "eb1b")
        #expect(config.restartOnly.account.signType.rawValue == "MD5")
        #expect(config.reloadable.privateKeyFile == "/keys/merchant.pem")
        #expect(config.reloadable.platformPublicKeyFile == "/etc/openidd/keys/platform.pem")
        #expect(config.reloadable.md5KeyFile == "/etc/openidd/md5.key")
        #expect(config.restartOnly.account.userIdField == "thirdAccount")
        #expect(config.reloadable.platformTimeoutSeconds == 2.5)
        #expect(config.restartOnly.callback.listen.description == "[::1]:9000")
        #expect(config.restartOnly.callback.publicUrl.description == "https://m.example/openidd/cb")
        #expect(config.restartOnly.callback.openIdField == "open_id")
        #expect(
            config.restartOnly.callback.trustedProxies.map(\.description) == [
                "10.0.0.0/8", "::1/128", "192.0.2.7/32",
            ])
        #expect(config.restartOnly.ipcSocket.path == "/run/x/openidd.sock")
        #expect(config.restartOnly.ipcSocket.mode == 0o600)
        #expect(config.restartOnly.storageDirectory == "/etc/openidd/state")
        #expect(config.reloadable.ttlSeconds == 3600)
        #expect(config.reloadable.maxPending == 50)
    }

    @Test func defaults() throws {
        let config = try parse()
        #expect(config.restartOnly.account.signType.rawValue == "SHA256-RSA")
        #expect(config.reloadable.md5KeyFile == nil)
        #expect(config.restartOnly.account.userIdField == "userId")
        #expect(config.reloadable.platformTimeoutSeconds == 10)
        #expect(config.restartOnly.callback.listen.description == "127.0.0.1:8480")
        #expect(config.restartOnly.callback.openIdField == nil)
        #expect(config.restartOnly.callback.trustedProxies.isEmpty)
        #expect(config.restartOnly.ipcSocket.path == "/run/openidd/openidd.sock")
        #expect(config.restartOnly.ipcSocket.mode == 0o660)
        #expect(config.restartOnly.storageDirectory == "/var/lib/openidd")
        #expect(config.reloadable.ttlSeconds == 86_400)
        #expect(config.reloadable.maxPending == 100_000)
    }

    @Test func nullMeansDefault() throws {
        let config = try parse(
            text: """
                {"platform": {"baseUrl": "https://p.example", "businessId": "b", "merchantId": "m", "signType": null,
                  "privateKeyFile": "k", "platformPublicKeyFile": "p", "timeoutSeconds": null},
                 "callback": {"publicUrl": "http://m.example/cb", "listen": null}}
                """)
        #expect(config.restartOnly.account.signType.rawValue == "SHA256-RSA")
        #expect(config.reloadable.platformTimeoutSeconds == 10)
        #expect(config.restartOnly.callback.listen.description == "127.0.0.1:8480")
    }

    @Test(arguments: ["platform.baseUrl", "platform.businessId", "platform.merchantId", "callback.publicUrl"])
    func requiredKeyMissing(key: String) {
        expectError([key: .none], key: key, containing: "required")
    }

    @Test func requiredSectionMissing() {
        do {
            _ = try Configuration.parse(jsonBytes(["platform": makeConfig()["platform"]!]), path: configPath)
            Issue.record("parsed without a callback section")
        } catch {
            #expect(error.key == "callback.publicUrl")
        }
    }

    @Test(arguments: ["platform.businessId", "platform.merchantId"])
    func requiredStringsMustBeNonEmptyAndTrimmed(key: String) {
        expectError([key: ""], key: key)
        expectError([key: " eb1b"], key: key)
        expectError([key: "eb1b "], key: key)
    }

    @Test func unknownSection() {
        expectError(["platfrom.baseUrl": "https://x.example"], key: "platfrom", containing: "unknown section")
    }

    @Test(arguments: [
        "platform.baseURL", "callback.publicURL", "ipc.mode", "storage.dir", "storage.syncCPU",
        "requests.ttl",
    ])
    func unknownKey(key: String) {
        expectError([key: "x"], key: key, containing: "unknown key")
    }

    @Test func unknownKeyMessageListsTheKnownOnes() {
        expectError(["ipc.mode": "0660"], key: "ipc.mode", containing: "socketMode")
    }

    @Test func sectionMustBeAnObject() {
        do {
            _ = try parse(text: #"{"platform": [], "callback": {}}"#)
            Issue.record("parsed")
        } catch {
            #expect(error.key == "platform")
        }
    }

    @Test(arguments: ["", "[]", "{", #"{"platform": {}"#, #"{"platform": {"a" 1}}"#, "null", #""text""#])
    func notAJSONObject(text: String) {
        do {
            _ = try parse(text: text)
            Issue.record("parsed")
        } catch {
            #expect(error.key == nil)
            #expect(error.description.hasPrefix(configPath))
        }
    }

    @Test(arguments: [
        ("platform.businessId", "754"), ("platform.merchantId", "true"), ("platform.signType", "1"),
        ("platform.privateKeyFile", #"["k"]"#), ("platform.userIdField", "false"),
        ("callback.listen", "8480"),
        ("callback.openIdField", "1"), ("ipc.socketMode", "660"), ("ipc.socketPath", "true"),
        ("storage.directory", "{}"),
        ("callback.publicUrl", #"["https://m.example"]"#),
    ])
    func stringKeysRejectOtherTypes(key: String, json: String) throws {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        expectError([key: value], key: key, containing: "string")
    }

    @Test func numberKeysRejectStringsAndBools() {
        let expected = [
            "platform.timeoutSeconds": "must be a number", "requests.ttlSeconds": "must be an integer",
            "requests.maxPending": "must be an integer",
        ]
        for (key, message) in expected {
            expectError([key: "10"], key: key, containing: message)
            expectError([key: true], key: key, containing: message)
            expectError([key: false], key: key, containing: message)
            expectError([key: [1]], key: key, containing: message)
        }
    }

    /// A count or a number of seconds written with a fraction is refused, not rounded or cut.
    @Test(arguments: ["ttlSeconds", "maxPending"])
    func integerKeysRefuseFractions(name: String) throws {
        func text(_ number: String) -> String {
            """
            {
              "platform": {
                "baseUrl": "https://platform.example/api", "businessId": "754e0c5d", "merchantId": "eb1b",
                "privateKeyFile": "m.pem", "platformPublicKeyFile": "p.pem"
              },
              "callback": { "publicUrl": "https://m.example/cb" },
              "requests": { "\(name)": \(number) }
            }
            """
        }
        for number in ["1.5", "10.0", "1e2"] {
            do {
                _ = try parse(text: text(number))
                Issue.record("\(name): \(number) accepted")
            } catch {
                #expect(error.key == "requests.\(name)", "\(error)")
                #expect(error.message.contains("must be an integer"), "\(error)")
            }
        }
        let config = try parse(text: text("7"))
        #expect((name == "ttlSeconds" ? config.reloadable.ttlSeconds : config.reloadable.maxPending) == 7)
    }

    @Test(arguments: ["platform.businessId", "platform.merchantId"])
    func signedIdsRefuseControlCharacters(key: String) {
        for value in ["754e0c5d\n", "754e\r\n0c5d", "75\t4", "75\u{0}4", "75\u{85}4"] {
            expectError([key: value], key: key, containing: "control characters")
        }
    }

    @Test func aRepeatedKeyIsRefusedByItsDottedName() {
        let text = """
            {
              "platform": {
                "baseUrl": "https://platform.example/api", "businessId": "754e0c5d", "merchantId": "eb1b",
                "privateKeyFile": "m.pem", "platformPublicKeyFile": "p.pem", "businessId": "other"
              },
              "callback": { "publicUrl": "https://m.example/cb" }
            }
            """
        do {
            _ = try parse(text: text)
            Issue.record("a repeated key was accepted")
        } catch {
            #expect(error.key == "platform.businessId")
            #expect(error.description.contains("platform.businessId: is given twice"), "\(error)")
        }
        // A repeated section too.
        do {
            _ = try parse(text: #"{"log": {}, "log": {"level": "debug"}}"#)
            Issue.record("a repeated section was accepted")
        } catch {
            #expect(error.key == "log")
        }
    }

    @Test func aTrailingCommaIsRefusedWithItsPlace() {
        let text = """
            {
              "platform": {
                "baseUrl": "https://platform.example/api", "businessId": "754e0c5d", "merchantId": "eb1b",
                "privateKeyFile": "m.pem", "platformPublicKeyFile": "p.pem",
              },
              "callback": { "publicUrl": "https://m.example/cb" }
            }
            """
        do {
            _ = try parse(text: text)
            Issue.record("a trailing comma was accepted")
        } catch {
            #expect(error.key == nil)
            #expect(error.message.contains("trailing comma"), "\(error)")
            #expect(error.message.contains("in platform"), "\(error)")
            #expect(error.message.contains("line 5, column 3"), "\(error)")
        }
    }

    @Test func numberRanges() throws {
        expectError(
            ["platform.timeoutSeconds": 0], key: "platform.timeoutSeconds", containing: "between 0.1 and 120")
        expectError(["platform.timeoutSeconds": 121], key: "platform.timeoutSeconds")
        expectError(
            ["requests.ttlSeconds": 0], key: "requests.ttlSeconds", containing: "between 1 and 2592000")
        expectError(["requests.ttlSeconds": -5], key: "requests.ttlSeconds")
        expectError(["requests.maxPending": 0], key: "requests.maxPending")
        expectError(["requests.maxPending": 10_000_001], key: "requests.maxPending")
        #expect(try parse(["platform.timeoutSeconds": 0.1]).reloadable.platformTimeoutSeconds == 0.1)
        #expect(try parse(["requests.ttlSeconds": 2_592_000]).reloadable.ttlSeconds == 2_592_000)
        #expect(try parse(["requests.maxPending": 1]).reloadable.maxPending == 1)
    }

    @Test(arguments: ["RSA", "sha256-rsa", "md5", "SHA256withRSA", ""])
    func signTypeInvalid(value: String) {
        expectError(["platform.signType": value], key: "platform.signType", containing: "SHA256-RSA")
    }

    @Test func rsaNeedsBothKeyFiles() {
        expectError(
            ["platform.privateKeyFile": .none], key: "platform.privateKeyFile", containing: "SHA256-RSA")
        expectError(["platform.platformPublicKeyFile": .none], key: "platform.platformPublicKeyFile")
        expectError(
            [
                "platform.signType": "SHA256-RSA", "platform.privateKeyFile": .none,
                "platform.md5KeyFile": "md5.key",
            ],
            key: "platform.privateKeyFile")
    }

    @Test func md5NeedsTheMD5KeyFileOnly() throws {
        expectError(["platform.signType": "MD5"], key: "platform.md5KeyFile", containing: "MD5")
        let config = try parse([
            "platform.signType": "MD5", "platform.md5KeyFile": "md5.key", "platform.privateKeyFile": .none,
            "platform.platformPublicKeyFile": .none,
        ])
        #expect(config.restartOnly.account.signType.rawValue == "MD5")
        #expect(config.reloadable.privateKeyFile == nil)
    }

    @Test func keyFilePathsMustNotBeEmpty() {
        expectError(["platform.privateKeyFile": ""], key: "platform.privateKeyFile", containing: "empty")
        expectError(["storage.directory": ""], key: "storage.directory")
    }

    @Test(arguments: [
        "ftp://m.example/cb", "m.example/cb", "https://", "javascript:alert(1)", "https://user@m.example/cb",
        "https://m.example/cb#frag", "https://m.example:0/cb", "",
    ])
    func publicUrlMustBeHTTP(value: String) {
        expectError(["callback.publicUrl": value], key: "callback.publicUrl")
    }

    @Test func publicUrlMustNotHaveAQuery() {
        expectError(
            ["callback.publicUrl": "https://m.example/cb?x=1"], key: "callback.publicUrl", containing: "query"
        )
    }

    @Test func baseUrlMustBeHTTP() throws {
        expectError(["platform.baseUrl": "ftp://p.example"], key: "platform.baseUrl", containing: "http")
        #expect(
            try parse(["platform.baseUrl": "http://127.0.0.1:8080"]).restartOnly.account.baseUrl
                == "http://127.0.0.1:8080/")
    }

    @Test(arguments: ["thirdAccount", "userId", "user_id", "u1"])
    func userIdFieldAccepted(value: String) throws {
        #expect(try parse(["platform.userIdField": value]).restartOnly.account.userIdField == value)
    }

    @Test(arguments: ["", "user id", "user-id", "user.id", "用户", String(repeating: "u", count: 65)])
    func fieldNamesRejected(value: String) {
        expectError(["platform.userIdField": value], key: "platform.userIdField")
        expectError(["callback.openIdField": value], key: "callback.openIdField")
    }

    @Test(arguments: [
        ("0.0.0.0:8480", "0.0.0.0:8480"), ("127.0.0.1:1", "127.0.0.1:1"), ("[::1]:8480", "[::1]:8480"),
        ("[::]:65535", "[::]:65535"), ("unix:/run/openidd/cb.sock", "unix:/run/openidd/cb.sock"),
        ("unix:cb.sock", "unix:/etc/openidd/cb.sock"),
    ])
    func listenForms(text: String, expected: String) throws {
        #expect(try parse(["callback.listen": text]).restartOnly.callback.listen.description == expected)
    }

    @Test(arguments: [
        "", "8480", ":8480", "0.0.0.0", "0.0.0.0:", "0.0.0.0:65536", "0.0.0.0:-1", "0.0.0.0:http",
        "localhost:8480",
        "::1:8480", "[::1]", "[::1]8480", "[127.0.0.1]:8480", "[::1:8480", "unix:", "tcp:0.0.0.0:8480",
        "0.0.0.0:8480 ",
        "10.0.0:8480",
    ])
    func listenRejected(text: String) {
        expectError(["callback.listen": text], key: "callback.listen", containing: "unix:/path")
    }

    @Test(arguments: [
        ("0660", 0o660 as UInt32), ("660", 0o660), ("0600", 0o600), ("0777", 0o777), ("0000", 0),
    ])
    func socketModeAccepted(text: String, mode: UInt32) throws {
        #expect(try parse(["ipc.socketMode": text]).restartOnly.ipcSocket.mode == mode)
    }

    @Test(arguments: ["999", "abc", "0668", "66", "", "07777", "1777", "0o660", "0x1b0", "06600"])
    func socketModeRejected(text: String) {
        expectError(["ipc.socketMode": text], key: "ipc.socketMode", containing: "octal")
    }

    @Test func ipcAccessListsDefaultToOpen() throws {
        #expect(try parse().reloadable.ipcAccess.isOpen)
        #expect(
            try parse(["ipc.allowedUsers": [Any](), "ipc.allowedGroups": [Any]()]).reloadable.ipcAccess.isOpen
        )
        #expect(
            try parse(["ipc.allowedUsers": NSNull(), "ipc.allowedGroups": NSNull()]).reloadable.ipcAccess
                .isOpen)
    }

    @Test func ipcAccessListsTakeNamesAndIds() throws {
        let access = try parse([
            "ipc.allowedUsers": ["root", 1001, "1002", 0],
            "ipc.allowedGroups": ["root", 4242, "4243"],
        ]).reloadable.ipcAccess
        #expect(access.users == [0, 1001, 1002])
        #expect(access.groups == [0, 4242, 4243])
        #expect(!access.isOpen)
        #expect(
            try parse(["ipc.allowedGroups": [4_294_967_294]]).reloadable.ipcAccess.groups == [4_294_967_294])
    }

    @Test(arguments: ["ipc.allowedUsers", "ipc.allowedGroups"])
    func ipcAccessListRejectsUnknownNames(key: String) {
        let kind = key == "ipc.allowedUsers" ? "user" : "group"
        expectError(
            [key: ["root", "openidd-no-such-name"]], key: "\(key)[1]",
            containing: "no \(kind) named \"openidd-no-such-name\"")
    }

    @Test(arguments: ["ipc.allowedUsers", "ipc.allowedGroups"])
    func ipcAccessListRejectsBadIds(key: String) {
        expectError([key: [-1]], key: "\(key)[0]", containing: "id")
        expectError([key: [1.5]], key: "\(key)[0]", containing: "id")
        expectError([key: [4_294_967_295]], key: "\(key)[0]", containing: "4294967294")
        expectError([key: ["4294967295"]], key: "\(key)[0]", containing: "4294967294")
        expectError([key: ["99999999999999999999"]], key: "\(key)[0]", containing: "id")
        expectError([key: [0, ""]], key: "\(key)[1]", containing: "empty")
    }

    @Test(arguments: ["ipc.allowedUsers", "ipc.allowedGroups"])
    func ipcAccessListRejectsOtherTypes(key: String) {
        for value: Any in ["root", 0, true, ["root": 0], [true], [["root"]], [NSNull()], [[String: Any]()]] {
            expectError([key: value], key: key, containing: "must be an array of")
        }
    }

    @Test func relativePathsResolveAgainstTheConfigFilesDirectory() throws {
        let config = try parse(
            [
                "platform.privateKeyFile": "keys/merchant.pem",
                "platform.platformPublicKeyFile": "../shared/platform.pem",
                "ipc.socketPath": "run/openidd.sock", "storage.directory": "state",
            ], path: "/srv/openidd/conf/config.json")
        #expect(config.reloadable.privateKeyFile == "/srv/openidd/conf/keys/merchant.pem")
        #expect(config.reloadable.platformPublicKeyFile == "/srv/openidd/conf/../shared/platform.pem")
        #expect(config.restartOnly.ipcSocket.path == "/srv/openidd/conf/run/openidd.sock")
        #expect(config.restartOnly.storageDirectory == "/srv/openidd/conf/state")
    }

    @Test func absolutePathsAreKept() throws {
        let config = try parse(["platform.privateKeyFile": "/k/m.pem", "storage.directory": "/var/lib/x"])
        #expect(config.reloadable.privateKeyFile == "/k/m.pem")
        #expect(config.restartOnly.storageDirectory == "/var/lib/x")
    }

    @Test func aRelativeConfigPathResolvesAgainstTheWorkingDirectory() throws {
        let config = try parse(["storage.directory": "state"], path: "conf/config.json")
        let cwd = FileManagerCWD.path
        #expect(config.restartOnly.storageDirectory == cwd + "/conf/state")
    }

    @Test func trustedProxies() throws {
        let config = try parse(["callback.trustedProxies": ["127.0.0.1/32", "fd00::/8", "10.0.0.0/8"]])
        #expect(config.restartOnly.callback.trustedProxies.map(\.prefixLength) == [32, 8, 8])
        #expect(
            try parse(["callback.trustedProxies": [String]()]).restartOnly.callback.trustedProxies.isEmpty)
    }

    @Test func maxConnectionsPerClient() throws {
        #expect(try parse().restartOnly.callback.maxConnectionsPerClient == 64)
        #expect(
            try parse(["callback.maxConnectionsPerClient": 8]).restartOnly.callback.maxConnectionsPerClient
                == 8)
        for bad: Any in [0, 1.5, 100_001, "64"] {
            expectError(["callback.maxConnectionsPerClient": bad], key: "callback.maxConnectionsPerClient")
        }
    }

    @Test func trustedProxiesInvalid() {
        expectError(
            ["callback.trustedProxies": ["10.0.0.0/8", "10.0.0.0/33"]], key: "callback.trustedProxies[1]",
            containing: "10.0.0.0/33")
        expectError(["callback.trustedProxies": ["proxy.example"]], key: "callback.trustedProxies[0]")
        expectError(
            ["callback.trustedProxies": "10.0.0.0/8"], key: "callback.trustedProxies", containing: "array")
        expectError(
            ["callback.trustedProxies": ["10.0.0.0/8", 5]], key: "callback.trustedProxies",
            containing: "array")
    }

    @Test func loadReadsTheFileAndNamesAMissingOne() throws {
        let directory = try TemporaryDirectory()
        try directory.write("config.json", String(decoding: jsonBytes(makeConfig()), as: UTF8.self))
        let config = try Configuration.load(path: directory.path + "/config.json")
        #expect(config.reloadable.privateKeyFile == directory.path + "/keys/merchant.pem")

        let missing = directory.path + "/absent.json"
        do {
            _ = try Configuration.load(path: missing)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.path == missing)
            #expect(error.key == nil)
            #expect(error.message.contains("cannot read"))
        }
    }
}

private enum FileManagerCWD {
    static var path: String { FileManager.default.currentDirectoryPath }
}

@Suite struct ConfigurationRiskTests {
    func riskKeys(_ changes: [String: Any?]) throws -> [String] {
        try parse(changes).risks().map(\.key)
    }

    @Test func plainHTTPToAnotherHostIsARisk() throws {
        #expect(try riskKeys(["platform.baseUrl": "http://platform.example/api"]) == ["platform.baseUrl"])
        #expect(try riskKeys(["platform.baseUrl": "http://10.0.0.1:8080"]) == ["platform.baseUrl"])
        for loopback in ["http://127.0.0.1:9", "http://127.1.2.3", "http://localhost:80", "http://[::1]:9"] {
            #expect(try riskKeys(["platform.baseUrl": loopback]).isEmpty, "\(loopback)")
        }
        #expect(try riskKeys(["platform.baseUrl": "https://platform.example"]).isEmpty)
    }

    @Test func aSocketOpenToOthersWithoutListsIsARisk() throws {
        for mode in ["0666", "0661", "0604", "0777"] {
            #expect(try riskKeys(["ipc.socketMode": mode]) == ["ipc.socketMode"], "\(mode)")
            #expect(
                try riskKeys(["ipc.socketMode": mode, "ipc.allowedUsers": [0]]).isEmpty, "\(mode) listed")
            #expect(
                try riskKeys(["ipc.socketMode": mode, "ipc.allowedGroups": [0]]).isEmpty, "\(mode) listed")
        }
        for mode in ["0600", "0660", "0770"] {
            #expect(try riskKeys(["ipc.socketMode": mode]).isEmpty, "\(mode)")
        }
    }

    @Test func aStorageDirectoryWritableByOthersIsARisk() throws {
        let directory =
            FileManager.default.temporaryDirectory.path
            + "/openidd-risk-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (mode, risky) in [(0o700, false), (0o750, false), (0o770, true), (0o702, true), (0o777, true)] {
            chmod(directory, mode_t(mode))
            #expect(try riskKeys(["storage.directory": directory]) == (risky ? ["storage.directory"] : []))
        }
    }
}

/// A configuration with several mistakes names them all, so one edit fixes them all.
@Suite struct EveryProblemTests {
    @Test func everyProblemIsReportedInTheFileOrder() {
        do {
            _ = try parse([
                "platform.bogusKey": 1, "platform.baseUrl": "ftp://x", "ipc.socketMode": "rw",
                "requests.ttlSeconds": -1, "callback.publicUrl": nil,
            ])
            Issue.record("parsed")
        } catch {
            #expect(
                error.problems.map(\.key) == [
                    "platform.baseUrl", "callback.publicUrl", "ipc.socketMode", "requests.ttlSeconds",
                    "platform.bogusKey",
                ], "\(error)")
            #expect(error.key == "platform.baseUrl")
            let lines = error.description.split(separator: "\n")
            #expect(lines.count == 6, "\(error)")
            #expect(lines.first == "\(configPath): 5 problems:", "\(error)")
            #expect(lines.contains("  callback.publicUrl: is required"), "\(error)")
        }
    }

    @Test func oneProblemIsOneLine() {
        do {
            _ = try parse(["ipc.socketMode": "rw"])
            Issue.record("parsed")
        } catch {
            #expect(error.problems.count == 1)
            #expect(
                error.description == "\(configPath): ipc.socketMode: must be an octal string such as \"0660\""
            )
        }
    }

    @Test func everyUnknownSectionIsNamed() {
        do {
            var sections: [String: Any] = makeConfig()
            sections["platfrom"] = [String: Any]()
            sections["callbak"] = [String: Any]()
            _ = try Configuration.parse(jsonBytes(sections), path: configPath)
            Issue.record("parsed")
        } catch {
            #expect(Set(error.problems.map(\.key)) == ["platfrom", "callbak"], "\(error)")
        }
    }
}
