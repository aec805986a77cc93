import Crypto
import Foundation
import HTTP1
import HTTPClient
import HTTPServer
import JSON
import Logging
import POSIX
import Platform

/// A stand-in for the redemption platform on loopback, for `openidd --sandbox`.
///
/// It checks requests the way the platform documents (exact header names, signature over the header
/// part and raw body), answers with a link to itself, and when that link is opened it plays the user
/// authorizing in Alipay: it POSTs a signed callback with a made-up openId to the request's callbackUrl.
public final class SandboxPlatform: Sendable {
    public let server: EventLoopServer
    public let port: UInt16
    private let endpoints: SandboxEndpoints

    public var businessId: String { endpoints.businessId }
    public var merchantId: String { endpoints.merchantId }
    /// The merchant's key pair (the daemon signs with the private half) and the platform's own.
    public var merchantKey: RSAPrivateKey { endpoints.merchantKey }
    public var platformKey: RSAPrivateKey { endpoints.platformKey }
    public var baseUrl: String { endpoints.baseUrl }

    public init(logger: Logger) throws {
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0)
        port = Socket.localPort(listener) ?? 0
        let endpoints = SandboxEndpoints(
            merchantKey: try RSAPrivateKey.generate(bits: 2048),
            platformKey: try RSAPrivateKey.generate(bits: 2048),
            baseUrl: "http://127.0.0.1:\(port)", logger: logger.with("component", "sandbox-platform"))
        self.endpoints = endpoints
        let work = WorkerPool(name: "sandbox-work")
        server = try EventLoopServer(
            name: "sandbox-platform", listener: listener, logger: logger,
            renderError: { status, reason in HTTPResponse(status: status, body: Array(reason.utf8)) },
            handler: { request, _, responder in
                // Authorizing signs a callback and POSTs it to openidd, waiting for the answer: that
                // happens on a worker thread, never on the loop.
                if endpoints.isAuthorization(request) {
                    work.run { responder.respond(endpoints.handle(request)) }
                } else {
                    responder.respond(endpoints.handle(request))
                }
            })
    }

    public func start() { server.start() }
}

/// The platform's endpoints: the auth-link call, and the page that plays the user authorizing.
struct SandboxEndpoints: Sendable {
    let businessId = "sandbox-business"
    let merchantId = "sandbox-merchant"
    let merchantKey: RSAPrivateKey
    let platformKey: RSAPrivateKey
    let baseUrl: String
    let logger: Logger
    private let links = LinkTable()

    init(merchantKey: RSAPrivateKey, platformKey: RSAPrivateKey, baseUrl: String, logger: Logger) {
        self.merchantKey = merchantKey
        self.platformKey = platformKey
        self.baseUrl = baseUrl
        self.logger = logger
    }

    func isAuthorization(_ request: HTTPRequest) -> Bool {
        request.method == "GET" && request.path.hasPrefix("/authorize/")
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        if request.method == "POST" && request.path == AuthLinkCall.path { return authLink(request) }
        if isAuthorization(request) {
            return authorize(serialNo: String(request.path.dropFirst("/authorize/".count)))
        }
        return answer(404, status: 404, message: "no such endpoint", data: .null)
    }

    // MARK: - 获取授权链接

    private func authLink(_ request: HTTPRequest) -> HTTPResponse {
        // The platform's header names are case-sensitive: look for them exactly as documented.
        var exact: [String: String] = [:]
        for (name, value) in request.headers { exact[name] = value }
        for name in ["businessId", "nonce", "timestamp", "sign"] where exact[name] == nil {
            return answer(
                200, status: 2, message: "验签失败: header \(name) missing (names are case-sensitive)",
                data: .null)
        }
        let signType = SignType(rawValue: exact["signType"] ?? "SHA256-RSA") ?? .sha256RSA
        let signed = ["businessId", "nonce", "timestamp", "signType"].compactMap { name in
            exact[name].map { (name: name, value: $0) }
        }
        let keys = SigningKeys(platformPublicKey: merchantKey.publicKey)
        guard signType == .sha256RSA,
            keys.verify(
                StringToSign.make(headers: signed, body: request.body), signature: exact["sign"]!,
                type: .sha256RSA) == .valid
        else {
            return answer(200, status: 2, message: "验签失败", data: .null)
        }
        guard let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any],
            let serialNo = body["serialNo"] as? String, let userId = body["userId"] as? String,
            let callbackUrl = body["callbackUrl"] as? String, body["merchantId"] as? String == merchantId
        else {
            return answer(200, status: 3, message: "参数错误", data: .null)
        }
        links.put(serialNo, LinkTable.Link(userId: userId, callbackUrl: callbackUrl))
        logger.info("sandbox platform issued a link", [("serialNo", serialNo), ("userId", userId)])
        return answer(
            200, status: 420, message: "success",
            data: .object([("alipayAuthUrl", .string("\(baseUrl)/authorize/\(serialNo)"))]))
    }

    // MARK: - The user authorizes; 三方授权回调

    private func authorize(serialNo: String) -> HTTPResponse {
        guard let link = links.get(serialNo) else {
            return text(404, "Unknown serialNo \(serialNo): ask openidd for a new link.\n")
        }
        let openId = "sandbox_" + SecureRandom.token(byteCount: 12)
        let body = JSONValue.object([
            ("serialNo", .string(serialNo)), ("openId", .string(openId)), ("userId", .string(link.userId)),
        ]).encoded()
        guard let url = HTTPURL(link.callbackUrl) else {
            return text(400, "callbackUrl \(link.callbackUrl) is not http(s)\n")
        }
        do {
            let keys = SigningKeys(merchantPrivateKey: platformKey)
            var headers = HTTPHeaders()
            headers.add("Content-Type", "application/json; charset=utf-8")
            for (name, value) in try keys.authHeaders(
                businessId: businessId, nonce: SecureRandom.token(byteCount: 16),
                timestamp: WallClock.nowMilliseconds(),
                signType: .sha256RSA, body: body)
            {
                headers.add(name, value)
            }
            let response = try HTTPClient().send(
                method: "POST", target: url.target, headers: headers, body: body, to: .url(url),
                timeoutSeconds: 10)
            let answer = String(decoding: response.body, as: UTF8.self)
            logger.info(
                "sandbox platform delivered a callback", [("serialNo", serialNo), ("answer", answer)])
            return text(
                200,
                "Authorized (sandbox). The platform POSTed openId \(openId) for userId \(link.userId) to the callbackUrl; openidd answered: \(answer)\n"
            )
        } catch {
            return text(502, "The callback could not be delivered: \(error)\n")
        }
    }

    private func answer(_ http: Int, status: Int, message: String, data: JSONValue) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json;charset=UTF-8")
        return HTTPResponse(
            status: http, headers: headers,
            body: JSONValue.object([
                ("status", .integer(Int64(status))), ("message", .string(message)), ("data", data),
            ]).encoded())
    }

    private func text(_ status: Int, _ body: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }
}

/// Links the sandbox has issued, by serialNo.
final class LinkTable: @unchecked Sendable {
    struct Link { let userId: String; let callbackUrl: String }
    private let lock = Condition()
    private var links: [String: Link] = [:]

    func put(_ serialNo: String, _ link: Link) { lock.withLock { links[serialNo] = link } }
    func get(_ serialNo: String) -> Link? { lock.withLock { links[serialNo] } }
}
