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
    /// How long an approval lasts when RetroactiveAllowBind gives no `lifetimeSeconds`; nil: until
    /// the bind is closed (or its session ends).
    public var approvalLifetimeSeconds: Double?
    /// Requested lifetimes shorter than this are raised to it.
    public var minApprovalLifetimeSeconds: Double = 1
    /// Requested lifetimes longer than this are cut to it, and approvals without one get it; nil: no cap.
    public var maxApprovalLifetimeSeconds: Double?
    /// An approval without accepted traffic for this many seconds expires; nil: never.
    public var approvalIdleTimeoutSeconds: Double?
    /// A session without activity (changes to it, traffic its binds accepted) for this many seconds
    /// expires; nil: never.
    public var sessionIdleTimeoutSeconds: Double?
    /// Whether `/decisions` count in the deciding bind's counters. Off when a data plane counts
    /// the real packets (its kernel counters are the binds' counters then).
    public var decisionsCountTraffic = true

    /// The defaults.
    public init() {}

    /// The lifetime an approval gets for a requested one (nil: none asked): the request, else the
    /// configured default, within the configured minimum and maximum; nil when it has no end.
    public func approvalLifetime(requested: Double?) -> Double? {
        var lifetime = requested ?? approvalLifetimeSeconds
        if let cap = maxApprovalLifetimeSeconds { lifetime = min(lifetime ?? cap, cap) }
        return lifetime.map { max($0, minApprovalLifetimeSeconds) }
    }
}
