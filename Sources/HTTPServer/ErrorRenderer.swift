import HTTP1

/// Renders the server's own refusals (malformed request, too large, timeout) in the listener's dialect:
/// JSON errors on the IPC socket, `FAIL <reason>` on the callback port.
public typealias ErrorRenderer = @Sendable (_ status: Int, _ reason: String) -> HTTPResponse

/// Why the server answers a connection itself, before or instead of the handler.
enum Refusal {
    /// The parser refused the request (400, 413, 414, 431, 501, 505).
    case malformed(HTTPParseError)
    /// A request was begun and not finished within the request timeout (408).
    case requestTimeout
    /// A connection cap was reached (503; the client may retry in a second).
    case tooManyConnections

    /// The answer, always closing the connection.
    func serialized(_ render: ErrorRenderer) -> [UInt8] {
        switch self {
        case .malformed(let error):
            return render(error.status, error.reason).serialized(keepAlive: false)
        case .requestTimeout:
            return render(408, "request not received in time").serialized(keepAlive: false)
        case .tooManyConnections:
            var response = render(503, "too many connections")
            response.headers.set("Retry-After", "1")
            return response.serialized(keepAlive: false)
        }
    }
}
