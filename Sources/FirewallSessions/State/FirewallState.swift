/// All sessions, binds, IP filters and policy, with every operation on them: the pure core of
/// fwsessiond.
///
/// A value type without I/O or clocks (`now` is passed in) so the bind state machine, the check
/// order of RetroactiveAllowBind and the decision path are tested directly. Every mutation appends
/// what it changed to a `ChangeSet`, which the store actor persists and publishes. Lookups by id
/// or address are hash lookups; nothing on the request path scans all binds.
public struct FirewallState: Sendable {
    /// Quotas and timers.
    public let settings: FirewallSettings

    var sessions: [String: Session] = [:]
    var sessionOrder = InsertionOrderIndex<String>()
    var binds: [BindID: Bind] = [:]
    var bindIndex = BindAddressIndex()
    var recentPeers: [BindID: RecentPeers] = [:]
    var dirtyCounters: Set<BindID> = []
    var filters: [String: StoredIPFilter] = [:]
    var filterOrder = InsertionOrderIndex<String>()
    /// How many allowed binds reference each stored filter, to refuse deleting one in use.
    var filterReferences: [String: Int] = [:]
    /// How many allowed binds were granted each protocol, to refuse deleting one in use.
    var protocolReferences: [ProtocolGUID: Int] = [:]
    var protocols: [ProtocolGUID: ProtocolDefinition] = [:]
    /// User rules in evaluation order; the default rule follows them implicitly.
    var rules: [AccessRule] = []
    var evaluator: RuleEvaluator
    var timers = TimerQueue()
    /// Approvals and sessions whose idle time ran out while a data plane counts the traffic: they
    /// wait for a fresh reading of the kernel's counters before they expire.
    var idleChecks = IdleChecks()
    var metadata = StateMetadata()
    var sessionCounts: [SessionState: Int] = [:]
    var bindCounts: [BindState: Int] = [:]
    /// In an array, the blocks of ids this node was handed (nil: one node counts on its own).
    var sequenceBlocks: SequenceBlocks?

    /// An empty state with the built-in protocols.
    public init(settings: FirewallSettings = FirewallSettings()) {
        self.settings = settings
        for definition in BuiltInProtocols.all { protocols[definition.guid] = definition }
        evaluator = RuleEvaluator(rules: [], definedProtocols: Set(protocols.keys))
    }

    /// Rebuilds the state and its indexes from what the durable store holds. Deadlines are
    /// re-derived from the stored timestamps, so expiry and purges continue across a restart.
    ///
    /// With `addressIndex`, the address index is built by someone else: it is handed the binds in
    /// id order before the other tables are filled, and the function it returns is called for the
    /// index once they are (`FirewallService` builds a large index on a thread of its own meanwhile).
    /// Without it, the index is built inline.
    public init(
        restoring persisted: PersistedState, settings: FirewallSettings = FirewallSettings(),
        addressIndex: ((_ bindsInIDOrder: [Bind]) -> () -> BindAddressIndex)? = nil
    ) {
        self.init(settings: settings)
        metadata = persisted.metadata ?? StateMetadata()
        for definition in persisted.protocols where !definition.isBuiltIn { protocols[definition.guid] = definition }
        rules = persisted.rules
        for rule in rules where rule.id.hasPrefix("r-") {
            if let number = UInt64(rule.id.dropFirst(2)) { metadata.lastSequence = max(metadata.lastSequence, number) }
        }
        // Sized once: growing tables of a million entries step by step costs seconds of rehashing.
        sessions.reserveCapacity(persisted.sessions.count)
        binds.reserveCapacity(persisted.binds.count)
        for session in persisted.sessions.sorted(by: { $0.sequence < $1.sequence }) {
            insertStoredSession(session, runningTimers: true)
            metadata.lastSequence = max(metadata.lastSequence, session.sequence)
        }
        for filter in persisted.filters.sorted(by: { $0.sequence < $1.sequence }) {
            filters[filter.id] = filter
            filterOrder.append(filter.id, sequence: filter.sequence)
            metadata.lastSequence = max(metadata.lastSequence, filter.sequence)
        }
        // The loader reads binds in id order; sorting (a copy of every bind) is only for other sources.
        let inIDOrder = zip(persisted.binds, persisted.binds.dropFirst()).allSatisfy { $0.id < $1.id }
        let ordered = inIDOrder ? persisted.binds : persisted.binds.sorted(by: { $0.id < $1.id })
        let builtIndex = addressIndex?(ordered)
        var hasOrphans = false
        for bind in ordered {
            guard sessions[bind.sessionID] != nil else {
                hasOrphans = true
                continue
            }
            insertBind(bind, indexing: builtIndex == nil)
            metadata.lastSequence = max(metadata.lastSequence, bind.id.rawValue)
        }
        if let builtIndex {
            bindIndex = builtIndex()
            if hasOrphans {
                // Binds without their session (a damaged database) are not restored; the index built
                // elsewhere holds them, so it is built again from the kept binds, in the same order.
                bindIndex = BindAddressIndex(indexing: ordered.filter { sessions[$0.sessionID] != nil })
            }
        }
        rebuildEvaluator()
    }

    // MARK: Reading

    /// The session with this id.
    public func session(_ id: String) -> Session? { sessions[id] }

    /// The bind with this id, if it belongs to `sessionID`.
    public func bind(_ id: BindID, inSession sessionID: String) -> Bind? {
        guard let bind = binds[id], bind.sessionID == sessionID else { return nil }
        return bind
    }

    /// The policy version: raised by every change to rules or protocols.
    public var policyVersion: Int64 { metadata.policyVersion }

    /// Sessions by state, kept as counts (never computed by scanning).
    public func sessionCount(_ state: SessionState) -> Int { sessionCounts[state] ?? 0 }

    /// Binds by state, kept as counts.
    public func bindCount(_ state: BindState) -> Int { bindCounts[state] ?? 0 }

    /// All binds.
    public var totalBindCount: Int { binds.count }

    /// All sessions.
    public var totalSessionCount: Int { sessions.count }

    /// When the next timer is due, if any.
    public var nextDeadline: Timestamp? { timers.nextDeadline }

    // MARK: Shared bookkeeping

    /// A new number for a generated id or a creation sequence; never reused, also across restarts.
    mutating func nextSequence() -> UInt64 {
        if sequenceBlocks != nil { return nextBlockSequence() }
        metadata.lastSequence += 1
        return metadata.lastSequence
    }

    /// Adds a bind to the table, its session and the indexes, and schedules its timer.
    mutating func insertBind(_ bind: Bind, indexing: Bool = true) {
        binds[bind.id] = bind
        if indexing { bindIndex.insert(bind.id, bind.transport, bind.address) }
        bindCounts[bind.state, default: 0] += 1
        sessions[bind.sessionID]?.bindIDs.append(bind.id)
        switch bind.state {
        case .pending:
            sessions[bind.sessionID]?.pendingBindCount += 1
            timers.schedule(.expirePendingBind(bind.id), at: bind.pendingSince.adding(settings.pendingTimeoutSeconds))
        case .allowed:
            retainGrant(bind.grant)
            scheduleApprovalExpiry(bind)
        case .terminating:
            timers.schedule(.purgeBind(bind.id), at: (bind.terminatingAt ?? bind.createdAt).adding(settings.gracePeriodSeconds))
        }
    }

    /// Moves a bind to `newState`, keeping counts, quotas and filter references right.
    mutating func transition(_ bind: inout Bind, to newState: BindState, now: Timestamp) {
        let oldState = bind.state
        guard oldState != newState else { return }
        bindCounts[oldState, default: 0] -= 1
        bindCounts[newState, default: 0] += 1
        if oldState == .pending { sessions[bind.sessionID]?.pendingBindCount -= 1 }
        if oldState == .allowed { releaseGrant(bind.grant) }
        bind.state = newState
        switch newState {
        case .pending:
            sessions[bind.sessionID]?.pendingBindCount += 1
            bind.grant = nil
            bind.pendingSince = now
            // A revoked bind starts over: peers it heard from under the old grant get no replies.
            recentPeers[bind.id] = nil
            timers.schedule(.expirePendingBind(bind.id), at: now.adding(settings.pendingTimeoutSeconds))
        case .allowed:
            retainGrant(bind.grant)
            scheduleApprovalExpiry(bind)
        case .terminating:
            bind.terminatingAt = now
            recentPeers[bind.id] = nil
            timers.schedule(.purgeBind(bind.id), at: now.adding(settings.gracePeriodSeconds))
        }
        binds[bind.id] = bind
    }

    /// Removes a bind everywhere.
    mutating func deleteBind(_ id: BindID) {
        guard let bind = binds.removeValue(forKey: id) else { return }
        bindIndex.remove(id, bind.transport, bind.address)
        bindCounts[bind.state, default: 0] -= 1
        recentPeers[id] = nil
        dirtyCounters.remove(id)
        timers.forget(.expireApproval(id))
        if bind.state == .pending { sessions[bind.sessionID]?.pendingBindCount -= 1 }
        if bind.state == .allowed { releaseGrant(bind.grant) }
        if var session = sessions[bind.sessionID], let index = session.bindIDs.firstIndex(of: id) {
            session.bindIDs.remove(at: index)
            sessions[bind.sessionID] = session
        }
    }

    /// Counts an allowed bind's references to its protocol and stored filter.
    mutating func retainGrant(_ grant: BindGrant?) {
        guard let grant else { return }
        protocolReferences[grant.protocolGUID, default: 0] += 1
        if case .stored(let filterID) = grant.ipFilter { filterReferences[filterID, default: 0] += 1 }
    }

    /// Undoes `retainGrant`.
    mutating func releaseGrant(_ grant: BindGrant?) {
        guard let grant else { return }
        let remaining = (protocolReferences[grant.protocolGUID] ?? 0) - 1
        protocolReferences[grant.protocolGUID] = remaining > 0 ? remaining : nil
        if case .stored(let filterID) = grant.ipFilter { releaseFilter(filterID) }
    }

    mutating func releaseFilter(_ id: String) {
        let remaining = (filterReferences[id] ?? 0) - 1
        filterReferences[id] = remaining > 0 ? remaining : nil
    }

    mutating func rebuildEvaluator() {
        evaluator = RuleEvaluator(rules: rules, definedProtocols: Set(protocols.keys))
    }
}

extension FirewallState {
    /// Puts a session read from a store (a restore, an adoption, a mirror) into the tables, its
    /// binds to follow; with `runningTimers`, its grace purge and idle expiry are scheduled (a
    /// mirror's owner runs those). Returns the session as kept.
    @discardableResult
    mutating func insertStoredSession(_ session: Session, runningTimers: Bool) -> Session {
        var session = session
        session.bindIDs = []
        session.pendingBindCount = 0
        sessions[session.id] = session
        sessionOrder.append(session.id, sequence: session.sequence)
        sessionCounts[session.state, default: 0] += 1
        if runningTimers {
            if session.state == .terminating, let since = session.terminatingAt {
                timers.schedule(.purgeSession(session.id), at: since.adding(settings.gracePeriodSeconds))
            }
            scheduleSessionExpiry(session)
        }
        return session
    }
}
