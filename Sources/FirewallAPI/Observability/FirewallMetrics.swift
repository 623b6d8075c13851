import FirewallService
import FirewallSessions
import Prometheus

/// Every metric fwsessiond exports, in Prometheus text format at `GET /metrics`.
///
/// Counters and histograms are updated as things happen; the gauges of sessions and binds by
/// state are copied from the store's kept counts at scrape time, so a scrape costs the same with
/// a million binds as with ten.
public final class FirewallMetrics: Sendable {
    /// The registry the text is rendered from.
    public let registry = PrometheusCollectorRegistry()
    private let hresults: [HResult: Counter]
    private let decisions: [DecisionReason: Counter]
    private let events: [DomainEvent.Kind: Counter]
    private let expiries: Counter
    private let revocations: Counter
    private let sessions: [SessionState: Gauge]
    private let binds: [BindState: Gauge]
    private let policyVersion: Gauge
    private let subscribers: Gauge
    private let commitDuration: DurationHistogram
    private let commitChanges: ValueHistogram

    /// Latency buckets from 50 µs to 5 s: decisions take tens of microseconds, durable writes a
    /// few milliseconds.
    static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// Creates the metrics, every labelled series up front so all appear from the first scrape.
    public init() {
        let registry = registry
        hresults = Dictionary(uniqueKeysWithValues: HResult.all.map { hresult in
            (hresult, registry.makeCounter(
                name: "fwsessiond_hresults_total", labels: [("hresult", hresult.name)],
                help: "Answers by HRESULT."))
        })
        decisions = Dictionary(uniqueKeysWithValues: DecisionReason.allCases.map { reason in
            let verdict = reason == .allowed || reason == .bidirectionalReply ? "accept" : "discard"
            return (reason, registry.makeCounter(
                name: "fwsessiond_decisions_total", labels: [("verdict", verdict), ("reason", reason.rawValue)],
                help: "Packet decisions by verdict and reason."))
        })
        events = Dictionary(uniqueKeysWithValues: DomainEvent.Kind.allCases.map { kind in
            (kind, registry.makeCounter(
                name: "fwsessiond_events_total", labels: [("type", kind.rawValue)], help: "State-change events by type."))
        })
        expiries = registry.makeCounter(
            name: "fwsessiond_bind_expiries_total", help: "Pending binds removed because nobody approved them in time.")
        revocations = registry.makeCounter(
            name: "fwsessiond_bind_revocations_total", help: "Allowed binds sent back to pending by a policy change.")
        sessions = Dictionary(uniqueKeysWithValues: SessionState.allCases.map { state in
            (state, registry.makeGauge(name: "fwsessiond_sessions", labels: [("state", state.rawValue)], help: "Sessions by state."))
        })
        binds = Dictionary(uniqueKeysWithValues: BindState.allCases.map { state in
            (state, registry.makeGauge(name: "fwsessiond_binds", labels: [("state", state.rawValue)], help: "Binds by state."))
        })
        policyVersion = registry.makeGauge(name: "fwsessiond_policy_version", help: "The current policy version.")
        subscribers = registry.makeGauge(name: "fwsessiond_event_subscribers", help: "Connected /events subscribers.")
        commitDuration = registry.makeDurationHistogram(
            name: "fwsessiond_store_commit_duration_seconds", buckets: Self.latencyBuckets,
            help: "Time to write and sync one group commit of the durable store.")
        commitChanges = registry.makeValueHistogram(
            name: "fwsessiond_store_commit_changes", buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
            help: "Changes written per group commit.")
    }

    /// Counts one answered request.
    public func recordRequest(route: String, method: String, status: Int, hresult: HResult, duration: Duration) {
        registry.makeCounter(
            name: "fwsessiond_http_requests_total",
            labels: [("route", route), ("method", method), ("status", String(status))],
            help: "HTTP requests by route template, method and status."
        ).increment()
        registry.makeDurationHistogram(
            name: "fwsessiond_http_request_duration_seconds", labels: [("route", route)],
            buckets: Self.latencyBuckets, help: "Request latency by route template."
        ).record(duration)
        hresults[hresult]?.increment()
    }

    /// Counts decisions by reason (batched: one add per reason).
    public func recordDecisions(_ answered: [Decision]) {
        var counts = [DecisionReason: Int]()
        for decision in answered { counts[decision.reason, default: 0] += 1 }
        for (reason, count) in counts { decisions[reason]?.increment(by: Int64(count)) }
    }

    /// Counts state-change events, expiries and revocations among them.
    public func recordEvents(_ happened: [DomainEvent]) {
        for event in happened {
            events[event.kind]?.increment()
            if event.kind == .bindExpired { expiries.increment() }
            if event.kind == .bindRevoked { revocations.increment() }
        }
    }

    /// Records one group commit.
    public func recordCommit(duration: Duration, changes: Int) {
        commitDuration.record(duration)
        commitChanges.record(Double(changes))
    }

    /// The current number of event subscribers.
    public func setSubscribers(_ count: Int) { subscribers.set(Int64(count)) }

    /// The text exposition, with the gauges refreshed from the store's counts.
    public func render(_ statistics: StoreStatistics) -> [UInt8] {
        for (state, gauge) in sessions { gauge.set(Int64(statistics.sessionsByState[state] ?? 0)) }
        for (state, gauge) in binds { gauge.set(Int64(statistics.bindsByState[state] ?? 0)) }
        policyVersion.set(statistics.policyVersion)
        return registry.emitToBuffer()
    }
}
