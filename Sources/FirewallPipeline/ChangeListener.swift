import FirewallSessions

/// Hears what the pipeline completed: events of changes that every sink now holds, in order.
public protocol ChangeListener: Sendable {
    /// Events whose changes are durable (and in the kernel), in the order they happened.
    func published(_ events: [DomainEvent])

    /// Changes whose callers were answered with an error were applied afterwards by a retry: their
    /// events were withheld (nobody may be told of a change before it holds), so subscribers must
    /// re-read the state.
    func withheldChangesApplied()

    /// A sink applied a batch of `changes` changes in `duration` (for metrics).
    func applied(sink: String, duration: Duration, changes: Int)

    /// A sink failed to apply a batch (for metrics; the pipeline logs it).
    func failed(sink: String)
}

extension ChangeListener {
    public func withheldChangesApplied() {}
    public func applied(sink: String, duration: Duration, changes: Int) {}
    public func failed(sink: String) {}
}
