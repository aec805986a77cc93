import Crypto
import Foundation
import Platform
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Both listeners as HTTP/1.1 clients other than ours use them: a chunked body (after
/// `Expect: 100-continue` on the callback port), and one address holding many idle connections.
@Suite struct ListenerHTTPTests {
    /// A platform client that streams its body: Python signs (as the platform would, with its own
    /// libraries) and sends the head with `Expect: 100-continue`, waits for `100 Continue`, then sends
    /// the body in 7-byte chunks with an extension and a trailer. Prints the interim status line, then
    /// the final response.
    func chunkedCallback(_ daemon: DaemonUnderTest, path: String, body: String) throws -> String {
        let keyFile = daemon.directory.write("platform_private.pem", TestKeys.platform.pkcs8PEM())
        let script = """
            import base64, os, socket, sys, time
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding
            port, path, key_file, business_id = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            body = sys.argv[5].encode()
            nonce, timestamp = os.urandom(8).hex(), str(int(time.time() * 1000))
            signed = f"businessId={business_id}&nonce={nonce}&signType=SHA256-RSA&timestamp={timestamp}"
            key = serialization.load_pem_private_key(open(key_file, "rb").read(), password=None)
            sign = base64.b64encode(key.sign(signed.encode() + body, padding.PKCS1v15(), hashes.SHA256()))
            head = (f"POST {path} HTTP/1.1\\r\\nHost: merchant.example\\r\\nConnection: close\\r\\n"
                    "Content-Type: application/json; charset=utf-8\\r\\n"
                    "Transfer-Encoding: chunked\\r\\nExpect: 100-continue\\r\\n"
                    f"businessId: {business_id}\\r\\nnonce: {nonce}\\r\\nsignType: SHA256-RSA\\r\\n"
                    f"timestamp: {timestamp}\\r\\nsign: {sign.decode()}\\r\\n\\r\\n")
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            connection.sendall(head.encode())
            received = b""
            while b"\\r\\n\\r\\n" not in received:
                data = connection.recv(4096)
                if not data:
                    break
                received += data
            print("interim:", received.split(b"\\r\\n")[0].decode())
            if received.startswith(b"HTTP/1.1 100 "):
                received = received[received.index(b"\\r\\n\\r\\n") + 4:]
                chunks = b""
                for start in range(0, len(body), 7):
                    piece = body[start:start + 7]
                    chunks += b"%x%s\\r\\n%s\\r\\n" % (len(piece), b";n=1" if start == 0 else b"", piece)
                connection.sendall(chunks + b"0\\r\\nX-Trailer: t\\r\\n\\r\\n")
                while True:
                    data = connection.recv(4096)
                    if not data:
                        break
                    received += data
            print(received.decode(errors="replace"))
            """
        let result = try run(
            "/usr/bin/env",
            [
                "python3", "-c", script, String(daemon.callbackPort), path, keyFile,
                DaemonUnderTest.businessId,
                body,
            ])
        guard result.status == 0 else { throw TestFailure("chunked callback failed: \(result.stderr)") }
        return result.stdout
    }

    @Test func aSignedChunkedCallbackAfter100ContinueBinds() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let issued = try daemon.issue(userId: "u-chunked")
        let body = callbackBody(serialNo: issued.serialNo, openId: "oid-chunked")
        let reply = try chunkedCallback(daemon, path: "/openidd/callback/\(issued.token)", body: body)
        #expect(reply.hasPrefix("interim: HTTP/1.1 100 Continue\n"), "\(reply)")
        #expect(reply.contains("HTTP/1.1 200 OK"), "\(reply)")
        #expect(reply.hasSuffix("SUCCESS\n"), "\(reply)")
        let lines = daemon.ledgerLines()
        #expect(lines.count == 1)
        #expect(lines.first?.contains("\"openId\":\"oid-chunked\"") == true, "\(lines)")
        let bound = try daemon.ipc("GET", "/v1/bindings?userId=u-chunked")
        #expect(bound.json["openId"] as? String == "oid-chunked", "\(bound.text)")
        // A head the endpoint refuses on its own is answered at once: no 100, no body sent.
        let elsewhere = try chunkedCallback(daemon, path: "/elsewhere/\(issued.token)", body: body)
        #expect(elsewhere.hasPrefix("interim: HTTP/1.1 404 Not Found\n"), "\(elsewhere)")
        #expect(elsewhere.contains("FAIL not found"), "\(elsewhere)")
    }

    @Test func theIPCSocketReadsAChunkedBodyToo() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let script = """
            import socket, sys
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(10)
            connection.connect(sys.argv[1])
            connection.sendall(b"POST /v1/auth-url HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n"
                               b"Content-Type: application/json\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
                               b"4\\r\\n{\\"us\\r\\nC\\r\\nerId\\":\\"u-ipc\\r\\n3\\r\\n\\"}\\n\\r\\n0\\r\\n\\r\\n")
            received = b""
            while True:
                data = connection.recv(4096)
                if not data:
                    break
                received += data
            print(received.decode(errors="replace"))
            """
        let result = try run("/usr/bin/env", ["python3", "-c", script, daemon.socketPath])
        #expect(result.stdout.hasPrefix("HTTP/1.1 200 OK"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("\"serialNo\""), "\(result.stdout)")
    }

    /// Idle connections from one address take at most `callback.maxConnectionsPerClient` slots; the
    /// platform, from another address, binds at once.
    @Test func oneAddressHolding2000IdleConnectionsDoesNotShutOutTheCallbacks() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let issued = try daemon.issue(userId: "u-crowded")
        // A child process holds the 2,000 connections: with that many descriptors open in the test
        // process, Foundation's Process.run (other tests start daemons meanwhile) reads past the end
        // of its /proc/self/fd listing, which AddressSanitizer reports.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c", Self.idleConnectionHolder, "127.0.0.2", "\(daemon.callbackPort)", "2000",
        ]
        let holderInput = Pipe()
        let holderOutput = Pipe()
        holder.standardInput = holderInput
        holder.standardOutput = holderOutput
        try holder.run()
        defer {
            try? holderInput.fileHandleForWriting.close()
            holder.waitUntilExit()
        }
        // Its first line: how many connections it holds, then what the last one (over the address's
        // cap) was answered: 503, told when to come back, closed.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = holderOutput.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let report = String(decoding: line, as: UTF8.self)
        #expect(report.hasPrefix("held 2000 "), "\(report)")
        #expect(report.contains("HTTP/1.1 503"), "\(report)")
        #expect(report.contains("Retry-After: 1"), "\(report)")
        // The callback from 127.0.0.1 (HTTPClient's source) is served promptly: within a 3 s timeout.
        let answer = try daemon.callback(
            token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "oid-crowded"),
            timeoutSeconds: 3)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.text == "SUCCESS")
        #expect(daemon.log.contains("connection refused: client's limit reached"))
    }

    /// A dual-stack callback listener (`[::]`, as systemd's `ListenStream=PORT`) sees IPv4 peers as
    /// `::ffff:a.b.c.d`; an IPv4 trusted proxy is still recognised: exempt from the per-client cap, and
    /// believed for X-Forwarded-For.
    @Test func anIPv4TrustedProxyOnADualStackListenerIsExemptAndBelieved() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(
            platformUrl: platform.baseUrl,
            extraCallback: #", "maxConnectionsPerClient": 2, "trustedProxies": ["127.0.0.1/32"]"#,
            callbackListen: "[::]:0", directory: directory)
        try daemon.start()
        #expect(daemon.callbackPort != 0)
        let issued = try daemon.issue(userId: "u-proxied")
        // Four idle connections from the proxy's address, over the cap of 2: all held.
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        for _ in 0..<4 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            held.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(daemon.callbackPort).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            try #require(connected == 0, "\(String(cString: strerror(errno)))")
        }
        // A fifth connection, the callback, names its client; the signature is wrong so the security
        // line says whom the daemon believed.
        let body = callbackBody(serialNo: issued.serialNo, openId: "oid-proxied")
        let refused = try daemon.callback(
            token: issued.token, body: body,
            mutateHeaders: { headers in
                headers = headers.map { $0.name == "nonce" ? ("nonce", "tampered") : $0 }
                headers.append(("X-Forwarded-For", "198.51.100.7"))
            })
        #expect(refused.status == 401, "\(refused.text)")
        let answer = try daemon.callback(token: issued.token, body: body)
        #expect(answer.text == "SUCCESS", "\(answer.status) \(answer.text)")
        // The daemon accepts in order, so every held connection was taken in (held, not answered 503).
        for fd in held {
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = buffer.withUnsafeMutableBytes {
                recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            #expect(
                count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "a proxy's connection was refused")
        }
        let log = daemon.log
        let invalid = log.split(separator: "\n").filter {
            $0.contains("security: callback signature invalid")
        }
        #expect(invalid.count == 1, "\(log)")
        #expect(invalid.allSatisfy { $0.contains(" client=198.51.100.7") }, "\(invalid)")
        #expect(!log.contains("client's limit reached"), "\(log)")
    }

    /// Opens COUNT connections from SOURCE to 127.0.0.1:PORT and keeps them open until its standard
    /// input closes; first prints `held COUNT ` and what the last connection was answered, on one line.
    static let idleConnectionHolder = """
        import resource, socket, sys
        source, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))
        held = []
        for _ in range(count):
            connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            connection.bind((source, 0))
            connection.connect(("127.0.0.1", port))
            held.append(connection)
        last = held[-1]
        last.settimeout(5)
        answer = b""
        try:
            while True:
                data = last.recv(4096)
                if not data:
                    break
                answer += data
        except OSError:
            pass
        print("held", len(held), answer.decode(errors="replace").replace("\\r\\n", " "), flush=True)
        sys.stdin.read()
        """
}
