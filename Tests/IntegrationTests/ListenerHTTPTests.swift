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
        try raiseOpenFileLimit(to: 4096)
        let idle = try (0..<2000).map { _ in try connect(from: "127.0.0.2", port: daemon.callbackPort) }
        defer { for fd in idle { close(fd) } }
        // The last one is over the address's cap: refused with 503, told when to come back, closed.
        let refused = receiveAll(idle[idle.count - 1], seconds: 5)
        #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
        #expect(refused.contains("Retry-After: 1"))
        // The callback from 127.0.0.1 (HTTPClient's source) is served promptly: within a 3 s timeout.
        let answer = try daemon.callback(
            token: issued.token, body: callbackBody(serialNo: issued.serialNo, openId: "oid-crowded"),
            timeoutSeconds: 3)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.text == "SUCCESS")
        #expect(daemon.log.contains("connection refused: client's limit reached"))
    }

    /// A blocking TCP connection to the loopback port from `source` (all of 127/8 is local on Linux).
    func connect(from source: String, port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, source, &local.sin_addr)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        guard bound == 0, connected == 0 else {
            close(fd)
            throw TestFailure("connect from \(source): errno \(errno)")
        }
        return fd
    }

    func receiveAll(_ fd: Int32, seconds: Double) -> String {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func raiseOpenFileLimit(to wanted: rlim_t) throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur < wanted else { return }
        limit.rlim_cur = min(wanted, limit.rlim_max)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur >= wanted else {
            throw TestFailure("cannot raise RLIMIT_NOFILE to \(wanted) (hard limit \(limit.rlim_max))")
        }
    }
}
