import FirewallPipeline
import FirewallSessions

/// The store actor as one node of an array: what arrives from the other nodes (shared policy,
/// mirrors, adoption, being fenced) enters the state here, on the actor, and produces the same
/// changes and events a local change would, so every sink after the store follows it.
extension SessionStore {
    // MARK: Inbound from the array

    /// The shared-policy revision applied here.
    var policyRevision: Int64 { array.policyRevision }

    /// Starts numbering from the array's id blocks and records the policy revision loaded.
    func joinArray(block: Range<UInt64>, policyRevision: Int64) {
        state.useSequenceBlocks(block)
        array.policyRevision = policyRevision
    }

    /// Applies a newer shared policy (another node's change, or this node's once committed):
    /// this node's binds the new rules deny are revoked. Returns the ticket to wait for before
    /// the policy's consequences here are durable: of these changes, or, when this revision was
    /// applied already (the monitor may get there first), of the newest policy applied.
    @discardableResult
    func applySharedPolicy(_ policy: SharedPolicy) -> CommitTicket {
        guard policy.revision > array.policyRevision else { return array.policyTicket }
        var changes = ChangeSet()
        state.applySharedPolicy(policy, now: clock(), changes: &changes)
        array.policyRevision = policy.revision
        array.policyTicket = commit(changes)
        return array.policyTicket
    }

    /// Takes over an adopted shard's sessions and binds; ids come from `block` from now on (it is
    /// above every id the adopted shard used, so ordering stays by creation).
    func adopt(shard: String, rows: ShardRows, block: Range<UInt64>) -> CommitTicket {
        array.forget(shard: shard)
        array.forget(sessions: rows.sessions.map(\.id))
        var changes = ChangeSet()
        state.adopt(rows, now: clock(), changes: &changes)
        state.useSequenceBlocks(block)
        return commit(changes)
    }

    /// Mirrors another node's shard (read-only).
    func mirror(shard: String, rows: ShardRows, replacing: Bool) {
        array.mirror(shard: shard, rows: rows, replacing: replacing)
    }

    /// Forgets a shard's mirror (it was adopted).
    func forget(shard: String) { array.forget(shard: shard) }

    /// Records the array's members.
    func members(_ members: [ArrayMember]) {
        array.members = Dictionary(members.map { ($0.shard, $0) }, uniquingKeysWith: { $1 })
    }

    /// Whether a spare id block should be fetched.
    var needsSequenceBlock: Bool { state.needsSequenceBlock }

    /// Adds a block of ids.
    func addSequenceBlock(_ block: Range<UInt64>) { state.addSequenceBlock(block) }

    /// Another node adopted this node's state: it is no longer served from here (the mirror of
    /// the adopter's shard answers reads, writes are redirected there), timers stop, every write
    /// is refused with the reason, and the binds leave this node's kernel (handed over: the store
    /// writes nothing for them, the sinks after it drop them).
    func fence(_ reason: String) {
        guard array.fenced == nil else { return }
        array.fenced = reason
        timerTask?.cancel()
        timerTask = nil
        let handedOver = state.bindIDs.sorted()
        state.forget(sessionIDs: state.sessionIDs)
        if !handedOver.isEmpty {
            var changes = ChangeSet()
            changes.changes.append(.bindsHandedOver(handedOver))
            commit(changes)
        }
    }

    // MARK: Requests of an array node

    /// A write for a session: when another node holds it, a redirect there (or 503 while that
    /// node's lease ran out), before anything changes here.
    func mutate<T: Sendable>(
        forSession id: String, _ audit: AuditIntent<T>? = nil,
        _ body: @Sendable (inout FirewallState, Timestamp, inout ChangeSet) throws(FirewallError) -> T
    ) throws(FirewallError) -> Durable<T> {
        if state.session(id) == nil, let elsewhere = array.elsewhere(session: id) { throw elsewhere }
        return try mutate(audit, body)
    }

    /// A read of the local state, or of the mirror when only another node holds what it asks for.
    func read<T: Sendable>(
        _ body: @Sendable (FirewallState) throws(FirewallError) -> T, orMirrored mirrored: @Sendable (FirewallState) -> T?
    ) throws(FirewallError) -> Durable<T> {
        do {
            return try read(body)
        } catch {
            guard error.hresult == .ERROR_NOT_FOUND, let value = mirrored(array.mirror) else { throw error }
            // Mirrored rows are durable in the array already: nothing to wait for.
            return Durable(value: value, ticket: 0)
        }
    }

    /// A read of a session's binds, from the state or the mirror, wherever the session is.
    func read<T: Sendable>(bindsOf sessionID: String, _ body: @Sendable (FirewallState) throws(FirewallError) -> T)
        throws(FirewallError) -> Durable<T>
    {
        guard state.session(sessionID) == nil, array.mirror.session(sessionID) != nil else { return try read(body) }
        return Durable(value: try body(array.mirror), ticket: 0)
    }

    /// A page of the whole array's sessions in creation order: this node's and the mirrored ones.
    func listArraySessions(_ filter: SessionFilter, page: PageRequest) throws(FirewallError) -> Durable<Page<Session>> {
        let local = try read { state in state.listSessions(filter, page: page) }
        let mirrored = array.mirror.listSessions(filter, page: page)
        guard !mirrored.items.isEmpty else { return local }
        let merged = (local.value.items + mirrored.items).sorted { $0.sequence < $1.sequence }
        let items = Array(merged.prefix(page.limit))
        let more = merged.count > page.limit || local.value.nextCursor != nil || mirrored.nextCursor != nil
        let next = more ? items.last.map { PageRequest.cursor($0.sequence) } : nil
        return Durable(value: Page(items: items, nextCursor: next), ticket: local.ticket)
    }

    /// A decision that found no bind here: when another node holds the bind, a redirect there
    /// (decisions are answered by the node that holds the bind).
    func refuseMirroredDecision(_ query: DecisionQuery) throws(FirewallError) {
        guard let bind = array.mirror.holder(of: query), let shard = array.shardOfSession[bind.sessionID],
            let elsewhere = array.elsewhere(shard: shard, what: "bind \(bind.id)")
        else { return }
        throw elsewhere
    }

    /// Checks a new session before claiming its id array-wide; returns the id to claim (a
    /// generated one when none was given). Until `settledSessionClaim`, a second create of the
    /// same id here is refused, so giving back a claim that was not used never gives back the
    /// other create's.
    func prepareSession(_ request: NewSession) throws(FirewallError) -> String {
        try request.validate()
        try array.refuseWrites(sequencesLeft: state.sequencesLeft)
        guard let id = request.id else { return "s-\(state.reserveSequence())" }
        if state.session(id) != nil || array.mirror.session(id) != nil || !array.claimingSessions.insert(id).inserted {
            throw FirewallError(.FWX_E_ALREADY_EXISTS, "a session with id '\(id)' exists")
        }
        return id
    }

    /// The create that claimed `id` is over (the session is in the state, or it was not created).
    func settledSessionClaim(_ id: String) {
        array.claimingSessions.remove(id)
    }

    /// Checks a new bind before claiming its address array-wide; returns the id it will have.
    func prepareBind(sessionID: String, transport: TransportProtocol, address: SocketAddress) throws(FirewallError) -> BindID {
        if state.session(sessionID) == nil, let elsewhere = array.elsewhere(session: sessionID) { throw elsewhere }
        try array.refuseWrites(sequencesLeft: state.sequencesLeft)
        try state.checkNewBind(sessionID: sessionID, transport: transport, address: address)
        return BindID(rawValue: state.reserveSequence())
    }

    /// Computes a shared-policy change on a copy of the policy, without changing the state: it
    /// changes once the array committed it (`applySharedPolicy`). The If-Match check sees the
    /// array's version (the caller caught up under the array's lock).
    func proposePolicy<T: Sendable>(
        ifMatch expectedVersion: Int64?, audit: AuditIntent<PolicyRead<T>>? = nil,
        _ body: @Sendable (inout FirewallState, Timestamp, inout ChangeSet) throws(FirewallError) -> T
    ) -> Result<(proposal: PolicyProposal, value: T), FirewallError> {
        do throws(FirewallError) {
            try array.refuseWrites(sequencesLeft: state.sequencesLeft)
            if let expectedVersion, expectedVersion != state.policyVersion {
                throw FirewallError(
                    .ERROR_REVISION_MISMATCH,
                    "If-Match names policy version \(expectedVersion) but the current version is \(state.policyVersion)")
            }
            var shadow = state.policyShadow()
            var discarded = ChangeSet()
            let now = clock()
            let value = try body(&shadow, now, &discarded)
            state.takeSequences(from: shadow)
            var proposal = PolicyProposal(
                before: state.sharedPolicy(revision: array.policyRevision), after: shadow.sharedPolicy(revision: array.policyRevision))
            // The record goes into the array's policy transaction with the change.
            if !discarded.changes.isEmpty {
                proposal.audit = audit?.record(of: PolicyRead(value: value, version: shadow.policyVersion), at: now)
            }
            return .success((proposal, value))
        } catch {
            return .failure(error)
        }
    }
}
