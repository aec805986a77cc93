/// A response to send, or one received by a client.
public struct HTTPResponse: Sendable {
    public var status: Int { didSet { rendered = nil } }
    public var headers: HTTPHeaders { didSet { rendered = nil } }
    public var body: [UInt8] { didSet { rendered = nil } }
    /// The keep-alive serialization, for a response sent over and over (see `prerendered`); dropped as
    /// soon as any part of the response changes.
    var rendered: [UInt8]?

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The interim answer to `Expect: 100-continue` (RFC 9110 §15.2.1): the client may send the body.
    public static let continueInterim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// This response with its keep-alive bytes computed once, for an answer sent on every request
    /// (the callback's `SUCCESS`): `serialized(keepAlive: true)` then copies nothing and builds nothing.
    public func prerendered() -> HTTPResponse {
        var copy = self
        copy.rendered = serialized(keepAlive: true)
        return copy
    }

    /// The reason phrase of RFC 9110 §15 for `status`; empty for a code it does not define (an empty
    /// reason-phrase is valid, RFC 9112 §4).
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}
