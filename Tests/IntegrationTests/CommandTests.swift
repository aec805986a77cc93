import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `openidd`'s own flags and `openidctl`, as a person at a shell would use them.
@Suite struct CommandTests {
    @Test func versionAndHelp() throws {
        let version = try run(Binaries.openidd, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("openidd "))
        let help = try run(Binaries.openidd, ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--check-config"))
        let bad = try run(Binaries.openidd, ["--bogus"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown argument --bogus"))
    }

    @Test func checkConfigAcceptsAGoodConfig() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let result = try run(Binaries.openidd, ["--check-config", "--config", daemon.configPath])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("OK"))
    }

    @Test(arguments: [
        (#""platform": {"#, #""platform": { "bogusKey": 1,"#, "platform.bogusKey"),
        (
            #""baseUrl": "https://platform.example","#, #""baseUrl": "ftp://platform.example","#,
            "platform.baseUrl"
        ),
        (
            #""publicUrl": "https://merchant.example/openidd/callback""#,
            #""publicUrl": "merchant.example/cb""#, "callback.publicUrl"
        ),
        (#""timeoutSeconds": 5.0"#, #""timeoutSeconds": "five""#, "platform.timeoutSeconds"),
        (
            #""privateKeyFile": "merchant_private.pem""#, #""privateKeyFile": "missing.pem""#,
            "platform.privateKeyFile"
        ),
        (#""businessId": "biz-754e0c5d","#, "", "platform.businessId"),
        (#""socketMode": "0600""#, #""socketMode": "rw""#, "ipc.socketMode"),
        (
            #""businessId": "biz-754e0c5d","#, #""businessId": "biz-754e0c5d", "businessId": "other","#,
            "platform.businessId: is given twice"
        ),
        (#""merchantId": "mch-eb1b","#, #""merchantId": "mch-eb1b\r\n","#, "platform.merchantId"),
        (#""businessId": "biz-754e0c5d","#, #""businessId": "biz-754e0c5d\n","#, "platform.businessId"),
        (#""maxPending": 1000"#, #""maxPending": 1.5"#, "requests.maxPending"),
        (#""ttlSeconds": 3600,"#, #""ttlSeconds": 1.5,"#, "requests.ttlSeconds"),
        (#""maxPending": 1000"#, #""maxPending": 1000,"#, "trailing comma"),
    ])
    func checkConfigNamesTheKeyAtFault(original: String, replacement: String, key: String) throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let text = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try #require(text.contains(original))
        try text.replacingOccurrences(of: original, with: replacement).write(
            toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let result = try run(Binaries.openidd, ["--check-config", "--config", daemon.configPath])
        #expect(result.status == 1)
        #expect(result.stderr.contains(key), "\(result.stderr)")
    }

    @Test func checkConfigReportsEveryError() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let text = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
            .replacingOccurrences(of: #""platform": {"#, with: #""platform": { "bogusKey": 1,"#)
            .replacingOccurrences(of: #""socketMode": "0600""#, with: #""socketMode": "rw""#)
            .replacingOccurrences(of: #""ttlSeconds": 3600"#, with: #""ttlSeconds": -1"#)
        try text.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let result = try run(Binaries.openidd, ["--check-config", "--config", daemon.configPath])
        #expect(result.status == 1)
        for key in ["platform.bogusKey", "ipc.socketMode", "requests.ttlSeconds"] {
            #expect(result.stderr.contains(key), "\(result.stderr)")
        }
    }

    @Test func checkConfigGivesTheLineAndColumnOfAJSONSyntaxError() throws {
        let directory = TemporaryDirectory()
        let config = directory.write(
            "config.json", "{\n  \"platform\": {\n    \"baseUrl\": \"x\",,\n  }\n}\n")
        let result = try run(Binaries.openidd, ["--check-config", "--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("line 3, column 20"), "\(result.stderr)")
    }

    @Test func garbageKeyFileIsRefusedWithoutEchoingIt() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        _ = daemon.directory.write("merchant_private.pem", "SECRET-MATERIAL-THAT-IS-NOT-A-KEY")
        let result = try run(Binaries.openidd, ["--check-config", "--config", daemon.configPath])
        #expect(result.status == 1)
        #expect(result.stderr.contains("platform.privateKeyFile"))
        #expect(!result.stderr.contains("SECRET-MATERIAL"))
    }

    @Test func daemonRefusesToStartOnABadConfig() throws {
        let directory = TemporaryDirectory()
        let config = directory.write("config.json", #"{"platform": {}}"#)
        let result = try run(Binaries.openidd, ["--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("platform.baseUrl"))
    }

    @Test func openidctlCommandsAndExitCodes() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let socket = ["--socket", daemon.socketPath]

        let issued = try run(Binaries.openidctl, socket + ["auth-url", "carol", "--serial", "ctl-serial-1"])
        #expect(issued.status == 0)
        #expect(issued.stdout.hasPrefix("https://openauth.example/authorize?serialNo=ctl-serial-1\n"))
        let json = try run(Binaries.openidctl, socket + ["--json", "auth-url", "dave"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["userId"] as? String == "dave")

        #expect(try run(Binaries.openidctl, socket + ["get", "carol"]).status == 3)
        #expect(try run(Binaries.openidctl, socket + ["find", "oid-carol"]).status == 3)
        let token = try #require(daemon.journalToken(serialNo: "ctl-serial-1"))
        #expect(
            try daemon.callback(
                token: token, body: callbackBody(serialNo: "ctl-serial-1", openId: "oid-carol")
            ).text == "SUCCESS")

        let get = try run(Binaries.openidctl, socket + ["get", "carol"])
        #expect(get.status == 0)
        #expect(get.stdout.hasPrefix("oid-carol\n"))
        let find = try run(Binaries.openidctl, socket + ["find", "oid-carol"])
        #expect(find.status == 0)
        #expect(find.stdout.hasPrefix("carol\tctl-serial-1\t"))
        let wait = try run(Binaries.openidctl, socket + ["wait", "ctl-serial-1", "--timeout", "5"])
        #expect(wait.status == 0)
        #expect(wait.stdout == "bound oid-carol\n")
        #expect(
            try run(Binaries.openidctl, socket + ["wait", "no-such-serial", "--timeout", "1"]).status == 3)
        let status = try run(Binaries.openidctl, socket + ["status"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("bindings          1"))
        let statusJSON = try run(Binaries.openidctl, socket + ["status", "--json"])
        #expect(statusJSON.stdout.hasPrefix("{\"status\":\"ok\""))

        // Bad usage is 2; a daemon error is 1 with its message.
        #expect(try run(Binaries.openidctl, socket + ["frobnicate"]).status == 2)
        #expect(try run(Binaries.openidctl, socket + ["get"]).status == 2)
        let refused = try run(Binaries.openidctl, socket + ["auth-url", "eve", "--serial", "ctl-serial-1"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("serialNo was already used"))
    }

    @Test func openidctlSaysWhatToDoWhenTheDaemonIsNotThere() throws {
        let result = try run(
            Binaries.openidctl, ["--socket", "/tmp/openidd-no-such-dir/openidd.sock", "status"])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "is openidd running? socket /tmp/openidd-no-such-dir/openidd.sock not found"))
    }

    @Test func sandboxBindsAUserEndToEnd() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.openidd)
        process.arguments = ["--sandbox"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var banner = ""
        while !banner.contains("Ctrl-C") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        #expect(banner.contains("SANDBOX"))
        #expect(banner.contains("loopback"))
        let socketLine = try #require(banner.split(separator: "\n").first { $0.contains("IPC socket:") })
        let socket = String(socketLine.split(separator: " ").last!)
        let sandboxDirectory = URL(fileURLWithPath: socket).deletingLastPathComponent().path
        defer { try? FileManager.default.removeItem(atPath: sandboxDirectory) }

        let issued = try run(Binaries.openidctl, ["--socket", socket, "auth-url", "alice"])
        #expect(issued.status == 0)
        let link = String(issued.stdout.split(separator: "\n")[0])
        #expect(link.hasPrefix("http://127.0.0.1:"))
        let authorized = try run("/usr/bin/curl", ["-s", link])
        #expect(authorized.stdout.contains("SUCCESS"), "\(authorized.stdout)")
        let get = try run(Binaries.openidctl, ["--socket", socket, "get", "alice"])
        #expect(get.status == 0)
        #expect(get.stdout.hasPrefix("sandbox_"))
        // status names the sandbox's configuration as such.
        let status = try run(Binaries.openidctl, ["--socket", socket, "status"])
        #expect(status.stdout.contains("configPath        \(sandboxDirectory)/config.json (sandbox)\n"))
        let statusJSON = try run(Binaries.openidctl, ["--socket", socket, "--json", "status"])
        let health = try JSONSerialization.jsonObject(with: Data(statusJSON.stdout.utf8)) as? [String: Any]
        #expect(health?["sandbox"] as? Bool == true)
        #expect(health?["configPath"] as? String == sandboxDirectory + "/config.json")
    }
}

extension DaemonUnderTest {
    /// The callback token of a request, read from the journal (as the platform would know it from callbackUrl).
    func journalToken(serialNo: String) -> String? {
        guard let text = try? String(contentsOfFile: journalPath, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["serialNo"] as? String == serialNo, let token = object["token"] as? String
            else { continue }
            return token
        }
        return nil
    }
}
