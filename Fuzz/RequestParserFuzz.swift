// libFuzzer target for the HTTP/1.1 request parser and the callback body checks.
// Build and run: Fuzz/run.sh (see README "Hostile input").
import HTTP1

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // All at once, then split at a point the input chooses: the parser must agree with itself.
    var whole = RequestParser()
    whole.append(bytes)
    let wholeResult = drain(&whole)
    if size > 1 {
        let split = Int(bytes[0]) % size
        var pieces = RequestParser()
        pieces.append(UnsafeRawBufferPointer(rebasing: bytes[0..<split]))
        var first = drain(&pieces)
        // After an error the connection is answered and closed: no more input is parsed.
        if first.last?.isError != true {
            pieces.append(UnsafeRawBufferPointer(rebasing: bytes[split...]))
            first += drain(&pieces)
        }
        precondition(first == wholeResult, "parser disagrees with itself when input is split")
    }
    var response = ResponseParser()
    response.append(Array(bytes))
    _ = try? response.next()
    _ = try? response.finish()
    return 0
}

enum Outcome: Equatable {
    case request(method: String, target: String, body: [UInt8], keepAlive: Bool)
    case error(HTTPParseError)

    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}

/// Requests parsed until more input is needed or an error.
func drain(_ parser: inout RequestParser) -> [Outcome] {
    var out: [Outcome] = []
    while true {
        do {
            guard let request = try parser.next() else {
                // Whether a head awaiting its body asked for 100 Continue depends on where input was
                // split: asked, not compared.
                _ = parser.takeContinueExpectation()
                return out
            }
            // The path and query the parser split off while checking the target's bytes are the ones the
            // public initializer finds in the finished string.
            let reference = HTTPRequest(method: request.method, target: request.target)
            precondition(request.path == reference.path, "path differs from the target's")
            precondition(
                request.query.map(\.name) == reference.query.map(\.name)
                    && request.query.map(\.value) == reference.query.map(\.value),
                "query differs from the target's")
            out.append(
                .request(
                    method: request.method, target: request.target, body: request.body,
                    keepAlive: request.keepAlive))
        } catch {
            out.append(.error(error))
            return out
        }
    }
}
