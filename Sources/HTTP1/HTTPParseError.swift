/// Why a message was refused, as the status code a server answers with (RFC 9110 §15) and a short
/// sentence naming the rule it broke.
public struct HTTPParseError: Error, Sendable, CustomStringConvertible {
    /// 400, 413, 414, 431, 501 or 505.
    public let status: Int
    public let reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String {
        "HTTP \(status) \(HTTPResponse.reasonPhrase(status)): \(reason)"
    }

    static func badRequest(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 400, reason: reason)
    }
}
