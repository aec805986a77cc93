import Foundation
import Glibc
import TLS
import Testing

/// Real handshakes against `openssl s_server` on 127.0.0.1 with a throwaway PKI made at run time.
@Suite struct TLSSessionTests {
    @Test func handshakeWritesAndReadsUntilCleanEOF() throws {
        let server = try TestServer(certificate: .trusted)
        defer { server.stop() }
        let socket = try connectNonBlocking(port: server.port)
        defer { close(socket) }
        let session = try TLSSession(
            context: try TestPKI.shared.context(), fd: socket, serverName: "localhost")
        try session.handshake(deadlineNanos: deadline(seconds: 5))
        // s_server -rev answers each line reversed and ends the session on "CLOSE".
        try session.write(Array("hello\n".utf8), deadlineNanos: deadline(seconds: 5))
        #expect(try readLine(session) == "olleh\n")
        try session.write(Array("CLOSE\n".utf8), deadlineNanos: deadline(seconds: 5))
        // close_notify reads as a clean end of stream, and stays one.
        #expect(try session.read(maximum: 4096, deadlineNanos: deadline(seconds: 5)) == [])
        #expect(try session.read(maximum: 4096, deadlineNanos: deadline(seconds: 5)) == [])
        session.close()
        session.close()
        let error = try #require(throws: TLSError.self) {
            try session.write([1], deadlineNanos: deadline(seconds: 1))
        }
        #expect(error.description.contains("closed"))
    }

    @Test func serverVanishingWithoutCloseNotifyReadsAsEOF() throws {
        let server = try TestServer(certificate: .trusted)
        let socket = try connectNonBlocking(port: server.port)
        defer { close(socket) }
        let session = try TLSSession(
            context: try TestPKI.shared.context(), fd: socket, serverName: "localhost")
        try session.handshake(deadlineNanos: deadline(seconds: 5))
        try session.write(Array("ping\n".utf8), deadlineNanos: deadline(seconds: 5))
        #expect(try readLine(session) == "gnip\n")
        server.stop()  // killed: the kernel closes the TCP connection, no TLS close_notify is sent
        #expect(try session.read(maximum: 4096, deadlineNanos: deadline(seconds: 5)) == [])
    }

    @Test func ipLiteralIsVerifiedAgainstTheCertificateAddress() throws {
        let server = try TestServer(certificate: .trusted)
        defer { server.stop() }
        let socket = try connectNonBlocking(port: server.port)
        defer { close(socket) }
        let session = try TLSSession(
            context: try TestPKI.shared.context(), fd: socket, serverName: "127.0.0.1")
        try session.handshake(deadlineNanos: deadline(seconds: 5))
    }

    @Test(arguments: ["wrong.example", "127.0.0.2"])
    func wrongNameFailsWithMismatch(name: String) throws {
        let server = try TestServer(certificate: .trusted)
        defer { server.stop() }
        let socket = try connectNonBlocking(port: server.port)
        defer { close(socket) }
        let session = try TLSSession(context: try TestPKI.shared.context(), fd: socket, serverName: name)
        let error = try #require(throws: TLSError.self) {
            try session.handshake(deadlineNanos: deadline(seconds: 5))
        }
        #expect(error.description.contains("certificate verify failed"))
        #expect(error.description.contains("mismatch"))
        #expect(error.description.contains(name))
        #expect(!error.isTimeout)
    }

    @Test func untrustedIssuerFails() throws {
        let server = try TestServer(certificate: .signedByRogueCA)
        defer { server.stop() }
        let socket = try connectNonBlocking(port: server.port)
        defer { close(socket) }
        let session = try TLSSession(
            context: try TestPKI.shared.context(), fd: socket, serverName: "localhost")
        let error = try #require(throws: TLSError.self) {
            try session.handshake(deadlineNanos: deadline(seconds: 5))
        }
        #expect(
            error.description.contains("certificate verify failed: unable to get local issuer certificate"))
        #expect(!error.isTimeout)
    }

    @Test func silentServerTimesOut() throws {
        // The kernel completes the TCP handshake for a listening socket; nobody ever answers TLS.
        let (listener, socket, session) = try sessionToASilentServer()
        defer {
            close(socket)
            close(listener)
        }
        let until = deadline(seconds: 0.2)
        let error = try #require(throws: TLSError.self) {
            try session.handshake(deadlineNanos: until)
        }
        #expect(error.isTimeout)
        #expect(error.description.contains("timed out"))
        // Not before the deadline: the monotonic clock is past it when the handshake gives up.
        #expect(deadline(seconds: 0) >= until)
    }

    @Test func aDeadlineAlreadyPastTimesOutAtOnce() throws {
        let (listener, socket, session) = try sessionToASilentServer()
        defer {
            close(socket)
            close(listener)
        }
        let error = try #require(throws: TLSError.self) {
            try session.handshake(deadlineNanos: deadline(seconds: 0) - 1)
        }
        #expect(error.isTimeout)
    }

    @Test func emptyServerNameIsRefused() throws {
        let error = try #require(throws: TLSError.self) {
            try TLSSession(context: try TestPKI.shared.context(), fd: 0, serverName: "")
        }
        #expect(error.description.contains("name"))
    }
}

// MARK: - Fixtures

private func deadline(seconds: Double) -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec) + UInt64(seconds * 1e9)
}

private func readLine(_ session: TLSSession) throws -> String {
    var received: [UInt8] = []
    while !received.contains(UInt8(ascii: "\n")) {
        let chunk = try session.read(maximum: 4096, deadlineNanos: deadline(seconds: 5))
        guard !chunk.isEmpty else { break }
        received += chunk
    }
    return String(decoding: received, as: UTF8.self)
}

/// A throwaway CA trusted through SSL_CERT_FILE, a second CA that is not, and server certificates
/// for localhost / 127.0.0.1 from each. Made once per test run in a temporary directory.
private struct TestPKI: Sendable {
    let directory: URL

    static let shared: Result<TestPKI, TestFailure> = Result { try TestPKI() }.mapError {
        TestFailure("\($0)")
    }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "openidd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        pkiDirectoryToRemove = directory.path
        atexit { pkiDirectoryToRemove.map { _ = try? FileManager.default.removeItem(atPath: $0) } }
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            to: directory.appendingPathComponent("san.cnf"), atomically: true, encoding: .utf8)
        // EC keys: instant to generate, and the client must verify them just as it would RSA.
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["trusted", "rogue"] {
            try openssl(
                ["req", "-x509"] + ec + [
                    "-keyout", "\(ca)-ca.key", "-out", "\(ca)-ca.pem", "-subj", "/CN=openidd test \(ca) CA",
                    "-days", "1",
                ])
            try openssl(
                ["req"] + ec + [
                    "-keyout", "\(ca)-server.key", "-out", "\(ca)-server.csr", "-subj", "/CN=localhost",
                ])
            try openssl([
                "x509", "-req", "-in", "\(ca)-server.csr", "-CA", "\(ca)-ca.pem", "-CAkey", "\(ca)-ca.key",
                "-CAcreateserial", "-out", "\(ca)-server.pem", "-days", "1", "-extfile", "san.cnf",
            ])
        }
        // Before any TLSClientContext exists: the trust store is read when a context is created.
        // An empty SSL_CERT_DIR keeps the system's CAs out, so only our throwaway CA is trusted.
        let emptyDirectory = directory.appendingPathComponent("no-certs")
        try FileManager.default.createDirectory(at: emptyDirectory, withIntermediateDirectories: true)
        setenv("SSL_CERT_FILE", directory.appendingPathComponent("trusted-ca.pem").path, 1)
        setenv("SSL_CERT_DIR", emptyDirectory.path, 1)
    }

    func context() throws -> TLSClientContext {
        try TLSClientContext()
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure(
                "openssl \(arguments.prefix(2).joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }
}

/// Written once, before any server starts; read at process exit.
private nonisolated(unsafe) var pkiDirectoryToRemove: String?

extension Result where Success == TestPKI {
    fileprivate func context() throws -> TLSClientContext { try get().context() }
    fileprivate var directory: URL { get throws { try get().directory } }
}

private struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `openssl s_server -rev` on an ephemeral loopback port, stopped by `stop()`.
private final class TestServer {
    enum Certificate: String { case trusted, signedByRogueCA = "rogue" }

    let port: UInt16
    private let process = Process()

    init(certificate: Certificate) throws {
        let directory = try TestPKI.shared.directory
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev",
            "-cert", "\(certificate.rawValue)-server.pem", "-key", "\(certificate.rawValue)-server.key",
        ]
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // s_server prints "ACCEPT 127.0.0.1:<port>" once it listens.
        var text = ""
        while !text.contains("\n") || !text.contains("ACCEPT") {
            let data = output.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT") }),
            let port = line.split(separator: ":").last.flatMap({ UInt16($0) })
        else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("openssl s_server did not start: \(text)")
        }
        self.port = port
    }

    /// SIGKILL, not terminate(): children spawned from a test thread inherit its blocked signals,
    /// SIGTERM among them.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

private func loopbackAddress(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// A connected TCP socket, switched to non-blocking after connect as TLSSession requires.
private func connectNonBlocking(port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 else {
        let reason = String(cString: strerror(errno))
        close(fd)
        throw TestFailure("connect to 127.0.0.1:\(port): \(reason)")
    }
    return fd
}

/// A client session over a connection the kernel accepted for a listener that never answers TLS.
private func sessionToASilentServer() throws -> (listener: Int32, socket: Int32, session: TLSSession) {
    let (listener, port) = try listenOnLoopback()
    let socket = try connectNonBlocking(port: port)
    let session = try TLSSession(context: try TestPKI.shared.context(), fd: socket, serverName: "localhost")
    return (listener, socket, session)
}

private func listenOnLoopback() throws -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
    var address = loopbackAddress(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard ready else {
        close(fd)
        throw TestFailure("listen on 127.0.0.1: \(String(cString: strerror(errno)))")
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}
