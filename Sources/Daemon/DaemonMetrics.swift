import Ledger
import Metrics
import Platform

/// The daemon's metrics (docs/metrics.md). Every series is made here at start-up, so the code that
/// records holds a handle and pays one atomic add; `GET /metrics` renders `registry`.
public final class DaemonMetrics: Sendable {
    public let registry = MetricsRegistry()
    let authLinksIssued: Counter
    let authLinkFailures: CounterFamily
    let platformRequestDuration: Histogram
    let callbacks: CallbackCounters
    let flushObservers: Store.FlushObservers

    init(version: String, startedAt: Int64) {
        authLinksIssued = registry.counter(
            "openidd_auth_links_total", help: "Auth links issued.", labels: ["outcome": "issued"])
        authLinkFailures = registry.counters(
            "openidd_auth_link_failures_total", help: "Auth-link requests that gave no link, by reason.",
            label: "reason",
            values: [
                "serial_no_in_use", "too_many_pending", "platform_rejected", "platform_timeout",
                "platform_unreachable", "storage", "shutting_down",
            ])
        platformRequestDuration = registry.histogram(
            "openidd_platform_request_duration_seconds",
            help: "Time the platform took to answer an auth-link request (failures included).",
            upperBounds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
        callbacks = CallbackCounters(
            registry.counters(
                "openidd_callbacks_total",
                help: "Callbacks answered, by outcome: bound, repeat, or the status code of the refusal.",
                label: "outcome",
                values: ["bound", "repeat"] + CallbackCounters.statuses.map(String.init) + ["other"]))

        var observers = Store.FlushObservers()
        for file in ["ledger", "journal"] {
            let fsync = registry.histogram(
                "openidd_ledger_fsync_duration_seconds",
                help: "Duration of each fdatasync of a storage file.",
                labels: ["file": file],
                upperBounds: [
                    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                    1,
                ])
            let lines = registry.histogram(
                "openidd_ledger_batch_lines", help: "Lines written by each write and sync (group commit).",
                labels: ["file": file], upperBounds: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
            let observer: AppendLog.FlushObserver = { count, seconds in
                lines.observe(Double(count))
                fsync.observe(seconds)
            }
            if file == "ledger" { observers.ledger = observer } else { observers.journal = observer }
        }
        flushObservers = observers

        registry.gauge(
            "openidd_build_info", help: "Always 1; the version is in the label.",
            labels: ["version": version],
            Gauge(1))
        registry.gauge(
            "openidd_start_time_seconds", help: "When the daemon started, in seconds since the Unix epoch.",
            Gauge(Double(startedAt) / 1000))
    }

    /// The gauges read at scrape time from parts made after the metrics: the registry and the servers.
    func observe(
        service: BindingService,
        connectionCounts: KeyValuePairs<String, @Sendable () -> Int>
    ) {
        registry.gauge(
            "openidd_pending_requests", help: "Requests issued and waiting for their callback.",
            Gauge(reading: { Double(service.counts.pending) }))
        registry.gauge(
            "openidd_bindings", help: "Bindings in the ledger.",
            Gauge(reading: { Double(service.counts.bindings) }))
        for (listener, count) in connectionCounts {
            registry.gauge(
                "openidd_open_connections", help: "Connections open on a listener.",
                labels: ["listener": listener],
                Gauge(reading: { Double(count()) }))
        }
    }

    func recordIssueFailure(_ error: BindingService.IssueError) {
        let reason: String
        switch error {
        case .serialNoInUse: reason = "serial_no_in_use"
        case .tooManyPending: reason = "too_many_pending"
        case .storage: reason = "storage"
        case .shuttingDown: reason = "shutting_down"
        case .platform(.refused): reason = "platform_rejected"
        case .platform(.timeout): reason = "platform_timeout"
        case .platform(.unreachable), .platform(.signing): reason = "platform_unreachable"
        }
        authLinkFailures[reason].increment()
    }
}

/// `openidd_callbacks_total`'s children, found without hashing or allocating: the callback port records
/// one per answer at full rate.
final class CallbackCounters: Sendable {
    /// Every status the callback port answers a refusal with: the endpoint's own, and the HTTP
    /// server's (408, 413, 414, 431, 501, 503, 505). Anything else counts as "other".
    static let statuses = [400, 401, 403, 404, 405, 408, 409, 410, 413, 414, 431, 501, 503, 505]

    let bound: Counter
    let repeated: Counter
    /// Indexed by status - 400; statuses not listed hold `other`.
    private let refusals: [Counter]
    private let other: Counter

    init(_ family: CounterFamily) {
        bound = family["bound"]
        repeated = family["repeat"]
        other = family["other"]
        var refusals = [Counter](repeating: other, count: 200)
        for status in CallbackCounters.statuses { refusals[status - 400] = family[String(status)] }
        self.refusals = refusals
    }

    func record(_ outcome: BindingService.CallbackOutcome, status: Int) {
        switch outcome {
        case .bound: bound.increment()
        case .repeated: repeated.increment()
        default: refused(status: status)
        }
    }

    func refused(status: Int) {
        (400..<600).contains(status) ? refusals[status - 400].increment() : other.increment()
    }
}
