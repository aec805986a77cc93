import Config
import Correlation
import Foundation
import HTTP1
import HTTPServer
import JSON
import Logging
import Platform

/// The public callback endpoint (三方授权回调): `POST {publicUrl path}/{token}` from the platform.
///
/// Checks, in an order that tells an unauthenticated caller nothing: signature, then fields, then the
/// request (serialNo, path token, expiry, userId). Answers `SUCCESS` only once the binding is on disk;
/// everything else is `FAIL <reason>`, which makes the platform retry.
public struct CallbackEndpoint: Sendable {
    let service: BindingService
    /// The path of `callback.publicUrl` with one trailing slash, as bytes: every callback's path starts
    /// with it.
    let pathPrefixBytes: [UInt8]
    let trustedProxies: [CIDR]
    let logger: Logger
    /// The body fields that may carry the userId (SPEC: userId, thirdAccount, or the configured name).
    let userIdNames: [String]
    /// The body fields that may carry the openId, in order of preference.
    let openIdNames: [String]
    /// Every accepted callback gets this answer; built and serialized once.
    private static let successResponse = plain(200, "SUCCESS").prerendered()

    public init(
        service: BindingService, publicPath: String, openIdField: String?, trustedProxies: [CIDR],
        logger: Logger
    ) {
        self.service = service
        self.pathPrefixBytes = Array((publicPath.hasSuffix("/") ? publicPath : publicPath + "/").utf8)
        self.trustedProxies = trustedProxies
        self.logger = logger
        let configured = service.settings.account.userIdField
        self.userIdNames =
            ["userId", "thirdAccount"]
            + (["userId", "thirdAccount"].contains(configured) ? [] : [configured])
        self.openIdNames = openIdField.map { [$0] } ?? ["openId", "openid", "open_id"]
    }

    /// Answers a callback through `responder`: at once for a refusal, or once the binding is on disk.
    /// Never blocks: it runs on the callback port's event loop. (The responder itself, not its method
    /// as a closure: that would be one more allocation per callback.)
    public func handle(_ request: HTTPRequest, peer: Peer, responder: some CallbackResponder) {
        let caller = Caller(
            logger: logger, requestId: peer.requestId, client: clientAddress(request, peer: peer))
        switch verify(request, caller: caller) {
        case .refused(let response):
            service.metrics.callbacks.refused(status: response.status)
            responder.respond(response)
        case .accepted(let serialNo, let token, let openId, let userId):
            // 3. The request it answers. The completion captures what it uses, not this whole endpoint
            // (copying every field of it into each callback's closure).
            let metrics = service.metrics
            service.bind(serialNo: serialNo, token: token, openId: openId, userId: userId) { outcome in
                let response = Self.answer(outcome, serialNo: serialNo, openId: openId, caller: caller)
                metrics.callbacks.record(outcome, status: response.status)
                responder.respond(response)
            }
        }
    }

    /// Whom a callback's log lines name: made into a logger with that context only for a line that is
    /// written (nearly every callback writes only its `bound` line, whose fields go in directly).
    struct Caller: Sendable {
        let logger: Logger
        let requestId: String
        let client: String

        var log: Logger { logger.with(("request", requestId), ("client", client)) }
    }

    private enum Verified {
        case refused(HTTPResponse)
        case accepted(serialNo: String, token: String, openId: String, userId: String?)
    }

    /// 404 or 405 for a request this endpoint does not serve, decided on its head alone (so a client
    /// that sent `Expect: 100-continue` is answered before it sends the body); nil otherwise.
    public func headRefusal(_ request: HTTPRequest) -> HTTPResponse? {
        guard case .refused(let response) = route(request) else { return nil }
        return response
    }

    private enum Route {
        case refused(HTTPResponse)
        case callback(token: String)
    }

    /// The path token of a POST to a callback path, or the refusal of anything else.
    private func route(_ request: HTTPRequest) -> Route {
        // Compared and cut as UTF-8 bytes (a received path is ASCII): `hasPrefix`, `count` and
        // `dropFirst` on the String walk it by Characters, which costs more than the rest of the checks.
        var path = request.path
        let prefixLength = pathPrefixBytes.count
        let underPrefix = path.withUTF8 { path in
            pathPrefixBytes.withUnsafeBufferPointer { prefix in
                path.count >= prefix.count
                    && UnsafeBufferPointer(rebasing: path[..<prefix.count]).elementsEqual(prefix)
            }
        }
        guard underPrefix else { return .refused(renderCallbackError(status: 404, reason: "not found")) }
        let token = String(path[path.utf8.index(path.startIndex, offsetBy: prefixLength)...])
        guard Validation.isValidSerialNo(token) || Validation.isValidOpenId(token) else {
            return .refused(renderCallbackError(status: 404, reason: "not found"))
        }
        guard request.method == "POST" else {
            var response = renderCallbackError(status: 405, reason: "method not allowed")
            response.headers.add("Allow", "POST")
            return .refused(response)
        }
        return .callback(token: token)
    }

    /// Checks signature and fields; what it returns is either a refusal or a callback to bind.
    private func verify(_ request: HTTPRequest, caller: Caller) -> Verified {
        let token: String
        switch route(request) {
        case .refused(let response): return .refused(response)
        case .callback(let routed): token = routed
        }

        // 1. Signature over the auth headers as received and the raw body bytes.
        let auth = AuthHeaders(request.headers)
        guard auth.repeated == nil else {
            return .refused(renderCallbackError(status: 400, reason: "duplicate header"))
        }
        guard let sign = auth.sign, !sign.isEmpty else {
            return .refused(renderCallbackError(status: 401, reason: "signature missing"))
        }
        let signType: SignType
        if let declared = auth.signType, !declared.isEmpty {
            guard let known = SignType(rawValue: declared) else {
                return .refused(renderCallbackError(status: 400, reason: "unknown signType"))
            }
            signType = known
        } else {
            signType = service.settings.account.signType
        }
        let stringToSign = StringToSign.make(receivedHeaders: request.headers, body: request.body)
        switch service.keys.verify(stringToSign, signature: sign, type: signType) {
        case .valid: break
        case .invalid:
            caller.log.security(
                .signatureInvalid, "callback signature invalid", [("signType", signType.rawValue)])
            return .refused(renderCallbackError(status: 401, reason: "signature invalid"))
        case .noKey:
            caller.log.security(
                .signTypeUnconfigured, "callback signed with an unconfigured signType",
                [("signType", signType.rawValue)])
            return .refused(
                renderCallbackError(status: 401, reason: "signType \(signType.rawValue) not configured"))
        }
        guard auth.businessId == service.settings.account.businessId else {
            caller.log.security(
                .businessIdMismatch, "callback for another businessId",
                [("businessId", auth.businessId ?? "")])
            return .refused(renderCallbackError(status: 401, reason: "businessId mismatch"))
        }

        // 2. Fields.
        let object: JSONValue
        switch CallbackBody.parse(request.body) {
        case .object(let parsed): object = parsed
        case .refused(let reason): return .refused(renderCallbackError(status: 400, reason: reason))
        }
        guard case .string(let serialNo) = object["serialNo"], Validation.isValidSerialNo(serialNo) else {
            return .refused(renderCallbackError(status: 400, reason: "serialNo missing or malformed"))
        }
        // Every name that may carry the openId must hold a valid one, and where several are sent they
        // must agree, like the userId's names below.
        var foundOpenId: String?
        for name in openIdNames {
            guard let value = object[name] else { continue }
            guard case .string(let text) = value, Validation.isValidOpenId(text) else {
                return .refused(renderCallbackError(status: 400, reason: "openId malformed"))
            }
            if let earlier = foundOpenId, earlier != text {
                return .refused(renderCallbackError(status: 400, reason: "openId fields disagree"))
            }
            foundOpenId = text
        }
        guard let openId = foundOpenId else {
            return .refused(renderCallbackError(status: 400, reason: "openId missing"))
        }
        // Every field that may carry the userId must be a string, and where several are sent they must
        // agree: which one to believe is not a choice to make silently (or by hash order).
        var userId: String?
        for name in userIdNames {
            guard let value = object[name] else { continue }
            guard case .string(let text) = value else {
                return .refused(renderCallbackError(status: 400, reason: "\(name) malformed"))
            }
            if let earlier = userId, earlier != text {
                return .refused(renderCallbackError(status: 400, reason: "userId fields disagree"))
            }
            userId = text
        }
        return .accepted(serialNo: serialNo, token: token, openId: openId, userId: userId)
    }

    /// The answer to a bind's outcome (called once the ledger line is durable, or at once for a refusal).
    private static func answer(
        _ outcome: BindingService.CallbackOutcome, serialNo: String, openId: String, caller: Caller
    ) -> HTTPResponse {
        if case .bound(let binding) = outcome {
            // The common case, once per binding: the fields go straight into the line, the caller's
            // first, as its logger's context would put them.
            caller.logger.info(
                "bound",
                [
                    ("request", caller.requestId), ("client", caller.client), ("serialNo", serialNo),
                    ("openId", openId), ("userId", binding.userId),
                ])
            return Self.successResponse
        }
        let requestLog = caller.log.with(("serialNo", serialNo), ("openId", openId))
        switch outcome {
        case .bound:
            return Self.successResponse
        case .repeated:
            requestLog.info("repeated callback; already bound")
            return Self.successResponse
        case .conflict(let existing):
            requestLog.with("userId", existing.userId).security(
                .serialConflict, "serialNo already bound to another openId",
                [("boundOpenId", existing.openId)])
            return renderCallbackError(status: 409, reason: "serialNo already bound to another openId")
        case .unknownSerialNo:
            requestLog.notice("callback for an unknown serialNo")
            return renderCallbackError(status: 404, reason: "unknown serialNo")
        case .tokenMismatch:
            requestLog.security(.tokenMismatch, "callback path token does not match the serialNo")
            return renderCallbackError(status: 403, reason: "token mismatch")
        case .expired:
            requestLog.notice("callback for an expired request")
            return renderCallbackError(status: 410, reason: "request expired")
        case .userIdMismatch:
            requestLog.security(.userIdMismatch, "callback userId does not match the request")
            return renderCallbackError(status: 400, reason: "userId mismatch")
        case .storageFailed(let reason):
            requestLog.error("binding not stored; the platform will retry", [("error", reason)])
            return renderCallbackError(status: 503, reason: "storage")
        }
    }

    /// The peer, or the client a trusted proxy names in X-Forwarded-For (its last entry: the one the
    /// proxy itself appended).
    func clientAddress(_ request: HTTPRequest, peer: Peer) -> String {
        guard let host = peer.host else { return "unix" }
        guard trustedProxies.contains(where: { $0.contains(host) }),
            let forwarded = request.headers["X-Forwarded-For"],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces),
            CIDR.parseAddress(last) != nil
        else { return host }
        return last
    }

}

private func plain(_ status: Int, _ text: String) -> HTTPResponse {
    var headers = HTTPHeaders()
    headers.add("Content-Type", "text/plain; charset=utf-8")
    return HTTPResponse(status: status, headers: headers, body: Array(text.utf8))
}

/// Every refusal on the callback port, the endpoint's and the server's own: `FAIL <reason>`, which
/// makes the platform retry.
public func renderCallbackError(status: Int, reason: String) -> HTTPResponse {
    plain(status, "FAIL \(reason)")
}

/// The auth headers a callback's checks read as text (names compare without case, as HTTP does). The
/// signed ones go into the string to sign straight from the received bytes
/// (`StringToSign.make(receivedHeaders:body:)`).
struct AuthHeaders {
    var sign: String?
    var signType: String?
    var businessId: String?
    /// The first auth header sent more than once, if any: such a callback is refused, since which value
    /// counts is a guess two parsers (a proxy's and ours) may make differently.
    var repeated: String?

    /// A lookup per name, not one pass over every field: received fields stay bytes until asked for,
    /// and a lookup settles most fields on the name's length.
    init(_ headers: ReceivedHeaders) {
        let signs = headers.firstAndCount("sign")
        let signTypes = headers.firstAndCount("signType")
        let businessIds = headers.firstAndCount("businessId")
        sign = signs.first
        signType = signTypes.first
        businessId = businessIds.first
        if signs.count > 1 {
            repeated = "sign"
        } else if businessIds.count > 1 {
            repeated = "businessId"
        } else if signTypes.count > 1 {
            repeated = "signType"
        } else {
            repeated = ["nonce", "timestamp"].first { headers.firstAndCount($0).count > 1 }
        }
    }
}

/// A callback body: a JSON object, read by the one strict parser (no second parser to disagree with).
enum CallbackBody {
    enum Parsed: Equatable {
        case object(JSONValue)
        /// The `FAIL` reason.
        case refused(String)
    }

    static func parse(_ body: [UInt8]) -> Parsed {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            // A repeated key anywhere in the body: which copy counts is exactly what must not be guessed.
            if case .duplicateKey = error.reason { return .refused("duplicate key") }
            return .refused("body is not a JSON object")
        }
        guard case .object = value else { return .refused("body is not a JSON object") }
        return .object(value)
    }
}
