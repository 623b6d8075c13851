import FirewallSessions

/// Where binds' traffic counters come from when packets are counted outside the state: the
/// data plane reads them from the kernel. The service reads through it whenever it answers with
/// binds, and the source feeds its readings back into the state now and then (for `/ui`, events
/// and the durable copy).
public protocol TrafficCounterSource: Sendable {
    /// The binds' counters as they are now; binds it does not know are left out.
    func counters(of binds: [Bind]) -> [BindID: BindCounters]

    /// Packets accepted and discarded in all, for metrics; nil when they cannot be read.
    func totals() -> (accepted: UInt64, discarded: UInt64)?

    /// Sets where periodic readings go (called once, before the pipeline starts).
    func observeCounters(_ observer: @escaping @Sendable ([BindCounters]) -> Void)
}
