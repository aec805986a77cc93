import Synchronization

/// Every metric of a process, rendered on request in the Prometheus text exposition format 0.0.4.
///
/// Metrics are made through the registry, once, at start-up; the handles it returns are what the code
/// records on, without touching the registry again. Series with the same name (differing in their labels)
/// form one family. Families render in the order they were first registered, and series within a
/// family in the order they were added, so two scrapes list the same lines in the same order.
public final class MetricsRegistry: Sendable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    enum Source: Sendable {
        case counter(Counter)
        case gauge(Gauge)
        case histogram(Histogram)
    }

    struct Series: Sendable {
        let labels: [(name: String, value: String)]
        let source: Source
    }

    struct Family: Sendable {
        let name: String
        let help: String
        let kind: Kind
        var series: [Series]
    }

    // Taken only to register and to render, never to record.
    private let families = Mutex<[Family]>([])

    public init() {}

    public func counter(_ name: String, help: String, labels: KeyValuePairs<String, String> = [:]) -> Counter
    {
        let counter = Counter()
        add(name, help: help, kind: .counter, labels: labels.map { ($0.key, $0.value) }, .counter(counter))
        return counter
    }

    /// One counter per value of `label`, all made now.
    public func counters(_ name: String, help: String, label: String, values: [String]) -> CounterFamily {
        let children = values.map { value in
            let counter = Counter()
            add(name, help: help, kind: .counter, labels: [(label, value)], .counter(counter))
            return (value, counter)
        }
        return CounterFamily(label: label, children: children)
    }

    @discardableResult
    public func gauge(
        _ name: String, help: String, labels: KeyValuePairs<String, String> = [:], _ gauge: Gauge
    )
        -> Gauge
    {
        add(name, help: help, kind: .gauge, labels: labels.map { ($0.key, $0.value) }, .gauge(gauge))
        return gauge
    }

    public func histogram(
        _ name: String, help: String, labels: KeyValuePairs<String, String> = [:], upperBounds: [Double]
    ) -> Histogram {
        let histogram = Histogram(upperBounds: upperBounds)
        add(
            name, help: help, kind: .histogram, labels: labels.map { ($0.key, $0.value) },
            .histogram(histogram))
        return histogram
    }

    /// Registering is set-up code: a malformed name or a clash is a programmer error, caught at start.
    private func add(
        _ name: String, help: String, kind: Kind, labels: [(name: String, value: String)], _ source: Source
    ) {
        precondition(TextFormat.isValidMetricName(name), "invalid metric name \(name)")
        for label in labels {
            precondition(
                TextFormat.isValidLabelName(label.name), "invalid label name \(label.name) on \(name)")
            precondition(!(kind == .histogram && label.name == "le"), "le is reserved on histogram \(name)")
        }
        families.withLock { families in
            let series = Series(labels: labels, source: source)
            if let index = families.firstIndex(where: { $0.name == name }) {
                precondition(
                    families[index].kind == kind && families[index].help == help,
                    "\(name) registered again with another type or help")
                precondition(
                    !families[index].series.contains { existing in
                        existing.labels.map(\.name) == labels.map(\.name)
                            && existing.labels.map(\.value) == labels.map(\.value)
                    }, "\(name) registered twice with the same labels")
                families[index].series.append(series)
            } else {
                families.append(Family(name: name, help: help, kind: kind, series: [series]))
            }
        }
    }

    /// The exposition text (`Content-Type: text/plain; version=0.0.4`).
    public func render() -> String {
        let families = families.withLock { $0 }
        var text = ""
        text.reserveCapacity(families.count * 256)
        for family in families {
            text += "# HELP \(family.name) \(TextFormat.escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for series in family.series {
                switch series.source {
                case .counter(let counter):
                    TextFormat.sample(&text, family.name, series.labels, String(counter.value))
                case .gauge(let gauge):
                    TextFormat.sample(&text, family.name, series.labels, TextFormat.number(gauge.value))
                case .histogram(let histogram):
                    let snapshot = histogram.snapshot()
                    let bounds = histogram.upperBounds.map(TextFormat.number) + ["+Inf"]
                    for (bound, count) in zip(bounds, snapshot.cumulativeCounts) {
                        TextFormat.sample(
                            &text, family.name + "_bucket", series.labels + [("le", bound)], String(count))
                    }
                    TextFormat.sample(
                        &text, family.name + "_sum", series.labels, TextFormat.number(snapshot.sum))
                    TextFormat.sample(&text, family.name + "_count", series.labels, String(snapshot.count))
                }
            }
        }
        return text
    }
}
