import Testing

@testable import FirewallAPI

/// The sampling of re-approval log lines: at most one a second, saying how many were left out.
@Suite("Audit line sampling")
struct LineSamplerTests {
    @Test("one line per interval; the next one let through counts those left out")
    func sampling() {
        let sampler = LineSampler(interval: .seconds(1))
        let start = ContinuousClock.now
        #expect(sampler.admit(now: start) == 0)
        #expect(sampler.admit(now: start + .milliseconds(500)) == nil)
        #expect(sampler.admit(now: start + .milliseconds(999)) == nil)
        #expect(sampler.admit(now: start + .milliseconds(1000)) == 2)
        #expect(sampler.admit(now: start + .milliseconds(1500)) == nil)
        #expect(sampler.admit(now: start + .seconds(5)) == 1)
    }
}
