import Config
import Crypto
import Foundation
import HTTP1
import HTTPClient
import JSON
import Platform

// `openidctl sign-test` and `openidctl verify-callback`: the two self-tests for 验签失败. They read the
// daemon's configuration and keys directly (no daemon needed) and never print a key or an expected
// signature.

enum SignCommand: String {
    case signTest = "sign-test"
    case verifyCallback = "verify-callback"
}

/// The options both commands take, after the command word.
struct SignOptions {
    var configPath = Configuration.defaultPath
    var json = false
    var userId: String?
    var serialNo: String?
    var signType: SignType?
    var nonce: String?
    var timestamp: Int64?
    var headersFile: String?
    var bodyFile: String?

    init(_ command: SignCommand, arguments: [String], json: Bool) {
        self.json = json
        var arguments = arguments[...]
        func value(_ option: String) -> String {
            guard let value = arguments.popFirst() else { exitUsage("\(option) needs a value") }
            return value
        }
        while let argument = arguments.popFirst() {
            switch (command, argument) {
            case (_, "--config"): configPath = value(argument)
            case (_, "--json"): self.json = true
            case (_, "--help"), (_, "-h"): exitWithUsage(of: command.rawValue)
            case (.signTest, "--user-id"): userId = value(argument)
            case (.signTest, "--serial"): serialNo = value(argument)
            case (.signTest, "--nonce"): nonce = value(argument)
            case (.signTest, "--sign-type"):
                let text = value(argument)
                guard let type = SignType(rawValue: text) else {
                    exitUsage("--sign-type must be SHA256-RSA or MD5, not \(text)")
                }
                signType = type
            case (.signTest, "--timestamp"):
                let text = value(argument)
                guard let milliseconds = Int64(text), milliseconds >= 0 else {
                    exitUsage("--timestamp needs Unix milliseconds, such as 1628772138668")
                }
                timestamp = milliseconds
            case (.verifyCallback, "--headers"): headersFile = value(argument)
            case (.verifyCallback, "--body"): bodyFile = value(argument)
            default:
                exitUsage("\(command.rawValue) does not take \(argument)")
            }
        }
    }
}

func runSignCommand(_ command: SignCommand, arguments: [String], json: Bool) -> Never {
    let options = SignOptions(command, arguments: arguments, json: json)
    switch command {
    case .signTest: signTest(options)
    case .verifyCallback: verifyCallback(options)
    }
}

/// The configuration and its keys, or exit 1 with the config error (which names the key at fault).
func loadConfiguration(_ path: String) -> (Configuration, SigningKeys) {
    do {
        let configuration = try Configuration.load(path: path)
        return (configuration, try configuration.loadKeys())
    } catch {
        exitError("\(error)")
    }
}

func readFile(_ path: String, what: String) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        exitError("cannot read the \(what) file \(path)")
    }
    return Array(data)
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

func label(_ name: String) -> String { name.padding(toLength: 16, withPad: " ", startingAt: 0) }

// MARK: - sign-test

/// Builds the auth-link request exactly as the daemon does (PlatformClient) and shows what it signs.
func signTest(_ options: SignOptions) -> Never {
    let (configuration, keys) = loadConfiguration(options.configPath)
    var account = configuration.restartOnly.account
    if let signType = options.signType { account.signType = signType }
    let fingerprint: String
    switch account.signType {
    case .sha256RSA:
        guard let key = keys.merchantPrivateKey else {
            exitError("SHA256-RSA needs platform.privateKeyFile in \(options.configPath)")
        }
        fingerprint = KeyFingerprint.of(key.publicKey)
    case .md5:
        guard let key = keys.md5Key else {
            exitError("MD5 needs platform.md5KeyFile in \(options.configPath)")
        }
        fingerprint = KeyFingerprint.ofMD5Key(key)
    }

    // Sample values where none are given, made as the daemon makes them (BindingService).
    var publicUrl = configuration.restartOnly.callback.publicUrl.description
    if publicUrl.hasSuffix("/") { publicUrl.removeLast() }
    let request: PlatformClient.SignedRequest
    do {
        let client = try PlatformClient(
            account: account, keys: keys, timeoutSeconds: configuration.reloadable.platformTimeoutSeconds,
            http: HTTPClient())
        request = try client.signedRequest(
            serialNo: options.serialNo ?? SecureRandom.token(byteCount: 18),
            userId: options.userId ?? "u-sign-test",
            callbackUrl: publicUrl + "/" + SecureRandom.token(byteCount: 32),
            nonce: options.nonce ?? SecureRandom.token(byteCount: 16),
            timestamp: options.timestamp ?? Int64(Date().timeIntervalSince1970 * 1000))
    } catch {
        exitError("\(error)")
    }
    let headerPart = text(StringToSign.make(headers: request.authHeaders, body: []))
    let stringToSign = StringToSign.make(headers: request.authHeaders, body: request.body)
    let sign = request.authHeaders.last { $0.name == "sign" }?.value ?? ""
    let wire = request.bytes
    let head = text(Array(wire.prefix(wire.count - request.body.count)))
    let headLines = head.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)

    if options.json {
        let headers = request.headers.map { JSONValue.array([.string($0.name), .string($0.value)]) }
        print(
            text(
                JSONValue.object([
                    ("headerPart", .string(headerPart)),
                    ("body", .string(text(request.body))),
                    ("bodyLength", .integer(Int64(request.body.count))),
                    ("stringToSign", .string(text(stringToSign))),
                    ("signType", .string(account.signType.rawValue)),
                    ("keyFingerprint", .string(fingerprint)),
                    ("sign", .string(sign)),
                    ("headers", .array(headers)),
                    ("requestHead", .string(head)),
                ]).encoded()))
        exit(0)
    }
    let keyName =
        account.signType == .md5
        ? "MD5 key (platform.md5KeyFile)" : "merchant private key (platform.privateKeyFile); public key"
    print("The auth-link request openidd would send now (nothing is sent).")
    print("")
    print(label("header part") + headerPart)
    print(label("body") + "\(request.body.count) bytes, exactly:")
    print(text(request.body))
    print(label("string to sign") + "\(stringToSign.count) bytes, the header part then the body:")
    print(text(stringToSign))
    print(label("sign type") + account.signType.rawValue)
    print(label("key") + "\(keyName) \(fingerprint)")
    print(label("sign") + sign)
    print("")
    print(
        "HTTP request head as sent (then the body above; the platform compares header names case-sensitively):"
    )
    for line in headLines { print("  " + line) }
    exit(0)
}

// MARK: - verify-callback

/// Checks a captured callback against the configured keys, as the daemon would, and says why it fails.
func verifyCallback(_ options: SignOptions) -> Never {
    guard let headersFile = options.headersFile, let bodyFile = options.bodyFile else {
        exitUsage("verify-callback needs --headers FILE and --body FILE")
    }
    let (configuration, keys) = loadConfiguration(options.configPath)
    let headers: HTTPHeaders
    do {
        headers = try HeaderCapture.parse(readFile(headersFile, what: "headers"))
    } catch {
        exitError("\(headersFile): \(error)")
    }
    let body = readFile(bodyFile, what: "body")
    let diagnosis = SignatureDiagnosis.diagnose(
        headers: headers, body: body, account: configuration.restartOnly.account, keys: keys)

    let signType =
        diagnosis.signType.map {
            $0.rawValue
                + (diagnosis.signTypeFromHeader
                    ? " (signType header)" : " (platform.signType; no signType header)")
        } ?? "unknown"
    if options.json {
        print(
            text(
                JSONValue.object([
                    ("valid", .bool(diagnosis.isValid)),
                    ("verdict", .string(diagnosis.code)),
                    ("message", .string(diagnosis.message)),
                    ("signType", diagnosis.signType.map { .string($0.rawValue) } ?? .null),
                    ("keyFingerprint", diagnosis.keyFingerprint.map { .string($0) } ?? .null),
                    ("stringToSign", .string(text(diagnosis.stringToSign))),
                    ("notes", .array(diagnosis.notes.map { .string($0) })),
                ]).encoded()))
    } else {
        print(label("sign type") + signType)
        if let fingerprint = diagnosis.keyFingerprint, let type = diagnosis.signType {
            let keyName =
                type == .md5
                ? "MD5 key (platform.md5KeyFile)" : "platform public key (platform.platformPublicKeyFile)"
            print(label("key") + "\(keyName) \(fingerprint)")
        }
        print(
            label("string to sign")
                + "\(diagnosis.stringToSign.count) bytes, as openidd builds it from the capture:")
        print(text(diagnosis.stringToSign))
        for note in diagnosis.notes { print(label("note") + note) }
        print(label("verdict") + (diagnosis.isValid ? "VALID: " : "INVALID: ") + diagnosis.message)
    }
    exit(diagnosis.isValid ? 0 : 1)
}
