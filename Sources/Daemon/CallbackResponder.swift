import HTTP1
import HTTPServer

/// Where `CallbackEndpoint.handle` sends its answer: the event loop's `Responder` in the daemon, and
/// a collector in DaemonTests, which call the handler without a socket.
public protocol CallbackResponder: Sendable {
    func respond(_ response: HTTPResponse)
}

extension Responder: CallbackResponder {}
