import Config
import Foundation
import Logging
import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// Everything `openidd --sandbox` needs: a temporary state directory, throwaway keys, the sandbox
/// platform, and a configuration file written the way an operator would write one.
public struct SandboxSetup {
    public let platform: SandboxPlatform
    public let configuration: Configuration
    public let callbackListener: FileDescriptor
    public let directory: String

    public static func prepare(logger: Logger) throws -> SandboxSetup {
        var template = Array("/tmp/openidd-sandbox.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SystemCallError(call: "mkdtemp", errno: errno, subject: "/tmp/openidd-sandbox.XXXXXX")
        }
        let directory = String(cString: made)
        do {
            return try prepare(in: directory, logger: logger)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    private static func prepare(in directory: String, logger: Logger) throws -> SandboxSetup {
        let platform = try SandboxPlatform(logger: logger)
        platform.start()

        try FileSystem.writeAtomically(
            Array(platform.merchantKey.pkcs8PEM().utf8), to: directory + "/merchant_private.pem")
        try FileSystem.writeAtomically(
            Array(platform.platformKey.publicKey.spkiPEM().utf8), to: directory + "/platform_public.pem")

        // Loopback only: the sandbox must never be reachable from another machine.
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0)
        let port = Socket.localPort(listener) ?? 0
        let config = """
            {
              "platform": {
                "baseUrl": "\(platform.baseUrl)",
                "businessId": "\(platform.businessId)",
                "merchantId": "\(platform.merchantId)",
                "signType": "SHA256-RSA",
                "privateKeyFile": "merchant_private.pem",
                "platformPublicKeyFile": "platform_public.pem",
                "timeoutSeconds": 5
              },
              "callback": {
                "listen": "127.0.0.1:\(port)",
                "publicUrl": "http://127.0.0.1:\(port)/openidd/callback"
              },
              "ipc": { "socketPath": "\(directory)/openidd.sock", "socketMode": "0600" },
              "storage": { "directory": "state" },
              "requests": { "ttlSeconds": 3600 }
            }

            """
        let configPath = directory + "/config.json"
        try FileSystem.writeAtomically(Array(config.utf8), to: configPath)
        let configuration = try Configuration.load(path: configPath)
        return SandboxSetup(
            platform: platform, configuration: configuration, callbackListener: listener, directory: directory
        )
    }

    /// Removes the directory and everything in it: the throwaway keys, the configuration, the state.
    public func removeDirectory() throws {
        try FileManager.default.removeItem(atPath: directory)
    }

    /// What the sandbox prints once it runs; `keep` says whether its directory stays when it stops.
    public func banner(ipcSocket: String, keep: Bool) -> String {
        let fate =
            keep
            ? "kept when the sandbox stops (--keep): rm -r it when done"
            : "removed when the sandbox stops (--keep keeps it)"
        let here = FileSystem.directoryName(
            of: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        let ctl = FileSystem.exists(here + "/openidctl") ? here + "/openidctl" : "openidctl"
        return """

            ======================================================================
             openidd SANDBOX — NOT FOR PRODUCTION
             A built-in fake platform with throwaway keys; loopback (127.0.0.1) only.
            ======================================================================
             state, keys and config: \(directory)
                                     \(fate)
             IPC socket:             \(ipcSocket)

             Try it:
               1. \(ctl) --socket \(ipcSocket) auth-url alice
               2. curl -s "<the alipayAuthUrl it printed>"      (plays the user authorizing)
               3. \(ctl) --socket \(ipcSocket) get alice

             Or over the socket directly:
               curl -s --unix-socket \(ipcSocket) http://localhost/v1/auth-url -d '{"userId":"alice"}'
               curl -s --unix-socket \(ipcSocket) 'http://localhost/v1/bindings?userId=alice'

             Ctrl-C stops it.
            ======================================================================

            """
    }
}
