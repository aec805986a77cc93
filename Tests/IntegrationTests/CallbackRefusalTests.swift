import Crypto
import Foundation
import Platform
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Every refusal SPEC lists for the callback endpoint: the right status, a `FAIL <reason>` body, and no
/// ledger line.
@Suite struct CallbackRefusalTests {
    /// One daemon with a pending request, shared by the checks of one test.
    struct Fixture {
        let platform: FakePlatform
        let daemon: DaemonUnderTest
        let serialNo: String
        let token: String

        init(ttlSeconds: Int = 3600, extraCallback: String = "") throws {
            let directory = TemporaryDirectory()
            platform = try FakePlatform(in: directory)
            daemon = DaemonUnderTest(
                platformUrl: platform.baseUrl, ttlSeconds: ttlSeconds, extraCallback: extraCallback,
                directory: directory)
            try daemon.start()
            let issued = try daemon.issue(userId: "u-42")
            serialNo = issued.serialNo
            token = issued.token
        }

        func expectRefused(
            _ answer: DaemonUnderTest.Answer, _ status: Int, _ reason: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(answer.status == status, "\(answer.text)", sourceLocation: sourceLocation)
            #expect(answer.text == "FAIL \(reason)", sourceLocation: sourceLocation)
            #expect(daemon.ledgerLines().isEmpty, sourceLocation: sourceLocation)
        }
    }

    /// A repeated auth header is refused before anything is believed: which value counts is a guess two
    /// parsers (a proxy's and ours) may make differently. The first of each is a valid signature here.
    @Test func aRepeatedAuthHeaderIs400() throws {
        let f = try Fixture()
        let body = callbackBody(serialNo: f.serialNo, openId: "oid-1")
        for (name, value) in [("Sign", "AAAA"), ("businessid", "another-business"), ("nonce", "n2")] {
            f.expectRefused(
                try f.daemon.callback(token: f.token, body: body) { $0.append((name, value)) }, 400,
                "duplicate header")
        }
    }

    @Test func badSignaturesAre401() throws {
        let f = try Fixture()
        let body = callbackBody(serialNo: f.serialNo, openId: "oid-1")
        // Each signature sent, and the one that would have verified in its place: neither may be logged.
        var signatures: [String] = []
        func callback(
            signWith keys: SigningKeys? = nil, signType: SignType? = nil,
            _ edit: (inout [(name: String, value: String)]) -> Void = { _ in }
        ) throws -> DaemonUnderTest.Answer {
            try f.daemon.callback(token: f.token, body: body, signType: signType, signWith: keys) { headers in
                edit(&headers)
                let unsigned = headers.filter { $0.name != "sign" }
                signatures += headers.filter { $0.name == "sign" }.map(\.value)
                signatures.append(
                    try! SigningKeys(merchantPrivateKey: TestKeys.platform).sign(
                        StringToSign.make(headers: unsigned, body: Array(body.utf8)), type: .sha256RSA))
            }
        }
        // Signed with the wrong key (the merchant's own, not the platform's).
        f.expectRefused(
            try callback(signWith: SigningKeys(merchantPrivateKey: TestKeys.merchant)), 401,
            "signature invalid")
        // A signature over the same headers but another body: the signature covers the raw bytes.
        f.expectRefused(
            try callback { headers in
                let unsigned = headers.filter { $0.name != "sign" }
                let other = Array(callbackBody(serialNo: f.serialNo, openId: "oid-2").utf8)
                let sign = try! SigningKeys(merchantPrivateKey: TestKeys.platform).sign(
                    StringToSign.make(headers: unsigned, body: other), type: .sha256RSA)
                headers = unsigned + [("sign", sign)]
            }, 401, "signature invalid")
        // The same body re-encoded (spaces added) no longer matches: never re-encode before verifying.
        f.expectRefused(
            try callback { headers in
                let unsigned = headers.filter { $0.name != "sign" }
                let reencoded = Array(body.replacingOccurrences(of: ",", with: ", ").utf8)
                let sign = try! SigningKeys(merchantPrivateKey: TestKeys.platform).sign(
                    StringToSign.make(headers: unsigned, body: reencoded), type: .sha256RSA)
                headers = unsigned + [("sign", sign)]
            }, 401, "signature invalid")
        // A signed header changed after signing.
        f.expectRefused(
            try callback { headers in
                headers = headers.map { $0.name == "nonce" ? ("nonce", "tampered") : $0 }
            }, 401, "signature invalid")
        // Missing sign.
        f.expectRefused(
            try callback { headers in headers.removeAll { $0.name == "sign" } }, 401, "signature missing")
        // Garbage sign.
        f.expectRefused(
            try callback { headers in
                headers = headers.map { $0.name == "sign" ? ("sign", "!!not base64!!") : $0 }
            }, 401, "signature invalid")
        // MD5 is not configured for this RSA merchant.
        f.expectRefused(try callback(signType: .md5), 401, "signType MD5 not configured")
        // Unknown signType.
        f.expectRefused(
            try callback { headers in
                headers = headers.map { $0.name == "signType" ? ("signType", "SHA1") : $0 }
            }, 400, "unknown signType")

        // One security line per invalid signature, naming the request and the client.
        let log = f.daemon.log
        let invalid = log.split(separator: "\n").filter {
            $0.contains("security: callback signature invalid")
        }
        #expect(invalid.count == 5, "\(log)")
        for line in invalid {
            #expect(line.contains(" request=callback-"), "\(line)")
            #expect(line.contains(" client=127.0.0.1"), "\(line)")
            #expect(line.contains(" audit=signature_invalid"), "\(line)")
        }
        #expect(log.contains("callback signed with an unconfigured signType"))
        // Neither a signature received nor an expected one is logged, nor the MD5 key.
        #expect(signatures.count == 15)
        for signature in signatures {
            #expect(!log.contains(signature), "\(signature)")
        }
        #expect(!log.contains(TestKeys.md5Key))
    }

    @Test func aValidSignatureWithoutSignTypeUsesTheConfiguredType() throws {
        let f = try Fixture()
        let answer = try f.daemon.callback(
            token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid-1")
        ) {
            headers in
            // Re-sign without the signType header, as a platform that omits it would.
            let body = Array(callbackBody(serialNo: f.serialNo, openId: "oid-1").utf8)
            var unsigned: [(name: String, value: String)] = [
                ("businessId", DaemonUnderTest.businessId), ("nonce", "abc"), ("timestamp", "1700000000000"),
            ]
            let sign = try! SigningKeys(merchantPrivateKey: TestKeys.platform).sign(
                StringToSign.make(headers: unsigned, body: body), type: .sha256RSA)
            unsigned.append(("sign", sign))
            headers = unsigned
        }
        #expect(answer.text == "SUCCESS")
        #expect(f.daemon.ledgerLines().count == 1)
    }

    @Test func aCallbackSignedByAnIndependentSignerBinds() throws {
        // Python's `cryptography` signs, as the real platform's own stack would.
        let f = try Fixture()
        let body = callbackBody(serialNo: f.serialNo, openId: "oid-python")
        let keyFile = f.daemon.directory.write("platform_private.pem", TestKeys.platform.pkcs8PEM())
        let script = """
            import base64, sys
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding
            key = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), password=None)
            message = sys.argv[2].encode()
            print(base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode())
            """
        let stringToSign =
            "businessId=\(DaemonUnderTest.businessId)&nonce=py-nonce&signType=SHA256-RSA&timestamp=1700000000000"
            + body
        let signed = try run("/usr/bin/env", ["python3", "-c", script, keyFile, stringToSign])
        let sign = signed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = try f.daemon.callback(token: f.token, body: body) { headers in
            headers = [
                ("businessId", DaemonUnderTest.businessId), ("nonce", "py-nonce"),
                ("timestamp", "1700000000000"),
                ("signType", "SHA256-RSA"), ("sign", sign),
            ]
        }
        #expect(answer.text == "SUCCESS")
    }

    @Test func badFieldsAre400() throws {
        let f = try Fixture()
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: "not json"), 400, "body is not a JSON object")
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: "[1,2]"), 400, "body is not a JSON object")
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: #"{"openId":"oid"}"#), 400,
            "serialNo missing or malformed")
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: #"{"serialNo":"\#(f.serialNo)"}"#), 400,
            "openId missing")
        for bad in ["", "has space", "semi;colon", String(repeating: "a", count: 129), "ünïcode"] {
            f.expectRefused(
                try f.daemon.callback(token: f.token, body: callbackBody(serialNo: f.serialNo, openId: bad)),
                400,
                "openId malformed")
        }
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: #"{"serialNo":"\#(f.serialNo)","openId":42}"#), 400,
            "openId malformed")
        f.expectRefused(
            try f.daemon.callback(
                token: f.token,
                body: callbackBody(serialNo: f.serialNo, openId: "oid", extra: #","userId":"someone-else""#)),
            400, "userId mismatch")
        f.expectRefused(
            try f.daemon.callback(
                token: f.token,
                body: callbackBody(serialNo: f.serialNo, openId: "oid", extra: #","thirdAccount":"intruder""#)
            ),
            400, "userId mismatch")
        // userId and thirdAccount both sent, disagreeing: refused whichever matches the request (the
        // answer must not hang on which field is read first).
        for (first, second) in [("u-42", "intruder"), ("intruder", "u-42")] {
            f.expectRefused(
                try f.daemon.callback(
                    token: f.token,
                    body: callbackBody(
                        serialNo: f.serialNo, openId: "oid",
                        extra: #","userId":"\#(first)","thirdAccount":"\#(second)""#)),
                400, "userId fields disagree")
        }
        // The alternative openId spellings and a matching userId are accepted.
        let ok = try f.daemon.callback(
            token: f.token, body: #"{"serialNo":"\#(f.serialNo)","open_id":"oid-alt","thirdAccount":"u-42"}"#)
        #expect(ok.text == "SUCCESS")
    }

    /// Flat bodies take a fast parser and everything else Foundation's: both must give the same answers.
    @Test func bodiesOfEveryShapeGetTheSameChecks() throws {
        let f = try Fixture()
        let serial = f.serialNo
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: #"{"serialNo":123,"openId":"oid"}"#), 400,
            "serialNo missing or malformed")
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: #"{"serialNo":"\#(serial)","openId":"oid","n":01}"#),
            400, "body is not a JSON object")
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: #"{"serialNo":"\#(serial)","openId":"oid"} x"#), 400,
            "body is not a JSON object")
        f.expectRefused(
            try f.daemon.callback(
                token: f.token, body: #"{"serialNo":"\#(serial)","openId":"oid","userId":7}"#),
            400, "userId malformed")
        f.expectRefused(
            try f.daemon.callback(
                token: f.token, body: #"{"serialNo":"\#(serial)","openId":"oid","userId":null}"#),
            400, "userId malformed")
        f.expectRefused(
            try f.daemon.callback(
                token: f.token, body: #"{"serialNo":"\#(serial)","openId":["oid"],"ok":true}"#),
            400, "openId malformed")
        // Nested values, booleans, fractions and escapes around valid fields: bound.
        let ok = try f.daemon.callback(
            token: f.token,
            body:
                #"{"serialNo":"\#(serial)","openId":"oid\u002dnested","extra":{"a":[1,true,null]},"amount":1.5,"userId":"u-42"}"#
        )
        #expect(ok.text == "SUCCESS")
        #expect(f.daemon.ledgerLines().count == 1)
        #expect(f.daemon.ledgerLines().first?.contains(#""openId":"oid-nested""#) == true)
    }

    @Test func wrongTokenIs403AndUnknownSerialIs404() throws {
        let f = try Fixture()
        let otherToken = SecureRandom.token(byteCount: 32)
        f.expectRefused(
            try f.daemon.callback(token: otherToken, body: callbackBody(serialNo: f.serialNo, openId: "oid")),
            403,
            "token mismatch")
        #expect(f.daemon.log.contains("security: callback path token does not match"))
        f.expectRefused(
            try f.daemon.callback(
                token: f.token, body: callbackBody(serialNo: "never-issued", openId: "oid")), 404,
            "unknown serialNo")
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: "{}", path: "/elsewhere/\(f.token)"), 404, "not found"
        )
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: "{}", path: "/openidd/callback/"), 404, "not found")
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: "", method: "GET"), 405, "method not allowed")
    }

    @Test func secondOpenIdIs409AndRepeatIsIdempotent() throws {
        let f = try Fixture()
        let first = try f.daemon.callback(
            token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid-first"))
        #expect(first.text == "SUCCESS")
        let conflict = try f.daemon.callback(
            token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid-second"))
        #expect(conflict.status == 409)
        #expect(conflict.text == "FAIL serialNo already bound to another openId")
        #expect(f.daemon.log.contains("security: serialNo already bound to another openId"))
        let again = try f.daemon.callback(
            token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid-first"))
        #expect(again.text == "SUCCESS")
        #expect(f.daemon.ledgerLines().count == 1)
        let binding = try f.daemon.ipc("GET", "/v1/bindings?userId=u-42")
        #expect(binding.json["openId"] as? String == "oid-first")
    }

    @Test func expiredRequestIs410() throws {
        let f = try Fixture(ttlSeconds: 1)
        usleep(1_200_000)
        f.expectRefused(
            try f.daemon.callback(token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid")),
            410,
            "request expired")
        #expect(try f.daemon.ipc("GET", "/v1/requests/\(f.serialNo)").json["state"] as? String == "expired")
    }

    @Test func oversizedBodyIs413() throws {
        let f = try Fixture()
        let padding = String(repeating: "x", count: 70 * 1024)
        let answer = try f.daemon.callback(
            token: f.token,
            body: callbackBody(serialNo: f.serialNo, openId: "oid", extra: ",\"pad\":\"\(padding)\""))
        #expect(answer.status == 413)
        #expect(answer.text.hasPrefix("FAIL "))
        #expect(f.daemon.ledgerLines().isEmpty)
        // The daemon still serves.
        let ok = try f.daemon.callback(
            token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid"))
        #expect(ok.text == "SUCCESS")
    }

    /// Issue 5's hostile-input suite at the daemon level: framing attacks, smuggling attempts, huge
    /// headers and bodies, a smuggled signed callback, and a connection flood. The daemon keeps serving
    /// and the ledger holds only the one legitimate binding.
    @Test func hostileInputLeavesTheDaemonServingAndTheLedgerClean() throws {
        let f = try Fixture()
        // A validly signed callback for this request, to smuggle behind the framing attacks.
        let body = callbackBody(serialNo: f.serialNo, openId: "oid-smuggled")
        let auth = try SigningKeys(merchantPrivateKey: TestKeys.platform).authHeaders(
            businessId: DaemonUnderTest.businessId, nonce: "n-smuggle", timestamp: 1, signType: .sha256RSA,
            body: Array(body.utf8))
        let smuggled =
            "POST /openidd/callback/\(f.token) HTTP/1.1\r\nHost: a\r\n"
            + auth.map { "\($0.name): \($0.value)\r\n" }.joined()
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        let path = "/openidd/callback/\(f.token)"
        let cases: [(String, String)] = [
            // CL.TE and TE.CL: a front end and this server must never disagree on where a request ends.
            (
                "POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    + smuggled, "400"
            ),
            (
                "POST \(path) HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                    + smuggled, "400"
            ),
            // A chunked body is read to its last chunk; one whose size is not plain hex is refused.
            (
                "POST \(path) HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n"
                    + smuggled, "400"
            ),
            (
                "POST \(path) HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + smuggled,
                "501"
            ),
            (
                "POST \(path) HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
                    + smuggled, "501"
            ),
            (
                "POST \(path) HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n" + smuggled,
                "501"
            ),
            (
                "POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                    + smuggled, "400"
            ),
            ("POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n" + smuggled, "400"),
            ("POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n" + smuggled, "400"),
            ("POST \(path) HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n Content-Length: 0\r\n\r\n" + smuggled, "400"),
            ("POST \(path) HTTP/1.1\r\nHost: a\r\nX-Bad: a\rb\r\n\r\n", "400"),
            ("POST \(path) HTTP/1.1\r\nHost: a\nContent-Length: 0\r\n\r\n", "400"),
            ("POST /openidd/callback/é HTTP/1.1\r\nHost: a\r\n\r\n", "400"),
            ("GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: a\r\n\r\n", "414"),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 17_000))\r\n\r\n", "431"),
            ("POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n", "413"),
            ("GARBAGE\r\n\r\n", "400"),
        ]
        for (raw, status) in cases {
            let reply = try rawExchange(port: f.daemon.callbackPort, raw)
            #expect(reply.hasPrefix("HTTP/1.1 \(status)"), "\(raw.prefix(90)) → \(reply.prefix(60))")
        }
        #expect(f.daemon.ledgerLines().isEmpty, "a smuggled callback was bound")

        // A flood of idle connections from another address than the platform's: the daemon holds
        // `callback.maxConnectionsPerClient` (64 by default) of them and refuses the rest with 503.
        var flood: [Int32] = []
        defer { for fd in flood { close(fd) } }
        for number in 0..<300 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #expect(fd >= 0)
            flood.append(fd)
            // connect(2) gives up after SO_SNDTIMEO rather than waiting on a full backlog.
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var source = sockaddr_in()
            source.sin_family = sa_family_t(AF_INET)
            source.sin_addr.s_addr = inet_addr("127.0.0.2")
            let bound = withUnsafePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(f.daemon.callbackPort).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            try #require(
                bound == 0 && connected == 0,
                "flood connection \(number): \(String(cString: strerror(errno)))")
        }
        let ok = try f.daemon.callback(
            token: f.token, body: callbackBody(serialNo: f.serialNo, openId: "oid-real"))
        #expect(ok.text == "SUCCESS")
        let lines = f.daemon.ledgerLines()
        #expect(lines.count == 1)
        #expect(lines.first?.contains("\"openId\":\"oid-real\"") == true)
        // The daemon accepts in the order the connections were made, so by the time the real callback
        // was answered it had taken each flood connection in: held, or answered 503 and closed.
        var refused = 0
        for fd in flood {
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = buffer.withUnsafeMutableBytes {
                recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            if count > 0 {
                let reply = String(decoding: buffer[0..<count], as: UTF8.self)
                #expect(reply.hasPrefix("HTTP/1.1 503"), "\(reply.prefix(60))")
                refused += 1
            } else {
                #expect(
                    count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "a held connection was closed")
            }
        }
        #expect(refused == 300 - 64)
        #expect(try f.daemon.ipc("GET", "/v1/health").status == 200)
    }
}

/// Sends raw bytes over TCP and returns whatever comes back before the server closes.
func rawExchange(port: Int, _ request: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { throw TestFailure("connect failed") }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        reply += buffer[0..<count]
    }
    return String(decoding: reply, as: UTF8.self)
}
