import FirewallService
import FirewallSessions
import Prometheus
import Synchronization

/// Every metric fwsessiond exports, in Prometheus text format at `GET /metrics`.
///
/// Counters and histograms are updated as things happen; the gauges of sessions and binds by
/// state are copied from the store's kept counts at scrape time, so a scrape costs the same with
/// a million binds as with ten. Per-request series are looked up in a small cache of their own,
/// so the request path does not go through the registry's name and label matching.
public final class FirewallMetrics: Sendable {
    /// The registry the text is rendered from.
    public let registry = PrometheusCollectorRegistry()
    private let hresults: [HResult: Counter]
    private let decisions: [DecisionReason: Counter]
    private let events: [DomainEvent.Kind: Counter]
    private let expiries: Counter
    private let revocations: Counter
    private let reapprovals: Counter
    private let sessions: [SessionState: Gauge]
    private let binds: [BindState: Gauge]
    private let policyVersion: Gauge
    private let subscribers: Gauge
    private let commitDuration: DurationHistogram
    private let commitChanges: ValueHistogram
    private let sinkFailures: [String: Counter]
    private let dataPlanePackets: [String: Counter]
    private let dataPlaneLastTotals = Mutex<(accepted: UInt64, discarded: UInt64)>((0, 0))
    private let dataPlaneRepairs: Counter
    private let dataPlaneTransactions: DurationHistogram
    private let dataPlaneLoadSeconds: Gauge
    private let requestSeries = Mutex<[RequestKey: RequestSeries]>([:])

    private struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private struct RequestSeries: Sendable {
        var count: Counter
        var duration: DurationHistogram
    }

    /// Latency buckets from 50 µs to 5 s: decisions take tens of microseconds, durable writes a
    /// few milliseconds.
    static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// `fwsessiond_<name>_<unit>`.
    static func metric(_ name: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "fwsessiond", metricName: name, unitName: unit, helpText: help)
    }

    /// Creates the metrics, every labelled series known up front, so all appear from the first scrape.
    /// `buildInfo` labels `fwsessiond_build_info` (version, libraries), whose value is always 1.
    public init(buildInfo: [(String, String)] = []) {
        let registry = registry
        if !buildInfo.isEmpty {
            registry.makeGauge(
                descriptor: Self.metric("build_info", "The build: version and the libraries it runs on; always 1."), labels: buildInfo
            ).set(Int64(1))
        }
        hresults = Dictionary(uniqueKeysWithValues: HResult.table.map(\.hresult).map { hresult in
            (hresult, registry.makeCounter(
                descriptor: Self.metric("hresults", unit: "total", "Answers by HRESULT."), labels: [("hresult", hresult.name)]))
        })
        decisions = Dictionary(uniqueKeysWithValues: DecisionReason.allCases.map { reason in
            let verdict = reason == .allowed || reason == .bidirectionalReply ? "accept" : "discard"
            return (reason, registry.makeCounter(
                descriptor: Self.metric("decisions", unit: "total", "Packet decisions by verdict and reason."),
                labels: [("verdict", verdict), ("reason", reason.rawValue)]))
        })
        events = Dictionary(uniqueKeysWithValues: DomainEvent.Kind.allCases.map { kind in
            (kind, registry.makeCounter(
                descriptor: Self.metric("events", unit: "total", "State-change events by type."), labels: [("type", kind.rawValue)]))
        })
        expiries = registry.makeCounter(
            descriptor: Self.metric(
                "bind_expiries", unit: "total", "Binds removed because nobody approved them in time or their approval ran out (lifetime, idle)."))
        revocations = registry.makeCounter(
            descriptor: Self.metric("bind_revocations", unit: "total", "Allowed binds sent back to pending by a policy change."))
        reapprovals = registry.makeCounter(
            descriptor: Self.metric(
                "retroactive_reapprovals", unit: "total",
                "RetroactiveAllowBind calls answered S_FALSE (already allowed): not kept in the audit trail, their log lines sampled."))
        sessions = Dictionary(uniqueKeysWithValues: SessionState.allCases.map { state in
            (state, registry.makeGauge(descriptor: Self.metric("sessions", "Sessions by state."), labels: [("state", state.rawValue)]))
        })
        binds = Dictionary(uniqueKeysWithValues: BindState.allCases.map { state in
            (state, registry.makeGauge(descriptor: Self.metric("binds", "Binds by state."), labels: [("state", state.rawValue)]))
        })
        policyVersion = registry.makeGauge(descriptor: Self.metric("policy_version", "The current policy version."))
        subscribers = registry.makeGauge(descriptor: Self.metric("event_subscribers", "Connected /events subscribers."))
        commitDuration = registry.makeDurationHistogram(
            descriptor: Self.metric("store_commit_duration", unit: "seconds", "Time to write and sync one group commit of the durable store."),
            buckets: Self.latencyBuckets)
        commitChanges = registry.makeValueHistogram(
            descriptor: Self.metric("store_commit_changes", "Changes written per group commit."),
            buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000])
        sinkFailures = Dictionary(uniqueKeysWithValues: ["store", "dataplane"].map { sink in
            (sink, registry.makeCounter(
                descriptor: Self.metric(
                    "sink_failures", unit: "total", "Batches of changes a sink (store, dataplane) could not apply; each is retried."),
                labels: [("sink", sink)]))
        })
        dataPlanePackets = Dictionary(uniqueKeysWithValues: ["accept", "discard"].map { verdict in
            (verdict, registry.makeCounter(
                descriptor: Self.metric(
                    "dataplane_packets", unit: "total", "Packets to or from binds that the kernel's table accepted or discarded."),
                labels: [("verdict", verdict)]))
        })
        dataPlaneRepairs = registry.makeCounter(
            descriptor: Self.metric(
                "dataplane_repairs", unit: "total", "Times the nftables table was loaded again because it was not what fwsessiond put there."))
        dataPlaneTransactions = registry.makeDurationHistogram(
            descriptor: Self.metric(
                "dataplane_transaction_duration", unit: "seconds", "Time of one nftables transaction applying a batch of changes."),
            buckets: Self.latencyBuckets)
        dataPlaneLoadSeconds = registry.makeGauge(
            descriptor: Self.metric("dataplane_load_duration_seconds", "Time the last full load of the nftables table took, in seconds."))
    }

    /// Counts one answered request (route is the template, so the label set stays bounded).
    public func recordRequest(route: String, method: String, status: Int, hresult: HResult, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let series = requestSeries.withLock { cache in
            if let found = cache[key] { return found }
            let made = RequestSeries(
                count: registry.makeCounter(
                    descriptor: Self.metric("http_requests", unit: "total", "HTTP requests by route template, method and status."),
                    labels: [("route", route), ("method", method), ("status", String(status))]),
                duration: registry.makeDurationHistogram(
                    descriptor: Self.metric("http_request_duration", unit: "seconds", "Request latency by route template."),
                    labels: [("route", route)], buckets: Self.latencyBuckets))
            cache[key] = made
            return made
        }
        series.count.increment()
        series.duration.record(duration)
        hresults[hresult]?.increment()
    }

    /// Counts decisions by reason (batched: one add per reason).
    public func recordDecisions(_ answered: [Decision]) {
        if answered.count == 1, let reason = answered.first?.reason {
            decisions[reason]?.increment()
            return
        }
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

    /// Records one batch applied by a pipeline sink (`store`: one group commit).
    public func recordApplied(sink: String, duration: Duration, changes: Int) {
        switch sink {
        case "store":
            commitDuration.record(duration)
            commitChanges.record(Double(changes))
        case "dataplane":
            dataPlaneTransactions.record(duration)
        default:
            break
        }
    }

    /// Counts a repair of the data plane's table.
    public func recordDataPlaneRepair() { dataPlaneRepairs.increment() }

    /// Counts a RetroactiveAllowBind that changed nothing (S_FALSE).
    public func recordReapproval() { reapprovals.increment() }

    /// Records how long the last full load of the data plane's table took.
    public func recordDataPlaneLoad(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        dataPlaneLoadSeconds.set(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// Counts a batch a pipeline sink could not apply.
    public func recordFailure(sink: String) {
        sinkFailures[sink]?.increment()
    }

    /// The current number of event subscribers.
    public func setSubscribers(_ count: Int) { subscribers.set(Int64(count)) }

    /// The text exposition, with the gauges refreshed from the store's counts and the data
    /// plane's packet counters from the kernel's (a kernel counter that went down was reset with
    /// its table, so it counts from zero again).
    public func render(_ statistics: StoreStatistics, dataPlaneTotals: (accepted: UInt64, discarded: UInt64)? = nil) -> [UInt8] {
        if let totals = dataPlaneTotals {
            let last = dataPlaneLastTotals.withLock { last in
                defer { last = totals }
                return last
            }
            func grown(_ now: UInt64, _ before: UInt64) -> Int64 { Int64(clamping: now >= before ? now - before : now) }
            dataPlanePackets["accept"]?.increment(by: grown(totals.accepted, last.accepted))
            dataPlanePackets["discard"]?.increment(by: grown(totals.discarded, last.discarded))
        }
        for (state, gauge) in sessions { gauge.set(Int64(statistics.sessionsByState[state] ?? 0)) }
        for (state, gauge) in binds { gauge.set(Int64(statistics.bindsByState[state] ?? 0)) }
        policyVersion.set(statistics.policyVersion)
        return registry.emitToBuffer() + Array(ProcessMetrics.render().utf8)
    }
}
