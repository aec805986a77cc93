// swift-tools-version:6.0
// openidd: the architecture reads top to bottom. Platform-specific code sits at the
// edges (POSIX, COpenSSL/Crypto/TLS); protocol and domain modules are pure.
import PackageDescription

let package = Package(
    name: "openidd",
    products: [
        .executable(name: "openidd", targets: ["openidd"]),
        .executable(name: "openidctl", targets: ["openidctl"]),
    ],
    targets: [
        // System OpenSSL (libcrypto + libssl); no hand-written cryptography.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // RSA/MD5 signing and verification, key loading, secure randomness.
        .target(name: "Crypto", dependencies: ["COpenSSL"]),
        // TLS client sessions over a connected socket (libssl).
        .target(name: "TLS", dependencies: ["COpenSSL", "Crypto", "POSIX"]),
        // Linux headers Glibc's module leaves out (epoll, eventfd).
        .systemLibrary(name: "CLinux"),
        // Thin typed wrappers over the syscalls we use: descriptors, sockets, files, epoll.
        .target(name: "POSIX", dependencies: ["CLinux"]),
        // HTTP/1.1 message parsing and serialisation: bytes in, messages out.
        .target(name: "HTTP1"),
        // JSON as we write it (ordered, compact) and the ledger's flat lines as we read them.
        .target(name: "JSON"),
        // Counters, gauges and histograms, rendered in Prometheus's text format; recording is lock-free.
        .target(name: "Metrics"),
        // Structured log lines for journald (sd-daemon priority prefixes).
        .target(name: "Logging", dependencies: ["Correlation", "POSIX"]),
        // The systemd protocols: sd_notify, the watchdog, socket activation.
        .target(name: "Systemd", dependencies: ["POSIX"]),
        // HTTP/1.1 server: listeners and connections joined to a request handler.
        .target(name: "HTTPServer", dependencies: ["POSIX", "HTTP1", "Logging"]),
        // HTTP/1.1 client over TCP, TLS or a Unix socket.
        .target(name: "HTTPClient", dependencies: ["POSIX", "HTTP1", "TLS"]),
        // The redemption platform's protocol: signing strings, signatures, the auth-link call.
        .target(name: "Platform", dependencies: ["Crypto", "HTTP1", "HTTPClient", "JSON"]),
        // Pending requests and bindings: the correlation of serialNo, userId and openId.
        .target(name: "Correlation"),
        // Durable storage: the bindings ledger and the pending-request journal.
        .target(name: "Ledger", dependencies: ["POSIX", "Correlation", "JSON"]),
        // The configuration file: strict parsing and validation.
        .target(name: "Config", dependencies: ["Crypto", "HTTPClient", "JSON", "Logging", "Platform", "POSIX"]),
        // The daemon: IPC API, callback endpoint, wiring and lifecycle.
        .target(
            name: "Daemon",
            dependencies: [
                "Config", "Correlation", "Crypto", "HTTP1", "HTTPServer", "JSON", "Ledger", "Logging",
                "Metrics", "Platform", "POSIX",
            ]
        ),
        // A built-in stand-in for the platform, for `openidd --sandbox`.
        .target(
            name: "Sandbox",
            dependencies: [
                "Config", "Crypto", "HTTP1", "HTTPClient", "HTTPServer", "JSON", "Logging", "Platform",
                "POSIX",
            ]
        ),
        .executableTarget(name: "openidd", dependencies: ["Config", "Daemon", "Logging", "POSIX", "Sandbox", "Systemd"]),
        .executableTarget(
            name: "openidctl",
            dependencies: [
                "Config", "Correlation", "Crypto", "HTTP1", "HTTPClient", "JSON", "Ledger", "Platform", "POSIX",
            ]
        ),
        // Benchmarks of whole binaries (durable callbacks/s, start-up replay); see Benchmarks/README.md.
        .executableTarget(
            name: "openidd-bench",
            dependencies: ["Correlation", "Crypto", "HTTP1", "HTTPClient", "JSON", "Ledger", "Platform", "POSIX"],
            path: "Benchmarks/openidd-bench"
        ),

        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "TLS"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "POSIXTests", dependencies: ["POSIX"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTP1", "Logging", "POSIX"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "PlatformTests", dependencies: ["Platform", "Crypto", "HTTP1", "HTTPClient", "JSON"]),
        .testTarget(name: "CorrelationTests", dependencies: ["Correlation"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Correlation", "JSON", "POSIX"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Logging"]),
        .testTarget(name: "LoggingTests", dependencies: ["Logging", "POSIX"]),
        // The daemon's handlers called directly, over a real store and the sandbox's platform.
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Correlation", "Crypto", "Daemon", "HTTP1", "HTTPClient", "HTTPServer", "Ledger", "Logging",
                "POSIX", "Platform", "Sandbox",
            ]
        ),
        // The command's pure parts (the status table); the commands themselves run in IntegrationTests.
        .testTarget(name: "openidctlTests", dependencies: ["openidctl"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Crypto", "Platform", "HTTPClient", "HTTP1"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
