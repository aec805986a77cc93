import Config
import Correlation
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
public final class Daemon: @unchecked Sendable {
    public static let version = Release.version

    /// Listening sockets made elsewhere: by systemd (socket activation) or by the sandbox.
    public struct Listeners: Sendable {
        public var callback: FileDescriptor?
        public var ipc: FileDescriptor?
        /// Whether those given came from systemd, for `status`.
        public var socketActivated: Bool
        public init(
            callback: FileDescriptor? = nil, ipc: FileDescriptor? = nil, socketActivated: Bool = false
        ) {
            self.callback = callback
            self.ipc = ipc
            self.socketActivated = socketActivated
        }
    }

    public let service: BindingService
    public let callbackServer: EventLoopServer
    public let ipcServer: EventLoopServer
    /// What the callback listener is bound to (with the real port when 0 was asked for).
    public let callbackAddress: SocketAddress
    public let ipcSocketPath: String
    private let configuration: Configuration
    /// The IPC socket file is ours to remove only if we created it (not under socket activation).
    private let ownsIPCSocket: Bool
    private let logger: Logger
    private let ipcGate: IPCGate
    private let lifecycle = Condition()
    private var stopped = false  // guarded by `lifecycle`

    /// The start-up sequence: open storage (replaying it), build the binding service, bind both
    /// listeners (using any passed in as they are), then build the servers that will serve them.
    /// `sandbox` only says, in `status`, that the configuration is `openidd --sandbox`'s own.
    public init(
        configuration: Configuration, keys: SigningKeys, logger: Logger, listeners: Listeners = Listeners(),
        sandbox: Bool = false
    )
        throws
    {
        self.configuration = configuration
        self.logger = logger
        logger.setLevel(configuration.reloadable.logLevel)
        let settings = configuration.restartOnly
        let startedAt = WallClock.nowMilliseconds()
        let startedAtMonotonic = MonotonicClock.nowNanos()
        let metrics = DaemonMetrics(version: Daemon.version, startedAt: startedAt)

        let (store, replayed) = try Self.openStorage(
            settings.storageDirectory, now: startedAt, metrics: metrics, logger: logger)
        for risk in configuration.risks() { logger.warning("\(risk.key): \(risk.message)") }

        let service = try Self.bindingService(
            configuration, keys: keys, store: store, registry: replayed.registry, metrics: metrics,
            logger: logger)
        self.service = service

        let bound = try Self.bindListeners(settings, passed: listeners)
        callbackAddress = bound.callbackAddress
        ipcSocketPath = settings.ipcSocket.path
        ownsIPCSocket = bound.ownsIPCSocket

        let callbackServer = try Self.callbackServer(
            listener: bound.callback, settings: settings.callback, service: service, metrics: metrics,
            logger: logger)
        self.callbackServer = callbackServer
        let router = IPCRouter(
            service: service,
            facts: StartupFacts(
                version: Daemon.version, startedAt: startedAt, startedAtMonotonic: startedAtMonotonic,
                configPath: Self.absolute(configuration.path), sandbox: sandbox,
                ipcSocket: settings.ipcSocket.path,
                ipcActivated: listeners.ipc != nil && listeners.socketActivated,
                callbackListen: bound.callbackAddress.description,
                callbackActivated: listeners.callback != nil && listeners.socketActivated),
            metrics: metrics.registry)
        let gate = IPCGate(policy: configuration.reloadable.ipcAccess, logger: logger)
        ipcGate = gate
        let ipcServer = try Self.ipcServer(listener: bound.ipc, router: router, gate: gate, logger: logger)
        self.ipcServer = ipcServer

        metrics.observe(
            service: service,
            connectionCounts: [
                "ipc": { ipcServer.connectionCount }, "callback": { callbackServer.connectionCount },
            ])
    }

    // MARK: - Start-up steps

    /// Opens the ledger and the journal in `directory` and replays them; torn tails are logged.
    private static func openStorage(
        _ directory: String, now: Int64, metrics: DaemonMetrics, logger: Logger
    ) throws -> (Store, Store.Replayed) {
        let (store, replayed): (Store, Store.Replayed)
        do {
            var observers = metrics.flushObservers
            // Each binding logs a line from the ledger's sync thread: one write per batch, not per line.
            observers.ledgerCompletions = { _, runCompletions in LogBatch.collect(runCompletions) }
            // Once per file; every refused write after it logs its own error line.
            observers.detached = { file in logger.critical("\(file)") }
            (store, replayed) = try Store.open(directory: directory, now: now, observers: observers)
        } catch {
            throw DaemonError(description: "storage \(directory): \(error)")
        }
        for torn in replayed.tornTails {
            logger.warning(
                "a torn last line (an unacknowledged write cut by a crash) was cut off and saved",
                [("savedAt", torn)])
        }
        return (store, replayed)
    }

    /// The domain service over the replayed registry, with the platform client the keys make.
    private static func bindingService(
        _ configuration: Configuration, keys: SigningKeys, store: Store, registry: Registry,
        metrics: DaemonMetrics, logger: Logger
    ) throws -> BindingService {
        var publicUrl = configuration.restartOnly.callback.publicUrl.description
        if publicUrl.hasSuffix("/") { publicUrl.removeLast() }
        return BindingService(
            settings: BindingService.Settings(
                account: configuration.restartOnly.account, publicUrl: publicUrl),
            reloadable: try Daemon.reloadable(configuration, keys: keys), store: store, registry: registry,
            logger: logger, metrics: metrics)
    }

    private struct BoundListeners {
        var callback: FileDescriptor
        /// What the callback listener is bound to (with the real port when 0 was asked for).
        var callbackAddress: SocketAddress
        var ipc: FileDescriptor
        var ownsIPCSocket: Bool
    }

    /// Binds the callback port and the IPC socket, unless `passed` holds them already. A callback
    /// listener bound here is closed again if the IPC socket cannot be made.
    private static func bindListeners(_ settings: RestartSettings, passed: Listeners) throws -> BoundListeners
    {
        let listen = settings.callback.listen
        let callbackFD: FileDescriptor
        do {
            callbackFD = try passed.callback ?? Socket.listen(listen, unixMode: 0o666)
        } catch {
            throw DaemonError(description: "callback.listen \(listen): \(error)")
        }
        var callbackAddress = listen
        if let port = Socket.localPort(callbackFD) {
            if case .inet(let configured, _) = listen {
                callbackAddress = .inet(host: configured, port: port)
            } else {
                callbackAddress = .inet(host: "0.0.0.0", port: port)
            }
        }
        if let ipcFD = passed.ipc {
            return BoundListeners(
                callback: callbackFD, callbackAddress: callbackAddress, ipc: ipcFD, ownsIPCSocket: false)
        }
        let socket = settings.ipcSocket
        do {
            try FileSystem.makeDirectory(FileSystem.directoryName(of: socket.path), mode: 0o755)
            let ipcFD = try Socket.listenUnix(path: socket.path, mode: socket.mode)
            return BoundListeners(
                callback: callbackFD, callbackAddress: callbackAddress, ipc: ipcFD, ownsIPCSocket: true)
        } catch {
            if passed.callback == nil { callbackFD.close() }
            throw DaemonError(description: "ipc.socketPath \(socket.path): \(error)")
        }
    }

    /// A loop per core (the machine's, or what systemd's CPUAffinity/cgroup leaves us), at most 8.
    private static var loopCount: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 8) }

    /// The callback port's server. Its event loops never block: a binding's ledger sync completes on
    /// the ledger's thread.
    private static func callbackServer(
        listener: FileDescriptor, settings: RestartSettings.Callback, service: BindingService,
        metrics: DaemonMetrics, logger: Logger
    ) throws -> EventLoopServer {
        let endpoint = CallbackEndpoint(
            service: service, publicPath: settings.publicUrl.target, openIdField: settings.openIdField,
            trustedProxies: settings.trustedProxies, logger: logger)
        var limits = EventLoopServer.Limits()
        // One address must not take every connection; a proxy in front speaks for many clients.
        limits.maxConnectionsPerClient = settings.maxConnectionsPerClient
        let proxies = settings.trustedProxies
        limits.isExemptFromClientCap = { host in proxies.contains { $0.contains(host) } }
        return try EventLoopServer(
            name: "callback", listener: listener, limits: limits, loops: loopCount, logger: logger,
            renderError: { status, reason in
                metrics.callbacks.refused(status: status)
                return renderCallbackError(status: status, reason: reason)
            },
            headCheck: { head in
                let refusal = endpoint.headRefusal(head)
                if let refusal { metrics.callbacks.refused(status: refusal.status) }
                return refusal
            },
            handler: { request, peer, responder in
                endpoint.handle(request, peer: peer, responder: responder)
            })
    }

    /// The IPC socket's server. Platform calls and long-polls wait, so they run on worker threads
    /// (see `IPCRouter.mayBlock`, `WorkerPool`); the event loops never block.
    private static func ipcServer(
        listener: FileDescriptor, router: IPCRouter, gate: IPCGate, logger: Logger
    ) throws -> EventLoopServer {
        var limits = EventLoopServer.Limits()
        // Keep-alive between requests: local clients that pool connections keep them twice as long as
        // on the callback port. A long-poll (`?wait=`) is being handled, not idle: no deadline applies.
        limits.idleTimeoutSeconds = 120
        let blockingWork = WorkerPool(name: "ipc-work")
        return try EventLoopServer(
            name: "ipc", listener: listener, limits: limits, loops: loopCount, logger: logger,
            renderError: renderIPCError,
            handler: { request, peer, responder in
                let answer: @Sendable () -> Void = {
                    let response = router.handle(request, requestId: peer.requestId)
                    if LogLevel.debug <= logger.level {
                        logger.debug(
                            "ipc request",
                            [
                                ("request", peer.requestId), ("method", request.method),
                                ("path", request.path),
                                ("status", String(response.status)),
                            ])
                    }
                    responder.respond(response)
                }
                if let refusal = gate.refusal(for: peer) {
                    responder.respond(refusal)
                } else if router.mayBlock(request) {
                    blockingWork.run(answer)
                } else {
                    answer()
                }
            })
    }

    /// `path` made absolute against the working directory, for `status`.
    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The parts of a configuration a reload may swap in: keys, the platform timeout, TTL, limits.
    static func reloadable(_ configuration: Configuration, keys: SigningKeys) throws
        -> BindingService.Reloadable
    {
        let account = configuration.restartOnly.account
        let tls: TLSClientContext?
        if account.baseUrl.lowercased().hasPrefix("https://") {
            do {
                tls = try TLSClientContext()
            } catch {
                throw DaemonError(description: "TLS set-up failed: \(error)")
            }
        } else {
            tls = nil
        }
        let reloadable = configuration.reloadable
        let platform = try PlatformClient(
            account: account, keys: keys, timeoutSeconds: reloadable.platformTimeoutSeconds,
            http: HTTPClient(tls: tls))
        return BindingService.Reloadable(
            platform: platform, ttlSeconds: reloadable.ttlSeconds, maxPending: reloadable.maxPending)
    }

    /// Starts serving. `notify` receives sd_notify states: `STATUS=` with the counts every minute and,
    /// with `watchdogSeconds` (systemd's WatchdogSec), `WATCHDOG=1` at half that interval, but only
    /// while the daemon is demonstrably working (see `isAlive`).
    public func start(watchdogSeconds: Double? = nil, notify: @escaping @Sendable (String) -> Void = { _ in })
    {
        // A restart is a natural moment to drop settled requests from the journal.
        service.compactJournalIfWorthwhile()
        let heartbeat = watchdogSeconds.map { $0 / 4 }
        callbackServer.start(heartbeatSeconds: heartbeat)
        ipcServer.start(heartbeatSeconds: heartbeat)
        startBackgroundThread(name: "expiry", every: 60) { [self] in
            service.sweepExpired()
            service.compactJournalIfWorthwhile()
            logger.reportSuppressedSecurityEvents()
            notify("STATUS=\(statusLine)")
        }
        if let watchdogSeconds {
            startBackgroundThread(name: "watchdog", every: watchdogSeconds / 2) { [self] in
                if isAlive(within: watchdogSeconds / 2) {
                    notify("WATCHDOG=1\nSTATUS=\(statusLine)")
                } else {
                    logger.critical("watchdog: the daemon looks stuck; not pinging, so systemd restarts it")
                }
            }
        }
        let counts = service.counts
        logger.notice(
            "openidd \(Daemon.version) ready",
            [
                ("ipc", ipcSocketPath), ("callback", callbackAddress.description),
                ("pending", String(counts.pending)),
                ("bindings", String(counts.bindings)),
                ("watchdog", watchdogSeconds.map { "\($0)s" } ?? "off"),
            ])
    }

    /// The watchdog's test of life: both accept loops ran recently, the registry's lock can be taken
    /// (a deadlock there would hang this call, and so stop the pings, which is the point), and no ledger
    /// or journal sync has been stuck for more than the interval.
    func isAlive(within seconds: Double) -> Bool {
        guard callbackServer.acceptLoopRan(within: seconds), ipcServer.acceptLoopRan(within: seconds) else {
            return false
        }
        _ = service.counts
        return !service.store.isSyncStuck(longerThan: max(seconds, Store.stuckSyncSeconds))
    }

    /// A status line for systemd (`systemctl status` shows it).
    public var statusLine: String {
        let counts = service.counts
        let storage = service.store.failure.map { "storage failing: \($0)" } ?? "storage ok"
        return "pending=\(counts.pending) bindings=\(counts.bindings) \(storage)"
    }

    /// Re-reads the configuration and keys and swaps in its `reloadable` settings. A change to any of
    /// its `restartOnly` settings, or anything invalid, keeps the running configuration and throws a
    /// message saying why.
    public func reload() throws {
        let fresh: Configuration
        let keys: SigningKeys
        do {
            fresh = try Configuration.load(path: configuration.path)
            keys = try fresh.loadKeys()
        } catch {
            throw DaemonError(description: "\(error)")
        }
        let restartOnly = fresh.restartOnly.changedKeys(from: configuration.restartOnly)
        guard restartOnly.isEmpty else {
            throw DaemonError(
                description:
                    "\(restartOnly.joined(separator: ", ")) changed; that needs a restart (systemctl restart openidd). Nothing was changed."
            )
        }
        let settings = fresh.reloadable
        service.reload(try Daemon.reloadable(fresh, keys: keys))
        ipcGate.reload(settings.ipcAccess)
        logger.setLevel(settings.logLevel)
        logger.notice(
            "configuration reloaded",
            [
                ("timeoutSeconds", String(settings.platformTimeoutSeconds)),
                ("ttlSeconds", String(settings.ttlSeconds)),
                ("maxPending", String(settings.maxPending)),
                ("logLevel", String(describing: settings.logLevel)),
            ])
    }

    /// Stops accepting, lets requests in flight finish (up to `graceSeconds`), and closes the listeners.
    public func shutdown(graceSeconds: Double = 10) {
        logger.notice("shutting down")
        service.beginShutdown()
        lifecycle.withLock {
            stopped = true
            lifecycle.broadcast()
        }
        let ipcDone = ipcServer.shutdown(graceSeconds: graceSeconds)
        let callbackDone = callbackServer.shutdown(graceSeconds: graceSeconds)
        if !(ipcDone && callbackDone) { logger.warning("some connections did not finish in time") }
        if ownsIPCSocket { unlink(ipcSocketPath) }
        logger.notice("stopped")
    }

    /// Runs `body` every `seconds` until shutdown, on its own thread.
    private func startBackgroundThread(
        name: String, every seconds: Double, _ body: @escaping @Sendable () -> Void
    ) {
        let thread = Thread { [self] in
            while true {
                let stop = lifecycle.withLock {
                    if !stopped { lifecycle.wait(untilNanos: MonotonicClock.deadline(afterSeconds: seconds)) }
                    return stopped
                }
                if stop { return }
                body()
            }
        }
        thread.name = name
        thread.start()
    }
}
