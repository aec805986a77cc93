import Metrics
import Testing

@Suite struct MetricsRegistryTests {
    @Test func rendersEveryKindExactly() {
        let registry = MetricsRegistry()
        let requests = registry.counter("app_requests_total", help: "Requests served.")
        registry.gauge("app_temperature_celsius", help: "Temperature.", Gauge(21.5))
        let latency = registry.histogram(
            "app_latency_seconds", help: "Latency.", labels: ["path": "/a"], upperBounds: [0.005, 0.5, 1])
        requests.increment(by: 3)
        latency.observe(0.001)
        latency.observe(0.25)
        latency.observe(2)
        #expect(
            registry.render() == """
                # HELP app_requests_total Requests served.
                # TYPE app_requests_total counter
                app_requests_total 3
                # HELP app_temperature_celsius Temperature.
                # TYPE app_temperature_celsius gauge
                app_temperature_celsius 21.5
                # HELP app_latency_seconds Latency.
                # TYPE app_latency_seconds histogram
                app_latency_seconds_bucket{path="/a",le="0.005"} 1
                app_latency_seconds_bucket{path="/a",le="0.5"} 2
                app_latency_seconds_bucket{path="/a",le="1"} 2
                app_latency_seconds_bucket{path="/a",le="+Inf"} 3
                app_latency_seconds_sum{path="/a"} 2.251
                app_latency_seconds_count{path="/a"} 3

                """)
    }

    @Test func seriesOfOneNameShareOneHeaderInRegistrationOrder() {
        let registry = MetricsRegistry()
        registry.gauge("open", help: "Open.", labels: ["listener": "ipc"], Gauge(1))
        _ = registry.counter("other_total", help: "Other.")
        registry.gauge("open", help: "Open.", labels: ["listener": "callback"], Gauge(reading: { 2 }))
        let expected = """
            # HELP open Open.
            # TYPE open gauge
            open{listener="ipc"} 1
            open{listener="callback"} 2
            # HELP other_total Other.
            # TYPE other_total counter
            other_total 0

            """
        #expect(registry.render() == expected)
        #expect(registry.render() == expected, "a second scrape lists the same lines in the same order")
    }

    @Test func escapesLabelValuesAndHelp() {
        let registry = MetricsRegistry()
        _ = registry.counter(
            "build_total", help: "Back\\slash and\nnewline; \"quotes\" stay.",
            labels: ["version": "a\\b\"c\nd", "plain": "ünïcode"])
        #expect(
            registry.render() == """
                # HELP build_total Back\\\\slash and\\nnewline; "quotes" stay.
                # TYPE build_total counter
                build_total{version="a\\\\b\\"c\\nd",plain="ünïcode"} 0

                """)
    }

    @Test func rendersSpecialAndSmallNumbers() {
        let registry = MetricsRegistry()
        registry.gauge("g", help: "G.", labels: ["v": "nan"], Gauge(.nan))
        registry.gauge("g", help: "G.", labels: ["v": "inf"], Gauge(.infinity))
        registry.gauge("g", help: "G.", labels: ["v": "-inf"], Gauge(-.infinity))
        registry.gauge("g", help: "G.", labels: ["v": "small"], Gauge(0.00005))
        registry.gauge("g", help: "G.", labels: ["v": "whole"], Gauge(1_700_000_000))
        registry.gauge("g", help: "G.", labels: ["v": "negative"], Gauge(-2))
        let histogram = registry.histogram("h", help: "H.", upperBounds: [0.00005, 1])
        histogram.observe(0.00001)
        #expect(
            registry.render() == """
                # HELP g G.
                # TYPE g gauge
                g{v="nan"} NaN
                g{v="inf"} +Inf
                g{v="-inf"} -Inf
                g{v="small"} 5e-05
                g{v="whole"} 1700000000
                g{v="negative"} -2
                # HELP h H.
                # TYPE h histogram
                h_bucket{le="5e-05"} 1
                h_bucket{le="1"} 1
                h_bucket{le="+Inf"} 1
                h_sum 1e-05
                h_count 1

                """)
    }

    @Test func anEmptyRegistryRendersNothing() {
        #expect(MetricsRegistry().render() == "")
    }
}
