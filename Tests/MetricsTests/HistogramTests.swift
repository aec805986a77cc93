import Dispatch
import Metrics
import Testing

@Suite struct HistogramTests {
    @Test func countsAreCumulativeWithTheBoundItselfInItsBucket() {
        let histogram = Histogram(upperBounds: [0.1, 1, 10])
        for value in [0.05, 0.1, 0.5, 1, 1, 7, 10, 11, 1000] { histogram.observe(value) }
        let snapshot = histogram.snapshot()
        // le is "less than or equal": 0.1 counts in the 0.1 bucket, 10 in the 10 bucket.
        #expect(snapshot.cumulativeCounts == [2, 5, 7, 9])
        #expect(snapshot.count == 9)
        #expect(snapshot.sum == 0.05 + 0.1 + 0.5 + 1 + 1 + 7 + 10 + 11 + 1000)
    }

    @Test func emptyHistogramIsAllZero() {
        let snapshot = Histogram(upperBounds: [1]).snapshot()
        #expect(snapshot.cumulativeCounts == [0, 0])
        #expect(snapshot.count == 0)
        #expect(snapshot.sum == 0)
    }

    @Test func concurrentObservationsAreAllCounted() {
        let histogram = Histogram(upperBounds: [1, 2])
        let threads = 8
        let observations = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            // Whole numbers: their sum is exact in a Double, so a lost update would show.
            for _ in 0..<observations { histogram.observe(Double(thread % 3)) }
        }
        let snapshot = histogram.snapshot()
        let perValue = (0..<threads).reduce(into: [0, 0, 0]) { counts, thread in
            counts[thread % 3] += observations
        }
        #expect(snapshot.count == UInt64(threads * observations))
        #expect(
            snapshot.cumulativeCounts == [
                UInt64(perValue[0] + perValue[1]), UInt64(perValue[0] + perValue[1] + perValue[2]),
                UInt64(threads * observations),
            ])
        #expect(snapshot.sum == Double(perValue[1] + 2 * perValue[2]))
    }
}
