import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The IPC API's refusals: clear JSON errors with SPEC's status codes.
@Suite struct IPCTests {
    @Test func invalidInputIs400() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let cases: [(String, String)] = [
            ("not json", "invalid_json"),
            ("[]", "invalid_json"),
            (#"{"userId":42}"#, "invalid_user_id"),
            (#"{"userId":""}"#, "invalid_user_id"),
            (#"{"userId":"a\u0001b"}"#, "invalid_user_id"),
            ("{\"userId\":\"\(String(repeating: "u", count: 129))\"}", "invalid_user_id"),
            (#"{"userId":"u","serialNo":"has space"}"#, "invalid_serial_no"),
            (#"{"userId":"u","serialNo":7}"#, "invalid_serial_no"),
            (#"{"userId":"u","extra":1}"#, "unknown_field"),
        ]
        for (body, code) in cases {
            let answer = try daemon.ipc("POST", "/v1/auth-url", body: body)
            #expect(answer.status == 400, "\(body)")
            #expect(answer.errorCode == code, "\(body): \(answer.text)")
            #expect(((answer.json["error"] as? [String: Any])?["message"] as? String)?.isEmpty == false)
        }
        #expect(try daemon.ipc("GET", "/v1/bindings").errorCode == "invalid_query")
        #expect(try daemon.ipc("GET", "/v1/bindings?userId=a&openId=b").errorCode == "invalid_query")
        #expect(try daemon.ipc("GET", "/v1/requests/bad%20serial").status == 400)
        #expect(try daemon.ipc("GET", "/v1/requests/abc?wait=61").errorCode == "invalid_wait")
        #expect(try daemon.ipc("GET", "/v1/requests/abc?wait=x").errorCode == "invalid_wait")
        #expect(platform.records().isEmpty)
    }

    @Test func routingErrors() throws {
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        try daemon.start()
        let missing = try daemon.ipc("GET", "/v2/nothing")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
        let wrongMethod = try daemon.ipc("GET", "/v1/auth-url")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.errorCode == "method_not_allowed")
        #expect(try daemon.ipc("DELETE", "/v1/bindings?userId=x").status == 405)
        #expect(try daemon.ipc("GET", "/v1/requests/unknown-serial").status == 404)
        #expect(try daemon.ipc("GET", "/v1/bindings?userId=nobody").status == 404)
        let none = try daemon.ipc("GET", "/v1/bindings?openId=nobody")
        #expect(none.status == 200)
        #expect((none.json["bindings"] as? [Any])?.isEmpty == true)
        let big = try daemon.ipc(
            "POST", "/v1/auth-url", body: "{\"userId\":\"\(String(repeating: "x", count: 70_000))\"}")
        #expect(big.status == 413)
        #expect(big.errorCode == "body_too_large")
        // Still serving after the refusals.
        #expect(try daemon.ipc("GET", "/v1/health").status == 200)
    }

    @Test func tooManyPendingIs429() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, maxPending: 2, directory: directory)
        try daemon.start()
        let first = try daemon.issue(userId: "a")
        _ = try daemon.issue(userId: "b")
        let third = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"c"}"#)
        #expect(third.status == 429)
        #expect(third.errorCode == "too_many_pending")
        // A binding frees a slot.
        #expect(
            try daemon.callback(token: first.token, body: callbackBody(serialNo: first.serialNo, openId: "o"))
                .text == "SUCCESS")
        #expect(try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"c"}"#).status == 200)
    }

    @Test func keepAliveServesManyRequestsOnOneConnection() throws {
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        try daemon.start()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) {
            $0.copyBytes(from: Array(daemon.socketPath.utf8) + [0])
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(connected == 0)
        let request = Array("GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        // Three pipelined requests, three answers on the same connection.
        let three = request + request + request
        _ = three.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received = ""
        var buffer = [UInt8](repeating: 0, count: 8192)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while received.components(separatedBy: "HTTP/1.1 200").count - 1 < 3 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        #expect(received.components(separatedBy: "HTTP/1.1 200").count - 1 == 3)
    }
}

/// Out of file descriptors: accept fails with EMFILE; the daemon backs off (no busy loop) and serves
/// again as soon as descriptors are free.
@Suite struct DescriptorExhaustionTests {
    @Test func emfileBacksOffAndRecovers() throws {
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", "ulimit -n 48; exec \"$0\" --config \"$1\"", Binaries.openidd, daemon.configPath,
        ]
        _ = FileManager.default.createFile(atPath: daemon.logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: daemon.logPath)
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for _ in 0..<300 where (try? daemon.ipc("GET", "/v1/health")) == nil { usleep(20_000) }
        // Hold more connections than the daemon has descriptors left.
        var held: [Int32] = []
        for _ in 0..<60 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) {
                $0.copyBytes(from: Array(daemon.socketPath.utf8) + [0])
            }
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            held.append(fd)
        }
        // The accept thread meets EMFILE; sample its CPU time over a second: backing off, not spinning.
        usleep(500_000)
        func cpuTicks() -> Int {
            let stat =
                (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8))
                ?? ""
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            return fields.count > 12 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
        }
        let before = cpuTicks()
        sleep(1)
        #expect(cpuTicks() - before < 20, "a busy loop would use about 100 ticks a second")
        #expect(daemon.log.contains("accept failed; retrying every 100 ms"))
        #expect(
            daemon.log.components(separatedBy: "accept failed").count - 1 == 1, "logged once, not per retry")
        // Descriptors come back: the daemon serves again.
        for fd in held { close(fd) }
        var health: DaemonUnderTest.Answer?
        for _ in 0..<100 where health == nil {
            health = try? daemon.ipc("GET", "/v1/health")
            if health == nil { usleep(50_000) }
        }
        #expect(health?.status == 200)
    }
}
