/// Everything the durable store holds, as loaded at start.
public struct PersistedState: Sendable {
    /// Sessions (their `bindIDs` and `pendingBindCount` are rebuilt from `binds`).
    public var sessions: [Session] = []
    /// Binds.
    public var binds: [Bind] = []
    /// Stored IP filters.
    public var filters: [StoredIPFilter] = []
    /// User-defined protocol definitions (built-ins are not stored).
    public var protocols: [ProtocolDefinition] = []
    /// User rules in evaluation order.
    public var rules: [AccessRule] = []
    /// Id counters and the policy version; nil for a new store.
    public var metadata: StateMetadata?

    /// An empty state.
    public init() {}
}

extension FirewallState {
    /// What this state holds, in the shape the store loads it: what a sink that joins after the
    /// restore (the data plane) brings itself in line with. Binds come in id order.
    public func snapshot() -> PersistedState {
        var snapshot = PersistedState()
        snapshot.sessions = sessions.values.sorted { $0.sequence < $1.sequence }
        snapshot.binds = binds.values.sorted { $0.id < $1.id }
        snapshot.filters = filters.values.sorted { $0.sequence < $1.sequence }
        snapshot.protocols = protocols.values.filter { !$0.isBuiltIn }
        snapshot.rules = rules
        snapshot.metadata = metadata
        return snapshot
    }
}
