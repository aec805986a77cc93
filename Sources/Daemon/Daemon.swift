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

    /// Replays storage and binds both listeners, using any passed in as they are. `sandbox` only says,
    /// in `status`, that the configuration is `openidd --sandbox`'s own.
    public init(
        configuration: Configuration, keys: SigningKeys, logger: Logger, listeners: Listeners = Listeners(),
        sandbox: Bool = false
    )
        throws
    {
        self.configuration = configuration
        self.logger = logger
        logger.setLevel(configuration.logLevel)
        let startedAt = WallClock.nowMilliseconds()
        let metrics = DaemonMetrics(version: Daemon.version, startedAt: startedAt)
        let startedAtMonotonic = MonotonicClock.nowNanos()
        let (store, replayed): (Store, Store.Replayed)
        do {
            var observers = metrics.flushObservers
            // Each binding logs a line from the ledger's sync thread: one write per batch, not per line.
            observers.ledgerCompletions = { _, runCompletions in LogBatch.collect(runCompletions) }
            // Once per file; every refused write after it logs its own error line.
            observers.detached = { file in logger.critical("\(file)") }
            (store, replayed) = try Store.open(
                directory: configuration.storageDirectory, now: startedAt, observers: observers)
        } catch {
            throw DaemonError(description: "storage \(configuration.storageDirectory): \(error)")
        }
        for torn in replayed.tornTails {
            logger.warning(
                "a torn last line (an unacknowledged write cut by a crash) was cut off and saved",
                [("savedAt", torn)])
        }
        for risk in configuration.risks() { logger.warning("\(risk.key): \(risk.message)") }

        var publicUrl = configuration.callback.publicUrl.description
        if publicUrl.hasSuffix("/") { publicUrl.removeLast() }
        let service = BindingService(
            settings: BindingService.Settings(account: configuration.account, publicUrl: publicUrl),
            reloadable: try Daemon.reloadable(configuration, keys: keys), store: store,
            registry: replayed.registry,
            logger: logger, metrics: metrics)
        self.service = service

        let callbackFD: FileDescriptor
        do {
            callbackFD =
                try listeners.callback ?? Socket.listen(configuration.callback.listen, unixMode: 0o666)
        } catch {
            throw DaemonError(description: "callback.listen \(configuration.callback.listen): \(error)")
        }
        if let port = Socket.localPort(callbackFD) {
            let host: String
            if case .inet(let configured, _) = configuration.callback.listen {
                host = configured
            } else {
                host = "0.0.0.0"
            }
            callbackAddress = .inet(host: host, port: port)
        } else {
            callbackAddress = configuration.callback.listen
        }
        let ipcFD: FileDescriptor
        if let passed = listeners.ipc {
            ipcFD = passed
            ownsIPCSocket = false
        } else {
            do {
                try FileSystem.makeDirectory(
                    FileSystem.directoryName(of: configuration.ipc.socketPath), mode: 0o755)
                ipcFD = try Socket.listenUnix(
                    path: configuration.ipc.socketPath, mode: configuration.ipc.socketMode)
            } catch {
                if listeners.callback == nil { callbackFD.close() }
                throw DaemonError(description: "ipc.socketPath \(configuration.ipc.socketPath): \(error)")
            }
            ownsIPCSocket = true
        }
        ipcSocketPath = configuration.ipc.socketPath

        let endpoint = CallbackEndpoint(
            service: service, publicPath: configuration.callback.publicUrl.target,
            openIdField: configuration.callback.openIdField,
            trustedProxies: configuration.callback.trustedProxies,
            logger: logger)
        let configPath =
            configuration.path.hasPrefix("/")
            ? configuration.path : FileManager.default.currentDirectoryPath + "/" + configuration.path
        let router = IPCRouter(
            service: service,
            facts: StartupFacts(
                version: Daemon.version, startedAt: startedAt, startedAtMonotonic: startedAtMonotonic,
                configPath: configPath, sandbox: sandbox, ipcSocket: ipcSocketPath,
                ipcActivated: listeners.ipc != nil && listeners.socketActivated,
                callbackListen: callbackAddress.description,
                callbackActivated: listeners.callback != nil && listeners.socketActivated),
            metrics: metrics.registry)
        let gate = IPCGate(policy: configuration.ipc.access, logger: logger)
        ipcGate = gate
        var ipcLimits = EventLoopServer.Limits()
        // Long-polls (`?wait=60`) hold a connection idle on purpose; allow for them.
        ipcLimits.idleTimeoutSeconds = 120
        // Both listeners are served by event loops, which never block: the callback port's ledger sync
        // completes on the ledger's thread, and the IPC API's platform calls and long-polls run on
        // worker threads (see `IPCRouter.mayBlock`, `WorkerPool`).
        var callbackLimits = EventLoopServer.Limits()
        // One address must not take every connection; a proxy in front speaks for many clients.
        callbackLimits.maxConnectionsPerClient = configuration.callback.maxConnectionsPerClient
        let proxies = configuration.callback.trustedProxies
        callbackLimits.isExemptFromClientCap = { host in proxies.contains { $0.contains(host) } }
        callbackServer = try EventLoopServer(
            name: "callback", listener: callbackFD, limits: callbackLimits,
            // A loop per core (the machine's, or what systemd's CPUAffinity/cgroup leaves us).
            loops: min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 8), logger: logger,
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
        let blockingWork = WorkerPool(name: "ipc-work")
        ipcServer = try EventLoopServer(
            name: "ipc", listener: ipcFD, limits: ipcLimits,
            loops: min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 8), logger: logger,
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
                    // Platform calls and long-polls wait: on a worker thread, never on the loop.
                    blockingWork.run(answer)
                } else {
                    answer()
                }
            })
        let servers = (ipc: ipcServer, callback: callbackServer)
        metrics.observe(
            service: service,
            connectionCounts: [
                "ipc": { servers.ipc.connectionCount }, "callback": { servers.callback.connectionCount },
            ])
    }

    /// The parts of a configuration a reload may swap in: keys, the platform timeout, TTL, limits.
    static func reloadable(_ configuration: Configuration, keys: SigningKeys) throws
        -> BindingService.Reloadable
    {
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
        return BindingService.Reloadable(
            platform: platform, ttlSeconds: configuration.ttlSeconds, maxPending: configuration.maxPending)
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

    /// Re-reads the configuration and keys; swaps in what may change without a restart (keys, the
    /// platform timeout, TTL, limits, log level, who may use the IPC socket). Anything else changed, or anything invalid, keeps the
    /// running configuration and throws a message saying why.
    public func reload() throws {
        let fresh: Configuration
        let keys: SigningKeys
        do {
            fresh = try Configuration.load(path: configuration.path)
            keys = try fresh.loadKeys()
        } catch {
            throw DaemonError(description: "\(error)")
        }
        var restartOnly: [String] = []
        let old = configuration
        if fresh.platform.baseUrl != old.platform.baseUrl { restartOnly.append("platform.baseUrl") }
        if fresh.platform.businessId != old.platform.businessId { restartOnly.append("platform.businessId") }
        if fresh.platform.merchantId != old.platform.merchantId { restartOnly.append("platform.merchantId") }
        if fresh.platform.signType != old.platform.signType { restartOnly.append("platform.signType") }
        if fresh.platform.userIdField != old.platform.userIdField {
            restartOnly.append("platform.userIdField")
        }
        if fresh.callback.listen != old.callback.listen { restartOnly.append("callback.listen") }
        if fresh.callback.publicUrl != old.callback.publicUrl { restartOnly.append("callback.publicUrl") }
        if fresh.callback.openIdField != old.callback.openIdField {
            restartOnly.append("callback.openIdField")
        }
        if fresh.callback.trustedProxies != old.callback.trustedProxies {
            restartOnly.append("callback.trustedProxies")
        }
        if fresh.callback.maxConnectionsPerClient != old.callback.maxConnectionsPerClient {
            restartOnly.append("callback.maxConnectionsPerClient")
        }
        if fresh.ipc.socketPath != old.ipc.socketPath { restartOnly.append("ipc.socketPath") }
        if fresh.ipc.socketMode != old.ipc.socketMode { restartOnly.append("ipc.socketMode") }
        if fresh.storageDirectory != old.storageDirectory { restartOnly.append("storage.directory") }
        guard restartOnly.isEmpty else {
            throw DaemonError(
                description:
                    "\(restartOnly.joined(separator: ", ")) changed; that needs a restart (systemctl restart openidd). Nothing was changed."
            )
        }
        service.reload(try Daemon.reloadable(fresh, keys: keys))
        ipcGate.reload(fresh.ipc.access)
        logger.setLevel(fresh.logLevel)
        logger.notice(
            "configuration reloaded",
            [
                ("timeoutSeconds", String(fresh.platform.timeoutSeconds)),
                ("ttlSeconds", String(fresh.ttlSeconds)),
                ("maxPending", String(fresh.maxPending)), ("logLevel", String(describing: fresh.logLevel)),
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
