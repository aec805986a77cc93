/// Why a message was refused: one case per rule (RFC 9112, RFC 9110), each mapped to the status a
/// server answers with. Code matches cases; `reason` is the sentence for people.
public enum HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    // The message's lines (RFC 9112 §2.2).
    case bareCR
    case bareLF
    case headerSectionTooLarge(limit: Int)
    case tooManyFields(limit: Int)
    // The start line (RFC 9112 §3, §4, §2.3).
    case invalidByteInRequestLine
    case malformedRequestLine
    case methodNotToken
    case targetTooLong(limit: Int)
    case fragmentInTarget
    case asteriskTargetWithoutOPTIONS
    case absoluteTargetWithoutHost
    case malformedTarget
    case malformedQuery
    case malformedVersion
    case unsupportedVersion
    case malformedStatusLine
    case unexpectedSwitchingProtocols
    // Field lines (RFC 9112 §5, RFC 9110 §5.5).
    case obsFold
    case fieldLineWithoutColon
    case whitespaceBeforeColon
    case fieldNameNotToken
    case invalidFieldValue(name: String)
    // Host (RFC 9112 §3.2).
    case missingHost
    case repeatedHost
    case invalidHost
    // Framing (RFC 9112 §6, §7.1).
    case repeatedContentLength
    case malformedContentLength
    case contentLengthWithTransferEncoding
    case transferEncodingInHTTP10
    case unsupportedTransferCoding(String)
    case bodyTooLarge(limit: Int)
    case malformedChunkSize
    case chunkSizeLineTooLong(limit: Int)
    case chunkExtensionsTooLong(limit: Int)
    case malformedChunkExtension
    case chunkDataWithoutCRLF
    /// The connection ended in the middle of a response.
    case truncated

    /// 400, 413, 414, 431, 501 or 505.
    public var status: Int {
        switch self {
        case .bodyTooLarge: 413
        case .targetTooLong: 414
        case .headerSectionTooLarge, .tooManyFields: 431
        case .unsupportedTransferCoding: 501
        case .unsupportedVersion: 505
        default: 400
        }
    }

    public var reason: String {
        switch self {
        case .bareCR: "bare CR; lines must end with CRLF"
        case .bareLF: "bare LF; lines must end with CRLF"
        case .headerSectionTooLarge(let limit): "header section longer than \(limit) bytes"
        case .tooManyFields(let limit): "more than \(limit) header fields"
        case .invalidByteInRequestLine: "request line contains a control character or non-ASCII byte"
        case .malformedRequestLine: "request line is not \"method target version\""
        case .methodNotToken: "method is not a token"
        case .targetTooLong(let limit): "request target longer than \(limit) bytes"
        case .fragmentInTarget: "request target contains \"#\""
        case .asteriskTargetWithoutOPTIONS: "\"*\" is a target for OPTIONS only"
        case .absoluteTargetWithoutHost: "absolute request target without a host"
        case .malformedTarget: "request target must start with \"/\""
        case .malformedQuery: "query is not form encoding of UTF-8 text"
        case .malformedVersion: "malformed HTTP version"
        case .unsupportedVersion: "only HTTP/1.0 and HTTP/1.1 are supported"
        case .malformedStatusLine: "malformed status line"
        case .unexpectedSwitchingProtocols: "unexpected 101 Switching Protocols"
        case .obsFold: "header line starts with whitespace (obs-fold is not accepted)"
        case .fieldLineWithoutColon: "header line without a colon"
        case .whitespaceBeforeColon: "whitespace between a header name and its colon"
        case .fieldNameNotToken: "header name is not a token"
        case .invalidFieldValue(let name): "value of header \(name) has a control character or is not UTF-8"
        case .missingHost: "HTTP/1.1 request without a Host header"
        case .repeatedHost: "more than one Host header"
        case .invalidHost: "Host header is not a host"
        case .repeatedContentLength: "more than one Content-Length header"
        case .malformedContentLength: "Content-Length is not a decimal number that fits"
        case .contentLengthWithTransferEncoding: "both Content-Length and Transfer-Encoding"
        case .transferEncodingInHTTP10: "Transfer-Encoding in an HTTP/1.0 message"
        case .unsupportedTransferCoding(let codings): "unsupported Transfer-Encoding \(codings)"
        case .bodyTooLarge(let limit): "body longer than \(limit) bytes"
        case .malformedChunkSize: "chunk size is not 1 to 16 hexadecimal digits"
        case .chunkSizeLineTooLong(let limit): "chunk-size line longer than \(limit) bytes"
        case .chunkExtensionsTooLong(let limit): "chunk extensions longer than \(limit) bytes in all"
        case .malformedChunkExtension: "malformed chunk extension"
        case .chunkDataWithoutCRLF: "chunk data not followed by CRLF"
        case .truncated: "connection closed in the middle of a response"
        }
    }

    public var description: String {
        "HTTP \(status) \(HTTPResponse.reasonPhrase(status)): \(reason)"
    }
}
