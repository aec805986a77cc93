import HTTP1

/// The header lines of a captured request, as operators have them: pasted from `curl -v` (`> ` and
/// `< ` prefixes, `* ` notes), a tcpdump or a proxy log, with or without the request line, CRLF or LF.
///
/// The lines then go through openidd's own request parser, so a header the daemon would refuse (a
/// space before the colon, a control character) is refused here too, and lookups behave as the
/// daemon's do (first value, ASCII case ignored).
public enum HeaderCapture {
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> HTTPHeaders {
        var fields: [[UInt8]] = []
        var lineNumber = 0
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = unprefixed(Array(rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine))
            if line.isEmpty {
                // The blank line ends a head; what follows (a body, a response) is not ours.
                if fields.isEmpty { continue } else { break }
            }
            if line.starts(with: Array("* ".utf8)) || line == Array("*".utf8) || isCurlDataNote(line) {
                continue
            }
            if line.starts(with: Array("HTTP/".utf8)) {
                // A response's status line: the request's headers, if any, are complete.
                if fields.isEmpty { continue } else { break }
            }
            if fields.isEmpty && isRequestLine(line) { continue }
            guard line.contains(UInt8(ascii: ":")) else {
                let shown = String(decoding: line.prefix(60), as: UTF8.self)
                throw ParseError(
                    description: "line \(lineNumber) is not a header line \"Name: value\": \(shown)")
            }
            // The capture's framing is not the body file's: the parser would hold it against the body.
            let name = String(decoding: line.prefix { $0 != UInt8(ascii: ":") }, as: UTF8.self).lowercased()
            if name == "content-length" || name == "transfer-encoding" { continue }
            fields.append(line)
        }
        guard !fields.isEmpty else {
            throw ParseError(description: "no header lines (\"Name: value\") found")
        }
        var head = Array("POST /capture HTTP/1.0\r\n".utf8)
        for field in fields { head += field + [0x0D, 0x0A] }
        head += [0x0D, 0x0A]
        var parser = RequestParser()
        parser.append(head)
        let request: HTTPRequest?
        do {
            request = try parser.next()
        } catch {
            throw ParseError(
                description: "openidd would refuse these headers (HTTP \(error.status)): \(error.reason)")
        }
        // A complete head always parses to a request; nil would mean the parser wants more bytes.
        guard let request else { throw ParseError(description: "the header lines are incomplete") }
        // The daemon answers a callback with a repeated auth header `400 FAIL duplicate header`.
        if let name = (["sign"] + StringToSign.signedHeaderNames).first(where: {
            request.headers.firstAndCount($0).count > 1
        }) {
            throw ParseError(
                description:
                    "openidd would refuse these headers (HTTP 400): header \(name) appears more than once")
        }
        return HTTPHeaders(request.headers)
    }

    /// `> ` (sent) and `< ` (received) are how `curl -v` marks header lines; a bare `>` or `<` is its blank line.
    private static func unprefixed(_ line: [UInt8]) -> [UInt8] {
        guard let first = line.first, first == UInt8(ascii: ">") || first == UInt8(ascii: "<") else {
            return line
        }
        if line.count == 1 { return [] }
        return line[1] == UInt8(ascii: " ") ? Array(line.dropFirst(2)) : line
    }

    /// `{ [42 bytes data]` and `} [42 bytes data]`: curl's notes on the body it read or wrote.
    private static func isCurlDataNote(_ line: [UInt8]) -> Bool {
        line.starts(with: Array("{ [".utf8)) || line.starts(with: Array("} [".utf8))
    }

    /// `METHOD SP target SP HTTP/x.y`.
    private static func isRequestLine(_ line: [UInt8]) -> Bool {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        return parts.count == 3 && !parts[0].isEmpty && parts[0].allSatisfy { $0 >= 0x41 && $0 <= 0x5A }
            && parts[2].starts(with: Array("HTTP/".utf8))
    }
}
