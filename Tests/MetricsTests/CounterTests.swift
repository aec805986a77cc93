import Dispatch
import Metrics
import Testing

@Suite struct CounterTests {
    @Test func startsAtZeroAndAdds() {
        let counter = Counter()
        #expect(counter.value == 0)
        counter.increment()
        counter.increment(by: 41)
        #expect(counter.value == 42)
    }

    @Test func concurrentIncrementsAreAllCounted() {
        let counter = Counter()
        let threads = 8
        let increments = 100_000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<increments { counter.increment() }
        }
        #expect(counter.value == UInt64(threads * increments))
    }

    @Test func aFamilyHandsOutItsPreMadeChildren() {
        let registry = MetricsRegistry()
        let family = registry.counters(
            "jobs_total", help: "Jobs.", label: "result", values: ["ok", "failed"])
        family["ok"].increment()
        family["ok"].increment()
        family["failed"].increment()
        #expect(family["ok"] === family["ok"], "the same child every time, not a new one")
        #expect(family["ok"].value == 2)
        #expect(family["failed"].value == 1)
        #expect(family.label == "result")
        #expect(
            registry.render() == """
                # HELP jobs_total Jobs.
                # TYPE jobs_total counter
                jobs_total{result="ok"} 2
                jobs_total{result="failed"} 1

                """)
    }
}

@Suite struct GaugeTests {
    @Test func setReplacesTheValue() {
        let gauge = Gauge(3)
        #expect(gauge.value == 3)
        gauge.set(-1.5)
        #expect(gauge.value == -1.5)
    }

    @Test func aReadingGaugeAsksItsClosureEachTime() {
        let source = Counter()
        let gauge = Gauge(reading: { Double(source.value) })
        #expect(gauge.value == 0)
        source.increment(by: 7)
        #expect(gauge.value == 7)
    }
}
