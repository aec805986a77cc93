import Foundation
import Testing

/// The platform client over real TLS (OpenSSL): certificate chain and host name verified.
@Suite struct TLSTests {
    /// A throwaway CA and a server certificate for "localhost", made with the openssl CLI.
    static func makeCertificates(in directory: TemporaryDirectory) throws -> (
        ca: String, cert: String, key: String
    ) {
        let path = directory.path
        let commands: [[String]] = [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(path)/ca.key", "-out",
                "\(path)/ca.pem", "-days", "2",
                "-subj", "/CN=openidd test CA",
            ],
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(path)/server.key", "-out",
                "\(path)/server.csr",
                "-subj", "/CN=localhost",
            ],
            [
                "x509", "-req", "-in", "\(path)/server.csr", "-CA", "\(path)/ca.pem", "-CAkey",
                "\(path)/ca.key",
                "-CAcreateserial", "-out", "\(path)/server.pem", "-days", "2", "-extfile", "\(path)/san.cnf",
            ],
        ]
        _ = directory.write("san.cnf", "subjectAltName=DNS:localhost\n")
        for arguments in commands {
            let result = try run("/usr/bin/openssl", arguments)
            guard result.status == 0 else {
                throw TestFailure("openssl \(arguments[0]) failed: \(result.stderr)")
            }
        }
        return ("\(path)/ca.pem", "\(path)/server.pem", "\(path)/server.key")
    }

    @Test func trustedCertificateForTheHostWorks() throws {
        let directory = TemporaryDirectory()
        let certificates = try Self.makeCertificates(in: directory)
        let platform = try FakePlatform(
            in: directory, tls: (certificates.cert, certificates.key), host: "localhost")
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        daemon.environment = ["SSL_CERT_FILE": certificates.ca]
        try daemon.start()
        let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"tls-user"}"#)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(platform.records().first?["problems"] as? [String] == [])
    }

    @Test func untrustedCertificateIsRefused() throws {
        let directory = TemporaryDirectory()
        let certificates = try Self.makeCertificates(in: directory)
        let platform = try FakePlatform(
            in: directory, tls: (certificates.cert, certificates.key), host: "localhost")
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        // The system trust store does not know our throwaway CA.
        daemon.environment = ["SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt"]
        try daemon.start()
        let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"tls-user"}"#)
        #expect(answer.status == 502)
        #expect(answer.errorCode == "platform_unreachable")
        #expect(answer.text.contains("certificate verify failed"), "\(answer.text)")
        #expect(platform.records().isEmpty)
    }

    @Test func certificateForAnotherNameIsRefused() throws {
        let directory = TemporaryDirectory()
        let certificates = try Self.makeCertificates(in: directory)
        // Same server, reached by IP: the certificate names only "localhost".
        let platform = try FakePlatform(
            in: directory, tls: (certificates.cert, certificates.key), host: "127.0.0.1")
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        daemon.environment = ["SSL_CERT_FILE": certificates.ca]
        try daemon.start()
        let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"tls-user"}"#)
        #expect(answer.status == 502)
        #expect(answer.text.contains("mismatch"), "\(answer.text)")
    }
}
