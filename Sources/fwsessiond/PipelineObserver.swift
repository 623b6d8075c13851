import FirewallAPI
import FirewallPipeline
import FirewallSessions

/// Where the change pipeline's completions go: events to `/events` subscribers and metrics,
/// sink timings and failures to metrics.
struct PipelineObserver: ChangeListener {
    let events: EventHub
    let metrics: FirewallMetrics

    func published(_ happened: [DomainEvent]) {
        metrics.recordEvents(happened)
        events.publish(happened)
    }

    func withheldChangesApplied() {
        events.resync(reason: "changes whose callers were answered 503 were applied by a retry")
    }

    func applied(sink: String, duration: Duration, changes: Int) {
        metrics.recordApplied(sink: sink, duration: duration, changes: changes)
    }

    func failed(sink: String) {
        metrics.recordFailure(sink: sink)
    }
}
