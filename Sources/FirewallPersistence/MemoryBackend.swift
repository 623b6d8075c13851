import FirewallSessions

/// Keeps nothing: `--store memory`. Every change is "durable" at once, so nothing waits.
public final class MemoryBackend: PersistenceBackend {
    /// Creates the backend.
    public init() {}

    public func load() throws(PersistenceError) -> PersistedState { PersistedState() }
    public func enqueue(_ changes: [StateChange]) -> CommitTicket { 0 }
    public var latestTicket: CommitTicket { 0 }
    public func waitDurable(_ ticket: CommitTicket) async throws(PersistenceError) {}
    public var failure: PersistenceError? { nil }
    public func close() async {}
}
