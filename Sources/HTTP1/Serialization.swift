extension HTTPResponse {
    /// The response as HTTP/1.1 bytes: status line, `headers` in order, a computed Content-Length, and
    /// "Connection: close" when `!keepAlive`.
    ///
    /// The serialiser owns framing: Content-Length and Transfer-Encoding in `headers` are dropped, and so
    /// is Connection when `!keepAlive`. 1xx, 204 and 304 carry neither Content-Length nor a body
    /// (RFC 9110 §8.6, RFC 9112 §6.3).
    public func serialized(keepAlive: Bool) -> [UInt8] {
        if keepAlive, let rendered { return rendered }
        precondition((100...999).contains(status), "status \(status) is not a three-digit code")
        let hasBody = !((100...199).contains(status) || status == 204 || status == 304)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + (hasBody ? body.count : 0))
        // Byte by byte, no interpolation: every callback's answer goes through here.
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: Self.reasonPhrase(status).utf8)
        bytes.append(contentsOf: ASCII.crlf)
        for (name, value) in headers {
            if name.equalsIgnoringASCIICase("Content-Length")
                || name.equalsIgnoringASCIICase("Transfer-Encoding")
                || (!keepAlive && name.equalsIgnoringASCIICase("Connection"))
            {
                continue
            }
            appendField(name, value, to: &bytes)
        }
        if hasBody {
            bytes.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(body.count, to: &bytes)
            bytes.append(contentsOf: ASCII.crlf)
        }
        if !keepAlive { appendField("Connection", "close", to: &bytes) }
        bytes.append(contentsOf: ASCII.crlf)
        if hasBody { bytes.append(contentsOf: body) }
        return bytes
    }
}

/// A request as HTTP/1.1 bytes, exactly as given: header names go out byte for byte, because the
/// platform compares them case-sensitively. Content-Length is computed (any in `headers` is dropped, as
/// is Transfer-Encoding) and sent when `body` is non-empty or the method is POST or PUT.
///
/// Bytes that would end the request line or a field early (controls, spaces in the target) are
/// escaped or replaced rather than sent: no caller input can inject a header.
public func serializeRequest(method: String, target: String, headers: HTTPHeaders, body: [UInt8]) -> [UInt8] {
    precondition(ASCII.isToken(method), "method \(method) is not a token")
    var bytes: [UInt8] = []
    bytes.reserveCapacity(256 + target.utf8.count + body.count)
    bytes.append(contentsOf: method.utf8)
    bytes.append(ASCII.space)
    for byte in target.utf8 {
        if byte > ASCII.space && byte < 0x7F {
            bytes.append(byte)
        } else {
            bytes.append(contentsOf: "%\(hexDigit(byte >> 4))\(hexDigit(byte & 0xF))".utf8)
        }
    }
    bytes.append(contentsOf: " HTTP/1.1\r\n".utf8)
    for (name, value) in headers
    where !name.equalsIgnoringASCIICase("Content-Length")
        && !name.equalsIgnoringASCIICase("Transfer-Encoding")
    {
        appendField(name, value, to: &bytes)
    }
    if !body.isEmpty || method == "POST" || method == "PUT" {
        appendField("Content-Length", String(body.count), to: &bytes)
    }
    bytes.append(contentsOf: ASCII.crlf)
    bytes.append(contentsOf: body)
    return bytes
}

private func hexDigit(_ nibble: UInt8) -> Character {
    Character(Unicode.Scalar(nibble < 10 ? nibble + UInt8(ascii: "0") : nibble - 10 + UInt8(ascii: "A")))
}

/// Writes `name: value` CRLF. A name that is not a token is left out and control characters in the value
/// become spaces: a field built from untrusted input must not split the message (RFC 9110 §5.5).
/// A non-negative number in decimal.
private func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
    var divisor = 1
    while divisor <= value / 10 { divisor *= 10 }
    var rest = value
    while divisor > 0 {
        bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
        rest %= divisor
        divisor /= 10
    }
}

private func appendField(_ name: String, _ value: String, to bytes: inout [UInt8]) {
    guard ASCII.isToken(name) else { return }
    bytes.append(contentsOf: name.utf8)
    bytes.append(ASCII.colon)
    bytes.append(ASCII.space)
    for byte in value.utf8 {
        bytes.append(ASCII.isFieldContent(byte) ? byte : ASCII.space)
    }
    bytes.append(contentsOf: ASCII.crlf)
}
