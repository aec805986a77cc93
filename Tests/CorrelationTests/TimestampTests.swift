import Correlation
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (1_628_772_138_668, "2021-08-12T12:42:18.668Z"),
        (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
        (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
        (1_709_251_200_000, "2024-03-01T00:00:00.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),  // 2100 is not a leap year: Feb 28 → Mar 1
        (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),
        (4_102_444_800_000, "2100-01-01T00:00:00.000Z"),
        (1_795_708_041_123, "2026-11-26T15:47:21.123Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ])
    func knownValues(milliseconds: Int64, text: String) {
        #expect(Timestamp.rfc3339(milliseconds: milliseconds) == text)
        #expect(Timestamp.parse(text) == milliseconds)
    }

    @Test func appendsAfterWhatTheBufferHolds() {
        var bytes = Array("boundAt=".utf8)
        Timestamp.appendRFC3339(milliseconds: 1_628_772_138_668, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "boundAt=2021-08-12T12:42:18.668Z")
        // Past four-digit years the general form still applies (parse refuses it: never a real time).
        #expect(Timestamp.rfc3339(milliseconds: 253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
    }

    @Test func parseRoundTripsManyValues() {
        var value: Int64 = 0
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            // Walk through every day for ~55 years, then random instants up to year 9999.
            value =
                step < 10_000
                ? Int64(step) * 86_400_000 * 2 + Int64(step % 1000) * 3_599_999
                : Int64.random(in: 0...253_402_300_799_999, using: &generator)
            let text = Timestamp.rfc3339(milliseconds: value)
            #expect(Timestamp.parse(text) == value, "\(value) → \(text)")
            if Timestamp.parse(text) != value { return }
        }
    }

    @Test(arguments: [
        "", "2021-08-12", "2021-08-12T12:42:18Z", "2021-08-12T12:42:18.668", "2021-08-12T12:42:18.668+00:00",
        "2021-08-12 12:42:18.668Z", "2021-08-12t12:42:18.668Z", "2021-08-12T12:42:18.668z",
        "2021/08/12T12:42:18.668Z",
        "2021-08-12T12:42:18,668Z", "2021-08-12T12:42:18.6680Z", "2021-8-12T12:42:18.668ZZ",
        "２021-08-12T12:42:18.668Z",
        "2021-13-12T12:42:18.668Z", "2021-00-12T12:42:18.668Z", "2021-08-00T12:42:18.668Z",
        "2021-08-32T12:42:18.668Z",
        "2021-08-12T24:00:00.000Z", "2021-08-12T12:60:00.000Z", "2021-08-12T12:42:61.000Z",
        "2021-08-12T12:42:1a.668Z",
        "-021-08-12T12:42:18.668Z", "2021-08-12T12:42:18.-68Z", " 2021-08-12T12:42:18.668Z",
        "2023-02-29T00:00:00.000Z", "2100-02-29T00:00:00.000Z", "2021-04-31T00:00:00.000Z",
        "2021-02-30T00:00:00.000Z",
        "2021-08-12T12:42:60.000Z",
    ])
    func parseRejectsMalformed(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
