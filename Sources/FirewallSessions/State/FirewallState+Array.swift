/// What a state needs to run as one node of an array: ids from blocks, a shared policy that may
/// change under it, other nodes' sessions and binds adopted (owned from then on) or mirrored
/// (read-only, for reads on every node).
extension FirewallState {
    // MARK: Id blocks

    /// Switches to array ids: every generated id comes from blocks handed out by the array.
    public mutating func useSequenceBlocks(_ block: Range<UInt64>) {
        sequenceBlocks = SequenceBlocks(block)
    }

    /// Adds a block to use once the current one is spent.
    public mutating func addSequenceBlock(_ block: Range<UInt64>) {
        guard sequenceBlocks != nil else { return useSequenceBlocks(block) }
        sequenceBlocks?.spare.append(block)
    }

    /// Takes one id now (for an id that must be claimed array-wide before it is used).
    public mutating func reserveSequence() -> UInt64 { nextSequence() }

    /// Ids left in this node's blocks (`Int.max` for a single node).
    public var sequencesLeft: Int { sequenceBlocks?.remaining ?? .max }

    /// Whether a spare block should be fetched now (none is waiting).
    public var needsSequenceBlock: Bool { sequenceBlocks.map { $0.spare.isEmpty } ?? false }

    mutating func nextBlockSequence() -> UInt64 {
        guard var blocks = sequenceBlocks else { return 0 }
        if blocks.next >= blocks.end, !blocks.spare.isEmpty {
            let block = blocks.spare.removeFirst()
            blocks.next = block.lowerBound
            blocks.end = block.upperBound
        }
        // Callers check `sequencesLeft` first; past the last block the ids would collide, so stop.
        precondition(blocks.next < blocks.end, "array id blocks exhausted")
        let value = blocks.next
        blocks.next += 1
        sequenceBlocks = blocks
        metadata.lastSequence = max(metadata.lastSequence, value)
        return value
    }

    // MARK: Shared policy

    /// The policy this state applies, as the array stores it.
    public func sharedPolicy(revision: Int64) -> SharedPolicy {
        SharedPolicy(
            rules: rules, protocols: protocols.values.filter { !$0.isBuiltIn }.sorted { $0.guid < $1.guid },
            filters: filters.values.sorted { $0.sequence < $1.sequence }, version: metadata.policyVersion, revision: revision)
    }

    /// A copy holding only the shared policy (and this node's references to it), to compute a
    /// policy change before the array has agreed to it: the real state changes only once the
    /// change is durable in the array, through `applySharedPolicy`.
    public func policyShadow() -> FirewallState {
        var shadow = self
        shadow.sessions = [:]
        shadow.sessionOrder = InsertionOrderIndex()
        shadow.binds = [:]
        shadow.bindIndex = BindAddressIndex()
        shadow.recentPeers = [:]
        shadow.dirtyCounters = []
        shadow.timers = TimerQueue()
        shadow.sessionCounts = [:]
        shadow.bindCounts = [:]
        return shadow
    }

    /// Takes the id blocks a shadow drew from, so ids it handed out are not handed out again.
    public mutating func takeSequences(from shadow: FirewallState) {
        sequenceBlocks = shadow.sequenceBlocks
        metadata.lastSequence = max(metadata.lastSequence, shadow.metadata.lastSequence)
    }

    /// Replaces the shared policy with the array's, recording what changed for the sinks
    /// (`protocolSaved`, `filterRemoved`, ... so the data plane follows) and re-checking this
    /// node's allowed binds: the ones the new rules deny go back to pending (`bind.revoked`),
    /// exactly as after a local policy change.
    public mutating func applySharedPolicy(_ policy: SharedPolicy, now: Timestamp, changes: inout ChangeSet) {
        var policyMoved = false
        let newProtocols = Dictionary(policy.protocols.map { ($0.guid, $0) }, uniquingKeysWith: { $1 })
        for (guid, definition) in protocols where !definition.isBuiltIn && newProtocols[guid] == nil {
            protocols[guid] = nil
            changes.changes.append(.protocolRemoved(guid))
            policyMoved = true
        }
        for (guid, definition) in newProtocols where protocols[guid] != definition && protocols[guid]?.isBuiltIn != true {
            protocols[guid] = definition
            changes.changes.append(.protocolSaved(definition))
            policyMoved = true
        }
        let newFilters = Dictionary(policy.filters.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        for (id, filter) in filters where newFilters[id] == nil {
            filters[id] = nil
            filterOrder.remove(sequence: filter.sequence)
            changes.changes.append(.filterRemoved(id: id))
        }
        for filter in policy.filters where filters[filter.id] != filter {
            if filters[filter.id] == nil { filterOrder.append(filter.id, sequence: filter.sequence) }
            filters[filter.id] = filter
            changes.changes.append(.filterSaved(filter))
        }
        if rules != policy.rules {
            rules = policy.rules
            changes.changes.append(.rulesReplaced(rules))
            policyMoved = true
        }
        if metadata.policyVersion != policy.version {
            metadata.policyVersion = policy.version
            changes.changes.append(.metadataSaved(metadata))
            changes.events.append(DomainEvent(kind: .policyChanged, policyVersion: policy.version))
            policyMoved = true
        }
        guard policyMoved else { return }
        rebuildEvaluator()
        revokeDeniedBinds(now: now, changes: &changes)
    }

    // MARK: Adoption

    /// Takes over another node's sessions and binds (it died or was cut off): from now on they are
    /// this node's, with their states, grants and filters, and pending expiry and grace purges
    /// counting from their stored times. They are recorded as saved but already stored (the
    /// adoption's transaction moved them under this node's shard as they are), so the durable
    /// store writes nothing for them and the sinks after it (the data plane) take them up; binds
    /// the current policy denies are revoked, and those revocations are written.
    public mutating func adopt(_ rows: ShardRows, now: Timestamp, changes: inout ChangeSet) {
        var taken: [StateChange] = []
        for session in rows.sessions.sorted(by: { $0.sequence < $1.sequence }) where sessions[session.id] == nil {
            taken.append(.sessionSaved(insertStoredSession(session, runningTimers: true)))
        }
        for bind in rows.binds.sorted(by: { $0.id < $1.id }) where binds[bind.id] == nil && sessions[bind.sessionID] != nil {
            insertBind(bind)
            taken.append(.bindSaved(bind))
        }
        if !taken.isEmpty { changes.changes.append(.alreadyStored(taken)) }
        revokeDeniedBinds(now: now, changes: &changes)
    }

    // MARK: Mirroring other nodes (read-only)

    /// Brings a mirror of other nodes' state up to date with rows read from the array: removals
    /// first (a row that is still there is newer than any removal of its id), then whole rows.
    /// Nothing is scheduled: the owner runs the timers; the mirror only answers reads.
    public mutating func mirror(_ rows: ShardRows) {
        var discarded = ChangeSet()
        for id in rows.removedBinds { deleteBind(id) }
        for id in rows.removedSessions { purgeSession(id, changes: &discarded) }
        for session in rows.sessions {
            if var existing = sessions[session.id] {
                if existing.state != session.state {
                    sessionCounts[existing.state, default: 0] -= 1
                    sessionCounts[session.state, default: 0] += 1
                }
                existing.state = session.state
                existing.terminatingAt = session.terminatingAt
                existing.user = session.user
                existing.clientMachineName = session.clientMachineName
                existing.expiresAt = session.expiresAt
                sessions[session.id] = existing
            } else {
                insertStoredSession(session, runningTimers: false)
            }
        }
        for bind in rows.binds where sessions[bind.sessionID] != nil {
            if binds[bind.id] != nil { deleteBind(bind.id) }
            insertBind(bind)
        }
        timers = TimerQueue()
    }

    /// Forgets mirrored sessions (and their binds): their shard was adopted or this node took them.
    public mutating func forget(sessionIDs: some Sequence<String>) {
        var discarded = ChangeSet()
        for id in sessionIDs { purgeSession(id, changes: &discarded) }
    }

    /// The mirrored bind a packet to or from this node would reach, if another node holds it.
    public func holder(of query: DecisionQuery) -> Bind? {
        let bound = query.direction == .inbound ? query.destination : query.source
        return bindIndex.lookup(query.transport, bound).flatMap { binds[$0] }
    }

    /// The mirrored bind holding an address (for a conflict answer naming it).
    public func conflictingBind(_ transport: TransportProtocol, _ address: SocketAddress) -> Bind? {
        bindIndex.conflict(transport, address).flatMap { binds[$0] }
    }

    /// The bind with this id, whichever session holds it.
    public func anyBind(_ id: BindID) -> Bind? { binds[id] }

    /// Every session id held here.
    public var sessionIDs: [String] { Array(sessions.keys) }

    /// Every bind id held here.
    public var bindIDs: [BindID] { Array(binds.keys) }
}
