/// Quotas and timers of the state, all configurable, with the defaults API.md gives.
public struct FirewallSettings: Sendable, Equatable {
    /// Pending binds one session may hold (a helper that never approves cannot exhaust ports).
    public var maxPendingBindsPerSession = 64
    /// Binds in all.
    public var maxBinds = 1_000_000
    /// Sessions in all.
    public var maxSessions = 1_000_000
    /// Stored IP filters in all.
    public var maxIPFilters = 100_000
    /// Ranges one filter may hold after normalisation.
    public var maxRangesPerFilter = 100_000
    /// Access rules in all (user rules; the default rule is extra).
    public var maxRules = 10_000
    /// Protocol definitions in all.
    public var maxProtocols = 10_000
    /// Peers remembered per bidirectional bind.
    public var recentPeersPerBind = 64
    /// Retry-After sent with FWX_E_IS_BUSY.
    public var quotaRetryAfterSeconds = 1
    /// A pending bind nobody approves is removed after this many seconds.
    public var pendingTimeoutSeconds: Double = 300
    /// Terminating sessions and binds are purged after this many seconds.
    public var gracePeriodSeconds: Double = 30
    /// A peer counts as recent for bidirectional replies for this many seconds.
    public var bidirectionalWindowSeconds: Double = 120
    /// Whether `/decisions` count in the deciding bind's counters. Off when a data plane counts
    /// the real packets (its kernel counters are the binds' counters then).
    public var decisionsCountTraffic = true

    /// The defaults.
    public init() {}
}
