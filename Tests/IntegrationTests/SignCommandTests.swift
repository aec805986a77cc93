import Crypto
import Foundation
import HTTP1
import HTTPClient
import Platform
import Testing

/// `openidctl sign-test` and `openidctl verify-callback` on the real binary, checked against signatures
/// made independently (OpenSSL CLI, Python's `cryptography` and `hashlib`) and against the daemon itself.
@Suite struct SignCommandTests {
    static let nonce = "py-nonce"
    static let timestamp = "1700000000000"
    static let body = #"{"serialNo":"s-unknown-1","openId":"oid-1"}"#

    /// Runs a shell pipeline (for openssl | base64 and friends).
    func shell(_ script: String) throws -> String {
        let result = try run("/bin/sh", ["-c", script])
        guard result.status == 0 else { throw TestFailure("\(script): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The platform's signature, made by Python: SHA256withRSA with `keyFile`, or MD5 with `md5Key`.
    func platformSign(
        _ message: String, keyFile: String? = nil, md5Key: String? = nil, in directory: TemporaryDirectory
    )
        throws -> String
    {
        let messageFile = directory.write("message-\(UUID().uuidString)", message)
        let script = """
            import base64, hashlib, sys
            message = open(sys.argv[1], 'rb').read()
            if sys.argv[2] == 'MD5':
                print(hashlib.md5(message + sys.argv[3].encode()).hexdigest().upper())
            else:
                from cryptography.hazmat.primitives import hashes, serialization
                from cryptography.hazmat.primitives.asymmetric import padding
                key = serialization.load_pem_private_key(open(sys.argv[3], 'rb').read(), password=None)
                print(base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode())
            """
        let arguments = md5Key.map { ["MD5", $0] } ?? ["SHA256-RSA", keyFile!]
        let result = try run("/usr/bin/env", ["python3", "-c", script, messageFile] + arguments)
        guard result.status == 0 else { throw TestFailure("python signing failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A callback capture as `curl -v` shows it, signed over `signedBody` and the headers not left out.
    func capture(
        _ daemon: DaemonUnderTest, signType: SignType = .sha256RSA, signedBody: String = body,
        businessId: String = DaemonUnderTest.businessId, leaveOut: Set<String> = [],
        signWith keyFile: String? = nil
    ) throws -> String {
        let auth: [(name: String, value: String)] = [
            ("businessId", businessId), ("nonce", Self.nonce), ("signType", signType.rawValue),
            ("timestamp", Self.timestamp),
        ]
        let headerPart = auth.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let platformKey =
            keyFile ?? daemon.directory.write("platform_private.pem", TestKeys.platform.pkcs8PEM())
        let sign =
            signType == .md5
            ? try platformSign(headerPart + signedBody, md5Key: TestKeys.md5Key, in: daemon.directory)
            : try platformSign(headerPart + signedBody, keyFile: platformKey, in: daemon.directory)
        var lines = ["> POST /openidd/callback/tok HTTP/1.1", "> Host: merchant.example"]
        lines += (auth + [("sign", sign)]).filter { !leaveOut.contains($0.name) }.map {
            "> \($0.name): \($0.value)"
        }
        lines += ["> Content-Type: application/json; charset=utf-8", ">", ""]
        return lines.joined(separator: "\r\n")
    }

    func verify(_ daemon: DaemonUnderTest, headers: String, body: String = body, json: Bool = false) throws
        -> (
            status: Int32, stdout: String, stderr: String
        )
    {
        let headersFile = daemon.directory.write("headers-\(UUID().uuidString).txt", headers)
        let bodyFile = daemon.directory.write("body-\(UUID().uuidString).json", body)
        return try run(
            Binaries.openidctl,
            (json ? ["--json"] : []) + [
                "verify-callback", "--config", daemon.configPath, "--headers", headersFile, "--body",
                bodyFile,
            ])
    }

    // MARK: sign-test

    @Test func signTestSignsAsOpenSSLDoesAndNeverShowsTheKey() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example/base")
        let result = try run(
            Binaries.openidctl,
            [
                "--json", "sign-test", "--config", daemon.configPath, "--user-id", "u-42", "--serial", "s-1",
                "--nonce", "n-1", "--timestamp", "1628772138668",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let headerPart = try #require(object["headerPart"] as? String)
        let body = try #require(object["body"] as? String)
        let stringToSign = try #require(object["stringToSign"] as? String)
        let sign = try #require(object["sign"] as? String)
        #expect(
            headerPart
                == "businessId=\(DaemonUnderTest.businessId)&nonce=n-1&signType=SHA256-RSA&timestamp=1628772138668"
        )
        #expect(
            body.hasPrefix(
                #"{"merchantId":"mch-eb1b","businessId":"biz-754e0c5d","serialNo":"s-1","userId":"u-42","callbackUrl":"https://merchant.example/openidd/callback/"#
            ))
        #expect(object["bodyLength"] as? Int == body.utf8.count)
        #expect(stringToSign == headerPart + body)

        let message = daemon.directory.write("string-to-sign.txt", stringToSign)
        let key = daemon.directory.path + "/merchant_private.pem"
        #expect(sign == (try shell("openssl dgst -sha256 -sign \(key) \(message) | base64 -w0")))
        let fingerprint = try shell(
            "openssl pkey -in \(key) -pubout -outform DER | openssl dgst -sha256 -c | sed 's/.*= //'")
        #expect(object["keyFingerprint"] as? String == "SHA256:" + fingerprint)

        let head = try #require(object["requestHead"] as? String)
        #expect(
            head.hasPrefix("POST /base/v1/openapi/auth/alipay/url HTTP/1.1\r\nHost: platform.example\r\n"))
        #expect(head.contains("\r\nbusinessId: \(DaemonUnderTest.businessId)\r\nnonce: n-1\r\n"))
        #expect(head.contains("\r\nsignType: SHA256-RSA\r\nsign: \(sign)\r\n"))
        #expect(head.contains("\r\nContent-Length: \(body.utf8.count)\r\n"))

        let text = try run(Binaries.openidctl, ["sign-test", "--config", daemon.configPath])
        #expect(text.status == 0)
        // --config before the command reaches it as well; a later one wins.
        let before = try run(Binaries.openidctl, ["--config", daemon.configPath, "sign-test"])
        #expect(before.status == 0, "\(before.stderr)")
        #expect(before.stdout.contains("string to sign"))
        let overridden = try run(
            Binaries.openidctl,
            ["--config", daemon.directory.path + "/none.json", "sign-test", "--config", daemon.configPath])
        #expect(overridden.status == 0, "\(overridden.stderr)")
        let missing = try run(
            Binaries.openidctl, ["--config", daemon.directory.path + "/none.json", "sign-test"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("none.json"))
        for label in ["header part", "body", "string to sign", "sign type", "key", "sign", "businessId: "] {
            #expect(text.stdout.contains(label))
        }
        for output in [result.stdout, text.stdout] {
            #expect(!quotesKey(output, TestKeys.merchant.pkcs8PEM()))
        }
    }

    @Test func signTestMD5() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example", signType: .md5)
        let result = try run(
            Binaries.openidctl, ["sign-test", "--json", "--config", daemon.configPath, "--sign-type", "MD5"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let stringToSign = try #require(object["stringToSign"] as? String)
        #expect(stringToSign.contains("&signType=MD5&"))
        let message = daemon.directory.write("md5-message.txt", stringToSign + TestKeys.md5Key)
        let expected = try shell("openssl dgst -md5 -r \(message) | cut -d' ' -f1").uppercased()
        #expect(object["sign"] as? String == expected)
        let keyHash = try shell("printf %s '\(TestKeys.md5Key)' | sha256sum | cut -c1-8")
        #expect(
            object["keyFingerprint"] as? String
                == "SHA256 prefix \(keyHash), \(TestKeys.md5Key.utf8.count) bytes")
        let text = try run(Binaries.openidctl, ["sign-test", "--config", daemon.configPath])
        for output in [result.stdout, result.stderr, text.stdout, text.stderr] {
            #expect(!output.contains(TestKeys.md5Key))
        }
    }

    @Test func signTestUsageAndConfigErrors() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let badType = try run(
            Binaries.openidctl, ["sign-test", "--config", daemon.configPath, "--sign-type", "RSA"])
        #expect(badType.status == 2)
        #expect(badType.stderr.contains("--sign-type must be SHA256-RSA or MD5"))
        let noMD5 = try run(
            Binaries.openidctl, ["sign-test", "--config", daemon.configPath, "--sign-type", "MD5"])
        #expect(noMD5.status == 1)
        #expect(noMD5.stderr.contains("platform.md5KeyFile"))
        let missing = try run(
            Binaries.openidctl, ["sign-test", "--config", daemon.directory.path + "/none.json"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("none.json"))
        let noFiles = try run(Binaries.openidctl, ["verify-callback", "--config", daemon.configPath])
        #expect(noFiles.status == 2)
        #expect(noFiles.stderr.contains("--headers FILE and --body FILE"))
    }

    // MARK: verify-callback

    @Test func aValidCaptureIsValid() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let result = try verify(daemon, headers: try capture(daemon))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("VALID"))
        let stringToSign =
            "businessId=\(DaemonUnderTest.businessId)&nonce=\(Self.nonce)&signType=SHA256-RSA&timestamp=\(Self.timestamp)"
            + Self.body
        #expect(result.stdout.contains(stringToSign))
    }

    @Test func aWrongPlatformPublicKeyIsDiagnosedInOneStep() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        // The classic mistake: the merchant's own public key configured as the platform's.
        _ = daemon.directory.write("platform_public.pem", TestKeys.merchant.publicKey.spkiPEM())
        let result = try verify(daemon, headers: try capture(daemon))
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "INVALID: signed with a different key than the platform public key configured"))
        #expect(result.stdout.contains(TestKeys.merchant.publicKey.colonFingerprint))
    }

    @Test func aReEncodedBodyIsDiagnosed() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let pretty = "{\n  \"serialNo\": \"s-unknown-1\",\n  \"openId\": \"oid-1\"\n}\n"
        let result = try verify(daemon, headers: try capture(daemon), body: pretty, json: true)
        #expect(result.status == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        #expect(object["verdict"] as? String == "bytes_differ")
        #expect((object["message"] as? String ?? "").contains("re-serialised as compact JSON"))
    }

    @Test(arguments: ["sign", "businessId", "nonce", "timestamp"])
    func aMissingHeaderIsNamed(name: String) throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let result = try verify(daemon, headers: try capture(daemon, leaveOut: [name]))
        #expect(result.status == 1)
        #expect(result.stdout.contains("the header \(name) is missing"), "\(result.stdout)")
    }

    @Test func aWrongBusinessIdIsNamed() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let result = try verify(daemon, headers: try capture(daemon, businessId: "biz-other"))
        #expect(result.status == 1)
        #expect(result.stdout.contains(#"the businessId header is "biz-other""#))
    }

    @Test func aSHA1SignatureFromTheRightKeyIsNamed() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let key = daemon.directory.write("platform_private.pem", TestKeys.platform.pkcs8PEM())
        let headerPart =
            "businessId=\(DaemonUnderTest.businessId)&nonce=\(Self.nonce)&signType=SHA256-RSA&timestamp=\(Self.timestamp)"
        let message = daemon.directory.write("sha1-message.txt", headerPart + Self.body)
        let sign = try shell("openssl dgst -sha1 -sign \(key) \(message) | base64 -w0")
        let headers = """
            businessId: \(DaemonUnderTest.businessId)
            nonce: \(Self.nonce)
            signType: SHA256-RSA
            timestamp: \(Self.timestamp)
            sign: \(sign)
            """
        let result = try verify(daemon, headers: headers)
        #expect(result.status == 1)
        #expect(result.stdout.contains("over a SHA-1 digest instead of SHA-256"))
    }

    @Test func md5CapturesValidReEncodedAndWrongKey() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example", signType: .md5)
        let valid = try verify(daemon, headers: try capture(daemon, signType: .md5))
        #expect(valid.status == 0, "\(valid.stdout)")
        let reEncoded = try verify(
            daemon, headers: try capture(daemon, signType: .md5),
            body: #"{"serialNo": "s-unknown-1", "openId": "oid-1"}"#)
        #expect(reEncoded.status == 1)
        #expect(reEncoded.stdout.contains("compact JSON"))
        _ = daemon.directory.write("md5.key", "a-different-md5-key\n")
        let wrongKey = try verify(daemon, headers: try capture(daemon, signType: .md5))
        #expect(wrongKey.status == 1)
        #expect(wrongKey.stdout.contains("the MD5 key differs"))
        for output in [valid, reEncoded, wrongKey].flatMap({ [$0.stdout, $0.stderr] }) {
            #expect(!output.contains(TestKeys.md5Key))
            #expect(!output.contains("a-different-md5-key"))
        }
    }

    @Test func anUnparsableCaptureIsAnError() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        let result = try verify(daemon, headers: "nonce: n\nnot a header line\n")
        #expect(result.status == 1)
        #expect(result.stderr.contains("line 2 is not a header line"))
    }

    /// The diagnosis accepts exactly what the daemon accepts: each capture goes to a running daemon's
    /// callback port too. A signature the daemon accepts reaches its serialNo check (404 for this
    /// unknown serialNo); one it refuses gets 401 or `FAIL unknown signType`.
    @Test func agreesWithTheDaemon() throws {
        let daemon = DaemonUnderTest(platformUrl: "https://platform.example")
        try daemon.start()
        let good = try capture(daemon)
        let cases: [(String, String, String)] = [
            ("valid", good, Self.body),
            ("names in another case", good.replacingOccurrences(of: "> sign:", with: "> SIGN:"), Self.body),
            ("trailing newline", good, Self.body + "\n"),
            ("no signType header, signed with it", try capture(daemon, leaveOut: ["signType"]), Self.body),
            (
                "lowercase signType", good.replacingOccurrences(of: "SHA256-RSA", with: "sha256-rsa"),
                Self.body
            ),
            ("unsigned, absent nonce", try unsignedNonceCapture(daemon), Self.body),
            ("other businessId", try capture(daemon, businessId: "biz-other"), Self.body),
        ]
        var accepted: [String] = []
        for (name, headers, body) in cases {
            let verdict = try verify(daemon, headers: headers, body: body)
            let answer = try post(headers: headers, body: body, to: daemon)
            let daemonAccepted = !(answer.status == 401 || answer.text == "FAIL unknown signType")
            #expect(
                (verdict.status == 0) == daemonAccepted,
                "\(name): daemon \(answer.status) \(answer.text); \(verdict.stdout)")
            if daemonAccepted { accepted.append(name) }
        }
        // Both sides of the line are exercised.
        #expect(
            accepted == ["valid", "names in another case", "unsigned, absent nonce"])
    }

    func unsignedNonceCapture(_ daemon: DaemonUnderTest) throws -> String {
        let key = daemon.directory.write("platform_private.pem", TestKeys.platform.pkcs8PEM())
        let headerPart =
            "businessId=\(DaemonUnderTest.businessId)&signType=SHA256-RSA&timestamp=\(Self.timestamp)"
        let sign = try platformSign(headerPart + Self.body, keyFile: key, in: daemon.directory)
        return
            "businessId: \(DaemonUnderTest.businessId)\nsignType: SHA256-RSA\ntimestamp: \(Self.timestamp)\nsign: \(sign)\n"
    }

    /// Replays a capture's headers and body to the daemon's callback endpoint.
    func post(headers capture: String, body: String, to daemon: DaemonUnderTest) throws
        -> DaemonUnderTest.Answer
    {
        var headers = HTTPHeaders()
        for (name, value) in try HeaderCapture.parse(Array(capture.utf8)) where name.lowercased() != "host" {
            headers.add(name, value)
        }
        let response = try HTTPClient().send(
            method: "POST", target: "/openidd/callback/tok_\(UUID().uuidString.prefix(8))", headers: headers,
            body: Array(body.utf8), to: .url(HTTPURL("http://127.0.0.1:\(daemon.callbackPort)")!),
            timeoutSeconds: 10)
        return DaemonUnderTest.Answer(status: response.status, body: response.body)
    }

    /// True when `output` quotes any 16-character run of the key's Base64 body.
    func quotesKey(_ output: String, _ pem: String) -> Bool {
        let body = Array(pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined())
        return stride(from: 0, to: body.count - 16, by: 4).contains {
            output.contains(String(body[$0..<$0 + 16]))
        }
    }
}
