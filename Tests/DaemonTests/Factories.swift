import Correlation
import Crypto
import Foundation
import HTTP1
import HTTPClient
import Ledger
import Logging
import POSIX
import Platform
import Sandbox
import Testing

@testable import Daemon
@testable import HTTPServer

/// The sandbox's stand-in platform on loopback, one per test run: it checks signed auth-link requests
/// as the platform does and answers with a link; its platform key signs the callbacks tests send.
enum LocalPlatform {
    static let shared = Result { () throws -> SandboxPlatform in
        let platform = try SandboxPlatform(logger: Logger(level: .error, sink: MemorySink()))
        platform.start()
        return platform
    }

    /// Signs as the platform signs its callbacks.
    static func callbackKeys() throws -> SigningKeys {
        SigningKeys(merchantPrivateKey: try shared.get().platformKey)
    }
}

/// A fresh directory under the system's temporary directory, removed when the test is done with it.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "openidd-daemon-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A `BindingService` with its real collaborators: a `Store` in a temporary directory, a
/// `PlatformClient` for the local platform (or for `platformUrl`, where nothing listens), and a logger
/// that keeps its lines in memory. The callback endpoint and the IPC router are made over it.
final class ServiceFixture {
    static let publicPath = "/openidd/callback"
    static let publicUrl = "https://merchant.example" + publicPath

    let directory: TemporaryDirectory
    let service: BindingService
    let logs = MemorySink()
    let logger: Logger
    let metrics: DaemonMetrics

    init(platformUrl: String? = nil, ttlSeconds: Int = 3600, maxPending: Int = 1000) throws {
        directory = try TemporaryDirectory()
        let platform = try LocalPlatform.shared.get()
        let account = PlatformAccount(
            baseUrl: platformUrl ?? platform.baseUrl, businessId: platform.businessId,
            merchantId: platform.merchantId, signType: .sha256RSA, userIdField: "userId")
        let keys = SigningKeys(
            merchantPrivateKey: platform.merchantKey, platformPublicKey: platform.platformKey.publicKey)
        let client = try PlatformClient(account: account, keys: keys, timeoutSeconds: 5, http: HTTPClient())
        let now = WallClock.nowMilliseconds()
        let (store, replayed) = try Store.open(directory: directory.path + "/state", now: now)
        logger = Logger(level: .debug, sink: logs)
        metrics = DaemonMetrics(version: "test", startedAt: now)
        service = BindingService(
            settings: BindingService.Settings(account: account, publicUrl: Self.publicUrl),
            reloadable: BindingService.Reloadable(
                platform: client, ttlSeconds: ttlSeconds, maxPending: maxPending),
            store: store, registry: replayed.registry, logger: logger, metrics: metrics)
    }

    var endpoint: CallbackEndpoint {
        CallbackEndpoint(
            service: service, publicPath: Self.publicPath, openIdField: nil, trustedProxies: [],
            logger: logger)
    }

    var router: IPCRouter {
        IPCRouter(
            service: service,
            facts: StartupFacts(
                version: "test", startedAt: 0, startedAtMonotonic: MonotonicClock.nowNanos(),
                configPath: directory.path + "/config.json", sandbox: false,
                ipcSocket: directory.path + "/openidd.sock", ipcActivated: false,
                callbackListen: "127.0.0.1:0", callbackActivated: false),
            metrics: metrics.registry)
    }

    /// A pending request, issued through the platform as the IPC API issues one.
    func issue(userId: String = "u-42", serialNo: String? = nil) throws -> PendingRequest {
        switch service.issueAuthLink(userId: userId, serialNo: serialNo) {
        case .success(let issued): return issued.request
        case .failure(let error): throw FixtureError("auth link not issued: \(error)")
        }
    }

    /// The ledger file's lines.
    func ledgerLines() throws -> [String] {
        let path = directory.path + "/state/" + Store.ledgerName
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func journal() throws -> String {
        try String(contentsOfFile: directory.path + "/state/" + Store.journalName, encoding: .utf8)
    }

    /// The outcome `bind` hands its completion (from the ledger's sync thread when it writes).
    func bind(serialNo: String, token: String, openId: String, userId: String? = nil) throws
        -> BindingService.CallbackOutcome
    {
        let answer = Answer<BindingService.CallbackOutcome>()
        service.bind(serialNo: serialNo, token: token, openId: openId, userId: userId) { answer.put($0) }
        return try answer.take()
    }

    /// The callback endpoint's answer to `request`, called as the event loop calls it.
    func callback(_ request: HTTPRequest) throws -> HTTPResponse {
        let answer = Answer<HTTPResponse>()
        endpoint.handle(request, peer: Peer(host: "203.0.113.7", requestId: "callback-1"), responder: answer)
        return try answer.take()
    }

    var logText: String { logs.lines.joined(separator: "\n") }
}

/// A value delivered once from another thread; `take` waits for it, at most 10 s.
final class Answer<Value: Sendable>: Sendable {
    private let delivered = DispatchSemaphore(value: 0)
    private let value = Locked<Value?>(nil)

    func put(_ value: Value) {
        self.value.withLock { $0 = value }
        delivered.signal()
    }

    func take() throws -> Value {
        guard delivered.wait(timeout: .now() + 10) == .success, let value = value.withLock({ $0 }) else {
            throw FixtureError("no answer within 10 s")
        }
        return value
    }
}

extension Answer: CallbackResponder where Value == HTTPResponse {
    func respond(_ response: HTTPResponse) { put(response) }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A request as the server's parser hands it to a handler: received bytes, not a built value.
func received(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [])
    throws -> HTTPRequest
{
    var head = "\(method) \(target) HTTP/1.1\r\nHost: merchant.example\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
    var parser = RequestParser()
    parser.append(Array((head + "\r\n").utf8) + body)
    guard let request = try parser.next() else { throw FixtureError("incomplete request: \(head)") }
    return request
}

/// A callback as the platform sends it: `POST {publicUrl}/{token}` with the auth headers signed by
/// `keys` (the platform's key unless given) over the body; `edit` changes the headers after signing.
func signedCallback(
    token: String, body: String, keys: SigningKeys? = nil,
    edit: (inout [(name: String, value: String)]) -> Void = { _ in }
) throws -> HTTPRequest {
    let bytes = Array(body.utf8)
    var headers = try (keys ?? LocalPlatform.callbackKeys()).authHeaders(
        businessId: try LocalPlatform.shared.get().businessId, nonce: SecureRandom.token(byteCount: 16),
        timestamp: WallClock.nowMilliseconds(), signType: .sha256RSA, body: bytes)
    edit(&headers)
    return try received(
        "POST", ServiceFixture.publicPath + "/" + token,
        headers: [("Content-Type", "application/json")] + headers.map { ($0.name, $0.value) }, body: bytes)
}

func callbackBody(serialNo: String, openId: String, userId: String? = nil) -> String {
    var body = #"{"serialNo":"\#(serialNo)","openId":"\#(openId)""#
    if let userId { body += #","userId":"\#(userId)""# }
    return body + "}"
}

extension HTTPResponse {
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (the IPC API's answers).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// `error.code` of an IPC error.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}
