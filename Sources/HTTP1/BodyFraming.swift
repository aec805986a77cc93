/// How a message's body is delimited (RFC 9112 §6.3), for requests and responses alike.
enum BodyFraming: Equatable {
    case length(Int)
    case chunked
    /// Neither Content-Length nor Transfer-Encoding: a request has no body, a response's runs until
    /// the connection closes.
    case unframed

    /// Reads the framing fields strictly: Transfer-Encoding with Content-Length is the classic
    /// smuggling vector and is refused, as is Transfer-Encoding in HTTP/1.0, whose framing it makes
    /// faulty (§6.1); of the codings only `chunked` alone is read, any other list is 501.
    init(_ headers: ReceivedHeaders, versionMinor: Int, maxBodyBytes: Int) throws(HTTPParseError) {
        let contentLength = try Self.contentLength(headers.firstAndCount("Content-Length"))
        let transferEncodings = headers.values("Transfer-Encoding")
        if !transferEncodings.isEmpty {
            if contentLength != nil { throw .contentLengthWithTransferEncoding }
            if versionMinor == 0 { throw .transferEncodingInHTTP10 }
            let codings = transferEncodings.flatMap(ASCII.listElements)
            guard codings.count == 1, codings[0].equalsIgnoringASCIICase("chunked") else {
                throw .unsupportedTransferCoding(codings.joined(separator: ", "))
            }
            self = .chunked
        } else if let contentLength {
            guard contentLength <= maxBodyBytes else { throw .bodyTooLarge(limit: maxBodyBytes) }
            self = .length(contentLength)
        } else {
            self = .unframed
        }
    }

    /// One Content-Length of digits only: a list, even of equal values, a sign or a value that does not
    /// fit is refused rather than guessed at (§6.3).
    static func contentLength(_ fields: (first: String?, count: Int)) throws(HTTPParseError) -> Int? {
        guard let value = fields.first else { return nil }
        guard fields.count == 1 else { throw .repeatedContentLength }
        guard !value.isEmpty, value.utf8.allSatisfy(ASCII.isDigit), let length = Int(value) else {
            throw .malformedContentLength
        }
        return length
    }
}
