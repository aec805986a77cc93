import Crypto
import Foundation
import HTTP1
import HTTPClient
import Platform
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built binaries sit next to the test bundle in `.build/<triple>/debug`.
enum Binaries {
    static let directory: String = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }()
    static var openidd: String { directory + "/openidd" }
    static var openidctl: String { directory + "/openidctl" }
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures"
    ).path
}

/// A fresh directory under /tmp, removed when the test's value goes away.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String
    init() {
        var template = Array("/tmp/openidd-test.XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&template)!)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String, mode: Int = 0o600) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(
            atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        return file
    }
}

/// Runs a command to completion and returns its exit status and output.
@discardableResult
func run(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil
)
    throws -> (status: Int32, stdout: String, stderr: String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
        process.terminationStatus, String(decoding: stdoutData, as: UTF8.self),
        String(decoding: stderrData, as: UTF8.self)
    )
}

/// Key material for one test: the merchant's key pair and the platform's key pair, as files.
struct TestKeys {
    static let merchant = try! RSAPrivateKey.generate(bits: 2048)
    static let platform = try! RSAPrivateKey.generate(bits: 2048)
    static let md5Key = "md5-shared-secret-key"
}

/// `fake_platform.py`: the platform, verifying our requests with Python's `cryptography`.
final class FakePlatform: @unchecked Sendable {
    let process = Process()
    let port: Int
    let recordPath: String
    var baseUrl: String { "\(scheme)://\(host):\(port)" }
    private let scheme: String
    private let host: String

    init(
        in directory: TemporaryDirectory, mode: String = "ok", signType: SignType = .sha256RSA,
        userIdField: String = "userId", tls: (cert: String, key: String)? = nil, host: String = "127.0.0.1"
    ) throws {
        recordPath = directory.path + "/platform-\(mode)-\(UUID().uuidString).jsonl"
        let publicKey = directory.write(
            "merchant_public_for_platform.pem", TestKeys.merchant.publicKey.spkiPEM())
        let md5File = directory.write("md5_for_platform.key", TestKeys.md5Key + "\n")
        var arguments = [
            Binaries.fixtures + "/fake_platform.py", "--port", "0", "--business-id",
            DaemonUnderTest.businessId,
            "--merchant-id", DaemonUnderTest.merchantId, "--sign-type", signType.rawValue, "--mode", mode,
            "--record", recordPath, "--user-id-field", userIdField,
        ]
        arguments += signType == .md5 ? ["--md5-key-file", md5File] : ["--merchant-public-key", publicKey]
        if let tls { arguments += ["--tls-cert", tls.cert, "--tls-key", tls.key] }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe()
        process.standardOutput = out
        // Its stderr goes to a file, so a platform that cannot start (Python's `cryptography` missing:
        // `scripts/setup` installs it) says why in the test's failure.
        let errorPath = directory.path + "/platform-\(mode)-stderr-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "),
            let port = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let reason = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            let lastLine = reason.split(separator: "\n").last.map(String.init) ?? "no output"
            throw TestFailure(
                "fake platform did not start (python3 \(Binaries.fixtures)/fake_platform.py): \(lastLine)"
                    + " (scripts/setup installs its prerequisites)")
        }
        self.port = port
        self.scheme = tls == nil ? "http" : "https"
        self.host = host
    }

    deinit {
        // SIGKILL: children of test threads may inherit a blocked SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The requests it received, as recorded (problems found, header names as received, raw body).
    func records() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: recordPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One `openidd` process with its own config, state directory, socket and port.
final class DaemonUnderTest: @unchecked Sendable {
    static let businessId = "biz-754e0c5d"
    static let merchantId = "mch-eb1b"

    let directory: TemporaryDirectory
    let configPath: String
    var process: Process?
    var callbackPort = 0
    let logPath: String
    var socketPath: String { directory.path + "/openidd.sock" }
    var ledgerPath: String { directory.path + "/state/bindings.jsonl" }
    var journalPath: String { directory.path + "/state/pending.jsonl" }
    var environment: [String: String] = [:]
    /// A command the daemon runs under (e.g. `strace` and its options), the daemon's path appended.
    var launcher: [String] = []

    init(
        platformUrl: String, signType: SignType = .sha256RSA, ttlSeconds: Int = 3600, maxPending: Int = 1000,
        timeoutSeconds: Double = 5, extraPlatform: String = "", extraCallback: String = "",
        socketMode: String = "0600", extraIPC: String = "", extraStorage: String = "",
        callbackListen: String = "127.0.0.1:0", directory: TemporaryDirectory = TemporaryDirectory()
    ) {
        self.directory = directory
        _ = directory.write("merchant_private.pem", TestKeys.merchant.pkcs8PEM())
        _ = directory.write("platform_public.pem", TestKeys.platform.publicKey.spkiPEM())
        _ = directory.write("md5.key", TestKeys.md5Key + "\n")
        let keys =
            signType == .md5
            ? "\"md5KeyFile\": \"md5.key\""
            : "\"privateKeyFile\": \"merchant_private.pem\", \"platformPublicKeyFile\": \"platform_public.pem\""
        configPath = directory.write(
            "config.json",
            """
            {
              "platform": {
                "baseUrl": "\(platformUrl)", "businessId": "\(DaemonUnderTest.businessId)",
                "merchantId": "\(DaemonUnderTest.merchantId)", "signType": "\(signType.rawValue)", \(keys),
                "timeoutSeconds": \(timeoutSeconds) \(extraPlatform)
              },
              "callback": { "listen": "\(callbackListen)", "publicUrl": "https://merchant.example/openidd/callback" \(extraCallback) },
              "ipc": { "socketPath": "openidd.sock", "socketMode": "\(socketMode)" \(extraIPC) },
              "storage": { "directory": "state" \(extraStorage) },
              "requests": { "ttlSeconds": \(ttlSeconds), "maxPending": \(maxPending) }
            }
            """)
        logPath = directory.path + "/openidd.log"
    }

    deinit { stop(signal: SIGKILL) }

    /// Starts the daemon and waits until its IPC socket answers (replaying a large ledger takes longer).
    func start(readyWithinSeconds: Double = 15) throws {
        let process = Process()
        let command = launcher + [Binaries.openidd, "--config", configPath]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(readyWithinSeconds)
        while Date() < deadline {
            if !process.isRunning {
                throw TestFailure("openidd exited \(process.terminationStatus): \(self.log)")
            }
            if let health = try? ipc("GET", "/v1/health"), health.status == 200 || health.status == 503 {
                let listen = health.json["callbackListen"] as? String ?? ""
                callbackPort = Int(listen.split(separator: ":").last ?? "") ?? 0
                return
            }
            usleep(20_000)
        }
        throw TestFailure("openidd did not become ready: \(self.log)")
    }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The daemon's stderr as written: to a file, each line starts with a timestamp (LogFormatTests).
    var rawLog: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The daemon's stderr as journald would hold it: each line from its `<N>` priority on, without
    /// the timestamp.
    var log: String {
        rawLog.replacing(#/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /#.anchorsMatchLineEndings(), with: "")
    }

    func ledgerLines() -> [String] {
        guard let text = try? String(contentsOfFile: ledgerPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    struct Answer {
        let status: Int
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    func ipc(_ method: String, _ target: String, body: String? = nil, timeout: Double = 30) throws -> Answer {
        var headers = HTTPHeaders()
        if body != nil { headers.add("Content-Type", "application/json") }
        let response = try HTTPClient().send(
            method: method, target: target, headers: headers, body: Array((body ?? "").utf8),
            to: .unix(path: socketPath),
            timeoutSeconds: timeout)
        return Answer(status: response.status, body: response.body)
    }

    /// Asks for an auth link and returns (serialNo, path token).
    func issue(userId: String, serialNo: String? = nil) throws -> (
        serialNo: String, token: String, answer: Answer
    ) {
        var body = "{\"userId\":\"\(userId)\""
        if let serialNo { body += ",\"serialNo\":\"\(serialNo)\"" }
        body += "}"
        let answer = try ipc("POST", "/v1/auth-url", body: body)
        guard answer.status == 200, let serial = answer.json["serialNo"] as? String,
            let callbackUrl = answer.json["callbackUrl"] as? String
        else { throw TestFailure("auth-url failed: \(answer.status) \(answer.text)") }
        return (serial, String(callbackUrl.split(separator: "/").last!), answer)
    }

    /// POSTs a callback to the daemon's callback port, signed as the platform signs (unless told otherwise).
    func callback(
        token: String, body: String, signType: SignType? = nil, signWith keys: SigningKeys? = nil,
        mutateHeaders: (inout [(name: String, value: String)]) -> Void = { _ in }, path: String? = nil,
        method: String = "POST", timeoutSeconds: Double = 10
    ) throws -> Answer {
        let bytes = Array(body.utf8)
        let type = signType ?? .sha256RSA
        let signing =
            keys ?? SigningKeys(merchantPrivateKey: TestKeys.platform, md5Key: Array(TestKeys.md5Key.utf8))
        var auth = try signing.authHeaders(
            businessId: DaemonUnderTest.businessId, nonce: SecureRandom.token(byteCount: 12),
            timestamp: Int64(Date().timeIntervalSince1970 * 1000), signType: type, body: bytes)
        mutateHeaders(&auth)
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json; charset=utf-8")
        for (name, value) in auth { headers.add(name, value) }
        let url = HTTPURL("http://127.0.0.1:\(callbackPort)")!
        let response = try HTTPClient().send(
            method: method, target: path ?? "/openidd/callback/\(token)", headers: headers, body: bytes,
            to: .url(url),
            timeoutSeconds: timeoutSeconds)
        return Answer(status: response.status, body: response.body)
    }
}

func callbackBody(serialNo: String, openId: String, extra: String = "") -> String {
    "{\"serialNo\":\"\(serialNo)\",\"openId\":\"\(openId)\"\(extra)}"
}
