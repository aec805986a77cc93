import Correlation
import Testing

@Suite struct TimestampDateTimeTests {
    static let eight: Int64 = 1_795_680_000_000  // 2026-11-26T08:00:00.000Z

    @Test(arguments: [
        ("2026-11-26T08:00:00Z", eight),
        ("2026-11-26t08:00:00z", eight),
        ("2026-11-26T08:00:00.000Z", eight),
        ("2026-11-26T08:00:00+00:00", eight),
        ("2026-11-26T08:00:00-00:00", eight),
        ("2026-11-26T16:00:00+08:00", eight),
        ("2026-11-26T02:30:00-05:30", eight),
        ("2026-11-27T07:59:00+23:59", eight),
        ("2026-11-25T08:01:00-23:59", eight),
        ("2026-11-26T08:00:00.5Z", eight + 500),
        ("2026-11-26T08:00:00.05Z", eight + 50),
        ("2026-11-26T08:00:00.123Z", eight + 123),
        ("2026-11-26T16:00:00.123+08:00", eight + 123),
        ("2026-11-26T15:47:21.123Z", 1_795_708_041_123),
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T08:00:00+08:00", 0),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
    ])
    func knownInstants(text: String, milliseconds: Int64) {
        #expect(Timestamp.firstMillisecond(atOrAfter: text) == milliseconds)
    }

    /// Finer than a millisecond rounds up: `boundAt >= result` must mean "not before the instant".
    @Test(arguments: [
        ("2026-11-26T08:00:00.0000Z", eight),
        ("2026-11-26T08:00:00.000000000Z", eight),
        ("2026-11-26T08:00:00.0001Z", eight + 1),
        ("2026-11-26T08:00:00.000000001Z", eight + 1),
        ("2026-11-26T08:00:00.1239Z", eight + 124),
        ("2026-11-26T08:00:00.9991Z", eight + 1000),
        ("2026-11-26T07:59:59.9999Z", eight),
        ("1969-12-31T23:59:59.9995Z", 0),
    ])
    func subMillisecondsRoundUp(text: String, milliseconds: Int64) {
        #expect(Timestamp.firstMillisecond(atOrAfter: text) == milliseconds)
    }

    @Test func agreesWithTheLedgersOwnForm() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let value = Int64.random(in: 0...253_402_300_799_999, using: &generator)
            let text = Timestamp.rfc3339(milliseconds: value)
            #expect(Timestamp.firstMillisecond(atOrAfter: text) == value, "\(text)")
        }
    }

    @Test(arguments: [
        "", "2026-11-26", "08:00:00Z", "2026-11-26T08:00:00", "2026-11-26T08:00Z", "2026-11-26 08:00:00Z",
        "2026-11-26T08:00:00.Z", "2026-11-26T08:00:00,5Z", "2026-11-26T08:00:00+0800",
        "2026-11-26T08:00:00+08",
        "2026-11-26T08:00:00+8:00", "2026-11-26T08:00:00+24:00", "2026-11-26T08:00:00+08:60",
        "2026-11-26T08:00:00Z ", " 2026-11-26T08:00:00Z", "2026-11-26T08:00:00ZZ", "2026-11-26T08:00:00UTC",
        "2026-11-26T24:00:00Z", "2026-11-26T08:60:00Z", "2026-11-26T08:00:60Z", "2026-12-31T23:59:60Z",
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-31T00:00:00Z",
        "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "20260-11-26T08:00:00Z", "226-11-26T08:00:00Z",
        "2026-1-26T08:00:00Z", "2026/11/26T08:00:00Z", "2026-11-26T08:00:0aZ", "+2026-11-26T08:00:00Z",
        "２026-11-26T08:00:00Z", "1795680000000", "now",
    ])
    func rejectsWhatIsNotAnRFC3339DateTime(text: String) {
        #expect(Timestamp.firstMillisecond(atOrAfter: text) == nil)
    }
}
