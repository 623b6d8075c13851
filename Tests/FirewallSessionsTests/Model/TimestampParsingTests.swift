import Testing

@testable import FirewallSessions

@Suite("Timestamp RFC 3339 parsing")
struct TimestampParsingTests {
    @Test("valid date-times, with fractions and offsets", arguments: [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2026-12-03T19:00:00Z", 1_796_324_400),
        ("2026-12-03T20:00:00+01:00", 1_796_324_400),
        ("2026-12-03t18:30:00.5-00:30", 1_796_324_400.5),
        ("2024-02-29T00:00:00z", 1_709_164_800),
    ])
    func valid(text: String, seconds: Double) {
        #expect(Timestamp(rfc3339: text)?.seconds == seconds)
    }

    @Test("a round trip of what the server writes")
    func roundTrip() {
        let time = Timestamp(seconds: 1_790_000_000.125)
        #expect(Timestamp(rfc3339: time.rfc3339) == time)
    }

    @Test("anything else is nil", arguments: [
        "", "yesterday", "2026-12-03", "2026-12-03T19:00:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-12-03T24:00:00Z", "2026-12-03T19:00:00.Z", "2026-12-03T19:00:00+0100", "2026-12-03T19:00:00Zjunk",
        "2026-12-03 19:00:00Z",
    ])
    func invalid(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}
