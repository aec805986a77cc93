import Crypto
import HTTP1
import HTTPClient

/// Why the platform gave no link, in terms the IPC API maps to 502 or 504.
public enum PlatformError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The platform answered, but not with a link.
    case refused(platformStatus: Int?, platformMessage: String?, httpStatus: Int)
    /// No complete answer within `platform.timeoutSeconds`.
    case timeout(seconds: Double)
    /// Could not connect, TLS failed, or the answer was not HTTP.
    case unreachable(String)
    /// We could not sign (a key is missing): a configuration problem.
    case signing(String)

    public var description: String {
        switch self {
        case .refused(let status, let message, let http):
            return
                "the platform refused the request (HTTP \(http), status \(status.map(String.init) ?? "none"), message \(message ?? "none"))"
        case .timeout(let seconds): return "the platform did not answer within \(seconds) s"
        case .unreachable(let reason): return "the platform could not be reached: \(reason)"
        case .signing(let reason): return "the request could not be signed: \(reason)"
        }
    }
}

/// Calls the platform on the daemon's behalf.
public struct PlatformClient: Sendable {
    public let account: PlatformAccount
    public let keys: SigningKeys
    public let timeoutSeconds: Double
    private let endpoint: HTTPURL
    private let http: HTTPClient

    public init(account: PlatformAccount, keys: SigningKeys, timeoutSeconds: Double, http: HTTPClient) throws
    {
        guard let url = HTTPURL(account.baseUrl) else {
            throw PlatformError.unreachable("platform.baseUrl \(account.baseUrl) is not an http(s) URL")
        }
        self.account = account
        self.keys = keys
        self.timeoutSeconds = timeoutSeconds
        self.endpoint = url
        self.http = http
    }

    /// The auth-link request, signed, as `requestAuthLink` sends it.
    public struct SignedRequest: Sendable {
        public let target: String
        public let headers: HTTPHeaders
        public let body: [UInt8]
        public let endpoint: HTTPEndpoint
        /// The platform's auth headers in the order sent, `sign` last.
        public let authHeaders: [(name: String, value: String)]

        /// The bytes on the wire, framing included.
        public var bytes: [UInt8] {
            HTTPClient.requestBytes(
                method: "POST", target: target, headers: headers, body: body, to: endpoint)
        }
    }

    /// Builds and signs the auth-link request without sending it (`openidctl sign-test` shows it).
    public func signedRequest(
        serialNo: String, userId: String, callbackUrl: String, nonce: String, timestamp: Int64
    )
        throws(PlatformError) -> SignedRequest
    {
        let body = AuthLinkCall.body(
            account: account, serialNo: serialNo, userId: userId, callbackUrl: callbackUrl)
        let auth: [(name: String, value: String)]
        do {
            auth = try keys.authHeaders(
                businessId: account.businessId, nonce: nonce, timestamp: timestamp,
                signType: account.signType,
                body: body)
        } catch {
            throw .signing("\(error)")
        }
        var headers = HTTPHeaders()
        headers.add("Host", endpoint.hostHeader)
        headers.add("Content-Type", "application/json; charset=utf-8")
        headers.add("Accept", "application/json")
        for (name, value) in auth { headers.add(name, value) }

        let base = endpoint.target.hasSuffix("/") ? String(endpoint.target.dropLast()) : endpoint.target
        let target = (base == "/" ? "" : base) + AuthLinkCall.path
        return SignedRequest(
            target: target, headers: headers, body: body, endpoint: .url(endpoint), authHeaders: auth)
    }

    /// Asks for the Alipay authorization link for `userId`, correlated by `serialNo`.
    public func requestAuthLink(
        serialNo: String, userId: String, callbackUrl: String, nonce: String, timestamp: Int64
    )
        throws(PlatformError) -> String
    {
        let request = try signedRequest(
            serialNo: serialNo, userId: userId, callbackUrl: callbackUrl, nonce: nonce, timestamp: timestamp)
        let response: HTTPResponse
        do {
            response = try http.send(
                method: "POST", target: request.target, headers: request.headers, body: request.body,
                to: request.endpoint, timeoutSeconds: timeoutSeconds)
        } catch {
            if error.kind == .timeout { throw .timeout(seconds: timeoutSeconds) }
            throw .unreachable(error.description)
        }
        switch AuthLinkCall.interpret(httpStatus: response.status, body: response.body) {
        case .link(let link): return link
        case .refused(let status, let message, let http):
            throw .refused(platformStatus: status, platformMessage: message, httpStatus: http)
        }
    }
}
