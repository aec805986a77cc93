import Config
import Foundation
import HTTPClient
import HTTPServer
import Ledger
import Logging
import POSIX
import Platform
import TLS

#if canImport(Glibc)
    import Glibc
#endif

public struct DaemonError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// The running daemon: storage replayed, both listeners serving. Start-up order is storage, then
/// listeners; shutdown is the reverse: stop taking requests, finish those in flight, then return.
public final class Daemon: Sendable {
    public static let version = "0.1.0"

    public let service: BindingService
    public let callbackServer: HTTPServer
    public let ipcServer: HTTPServer
    /// What the callback listener is bound to (with the real port when 0 was asked for).
    public let callbackAddress: SocketAddress
    public let ipcSocketPath: String
    private let logger: Logger
    private let sweeperStop = Condition()
    private let sweeperStopped = StopFlag()

    /// Replays storage and binds both listeners. A listener passed in (pre-bound) is used as is.
    public init(
        configuration: Configuration, keys: SigningKeys, logger: Logger,
        callbackListener: FileDescriptor? = nil
    )
        throws
    {
        self.logger = logger
        let startedAt = WallClock.nowMilliseconds()
        let (store, replayed): (Store, Store.Replayed)
        do {
            (store, replayed) = try Store.open(directory: configuration.storageDirectory, now: startedAt)
        } catch {
            throw DaemonError(description: "storage \(configuration.storageDirectory): \(error)")
        }
        for torn in replayed.tornTails {
            logger.warning(
                "a torn last line (an unacknowledged write cut by a crash) was cut off and saved",
                [("savedAt", torn)])
        }

        let tls: TLSClientContext?
        if configuration.platform.baseUrl.lowercased().hasPrefix("https://") {
            do {
                tls = try TLSClientContext()
            } catch {
                throw DaemonError(description: "TLS set-up failed: \(error)")
            }
        } else {
            tls = nil
        }
        let platform = try PlatformClient(
            account: configuration.account, keys: keys, timeoutSeconds: configuration.platform.timeoutSeconds,
            http: HTTPClient(tls: tls))
        var publicUrl = configuration.callback.publicUrl.description
        if publicUrl.hasSuffix("/") { publicUrl.removeLast() }
        let service = BindingService(
            settings: BindingService.Settings(
                account: configuration.account, publicUrl: publicUrl, ttlSeconds: configuration.ttlSeconds,
                maxPending: configuration.maxPending),
            platform: platform, keys: keys, store: store, registry: replayed.registry, logger: logger)
        self.service = service

        let callbackFD: FileDescriptor
        do {
            callbackFD = try callbackListener ?? Socket.listen(configuration.callback.listen, unixMode: 0o666)
        } catch {
            throw DaemonError(description: "callback.listen \(configuration.callback.listen): \(error)")
        }
        if case .inet(let host, _) = configuration.callback.listen, let port = Socket.localPort(callbackFD) {
            callbackAddress = .inet(host: host, port: port)
        } else {
            callbackAddress = configuration.callback.listen
        }
        let ipcFD: FileDescriptor
        do {
            try FileSystem.makeDirectory(
                FileSystem.directoryName(of: configuration.ipc.socketPath), mode: 0o755)
            ipcFD = try Socket.listenUnix(
                path: configuration.ipc.socketPath, mode: configuration.ipc.socketMode)
        } catch {
            callbackFD.close()
            throw DaemonError(description: "ipc.socketPath \(configuration.ipc.socketPath): \(error)")
        }
        ipcSocketPath = configuration.ipc.socketPath

        let endpoint = CallbackEndpoint(
            service: service, publicPath: configuration.callback.publicUrl.target,
            openIdField: configuration.callback.openIdField,
            trustedProxies: configuration.callback.trustedProxies,
            logger: logger)
        let router = IPCRouter(
            service: service, version: Daemon.version, startedAt: startedAt,
            callbackListen: callbackAddress.description)
        var ipcLimits = HTTPServer.Limits()
        // Long-polls (`?wait=60`) hold a connection idle on purpose; allow for them.
        ipcLimits.idleTimeoutSeconds = 120
        callbackServer = try HTTPServer(
            name: "callback", listener: callbackFD, logger: logger, renderError: renderCallbackError,
            handler: { request, peer in endpoint.handle(request, peer: peer) })
        ipcServer = try HTTPServer(
            name: "ipc", listener: ipcFD, limits: ipcLimits, logger: logger, renderError: renderIPCError,
            handler: { request, _ in router.handle(request) })
    }

    public func start() {
        // A restart is a natural moment to drop settled requests from the journal.
        service.compactJournalIfWorthwhile()
        callbackServer.start()
        ipcServer.start()
        let thread = Thread { [self] in sweepLoop() }
        thread.name = "expiry"
        thread.start()
        let counts = service.counts
        logger.notice(
            "openidd \(Daemon.version) ready",
            [
                ("ipc", ipcSocketPath), ("callback", callbackAddress.description),
                ("pending", String(counts.pending)),
                ("bindings", String(counts.bindings)),
            ])
    }

    /// Stops accepting, lets requests in flight finish (up to `graceSeconds`), and closes the listeners.
    public func shutdown(graceSeconds: Double = 10) {
        logger.notice("shutting down")
        service.beginShutdown()
        sweeperStop.withLock {
            sweeperStopped.value = true
            sweeperStop.broadcast()
        }
        let ipcDone = ipcServer.shutdown(graceSeconds: graceSeconds)
        let callbackDone = callbackServer.shutdown(graceSeconds: graceSeconds)
        if !(ipcDone && callbackDone) { logger.warning("some connections did not finish in time") }
        unlink(ipcSocketPath)
        logger.notice("stopped")
    }

    private func sweepLoop() {
        while true {
            let stop = sweeperStop.withLock {
                if !sweeperStopped.value {
                    sweeperStop.wait(untilNanos: MonotonicClock.deadline(afterSeconds: 60))
                }
                return sweeperStopped.value
            }
            if stop { return }
            service.sweepExpired()
            service.compactJournalIfWorthwhile()
        }
    }
}

/// A flag read and written only under a `Condition`'s lock.
final class StopFlag: @unchecked Sendable {
    var value = false
}
