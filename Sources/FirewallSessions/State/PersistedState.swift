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
