import FirewallPipeline
import FirewallSessions
import Synchronization

/// The service as one node of an array: creates claim their session id or address array-wide
/// first (two nodes racing for one get one 201 and one 409), shared policy changes go through
/// the array's serialised transaction before they change anything here, and what the other
/// nodes do arrives through the `array…` entry points below.
extension FirewallService {
    // MARK: Inbound from the array (called by the node's monitor)

    /// The shared-policy revision applied on this node.
    public var appliedPolicyRevision: Int64 { get async { await store.policyRevision } }

    /// Starts numbering from an id block of the array, with the policy revision loaded at start.
    public func joinArray(block: Range<UInt64>, policyRevision: Int64) async {
        await store.joinArray(block: block, policyRevision: policyRevision)
    }

    /// Applies a newer shared policy and revokes this node's binds it denies; returns once the
    /// revocations are in memory (not waiting for them to be durable: an outage must not stall
    /// the monitor).
    public func applySharedPolicy(_ policy: SharedPolicy) async {
        await store.applySharedPolicy(policy)
    }

    /// Takes over an adopted shard; returns once it is durable here and in every sink (false when
    /// a sink failed: the batch is retried).
    public func adopt(shard: String, rows: ShardRows, block: Range<UInt64>) async -> Bool {
        let ticket = await store.adopt(shard: shard, rows: rows, block: block)
        do {
            try await store.pipeline.waitApplied(ticket)
            return true
        } catch {
            return false
        }
    }

    /// Mirrors another node's shard for reads.
    public func mirror(shard: String, rows: ShardRows, replacing: Bool) async {
        await store.mirror(shard: shard, rows: rows, replacing: replacing)
    }

    /// Forgets an adopted shard's mirror.
    public func forgetShard(_ shard: String) async { await store.forget(shard: shard) }

    /// Records the array's members (for redirects).
    public func arrayMembers(_ members: [ArrayMember]) async { await store.members(members) }

    /// Whether a spare id block should be fetched.
    public var needsSequenceBlock: Bool { get async { await store.needsSequenceBlock } }

    /// Adds a block of ids.
    public func addSequenceBlock(_ block: Range<UInt64>) async { await store.addSequenceBlock(block) }

    /// Stops serving this node's state: another node adopted it.
    public func fence(_ reason: String) async { await store.fence(reason) }

    var arrayFailure: PipelineFailure? { array?.failure.map { PipelineFailure(sink: "store", message: $0) } }

    // MARK: Writes of an array node

    func createSession(_ request: NewSession, audit: AuditIntent<Session>?, in array: any ArrayMembership) async
        throws(FirewallError) -> Session
    {
        while true {
            let id = try await store.prepareSession(request)
            let created: Durable<Session>?
            do {
                created = try await claimAndCreateSession(id, request, audit: audit, in: array)
            } catch {
                await store.settledSessionClaim(id)
                throw error
            }
            await store.settledSessionClaim(id)
            // A generated id that a client chose on another node: generate another.
            guard let created else { continue }
            return try await durable(created)
        }
    }

    /// Claims `id` array-wide and creates the session under it; nil when another node holds a
    /// generated id. A claim that was not used is given back, also when the claim itself failed:
    /// its COMMIT may have landed before the answer was lost (the release removes only a claim
    /// with no session row, and no other create of this id runs here meanwhile).
    private func claimAndCreateSession(_ id: String, _ request: NewSession, audit: AuditIntent<Session>?, in array: any ArrayMembership) async
        throws(FirewallError) -> Durable<Session>?
    {
        let claimed: Bool
        do {
            claimed = try await array.claimSession(id)
        } catch {
            await array.releaseSession(id)
            throw error
        }
        guard claimed else {
            if request.id == nil { return nil }
            throw FirewallError(.FWX_E_ALREADY_EXISTS, "a session with id '\(id)' exists")
        }
        var named = request
        named.id = id
        let claimedRequest = named
        do {
            return try await store.mutate(audit) { state, now, changes throws(FirewallError) in
                try state.createSession(claimedRequest, now: now, changes: &changes)
            }
        } catch {
            await array.releaseSession(id)
            throw error
        }
    }

    func createBind(
        sessionID: String, transport: TransportProtocol, address: SocketAddress, audit: AuditIntent<Bind>?, in array: any ArrayMembership
    ) async
        throws(FirewallError) -> Bind
    {
        let bindID = try await store.prepareBind(sessionID: sessionID, transport: transport, address: address)
        let holder: BindReference?
        do {
            holder = try await array.claimAddress(transport, address, bindID: bindID, sessionID: sessionID)
        } catch {
            // The claim may have landed before its answer was lost; the bind id is this request's alone.
            await array.releaseAddress(bindID: bindID)
            throw error
        }
        if let holder {
            throw FirewallError(
                .WSAEADDRINUSE,
                "\(transport.rawValue) \(address) is already bound by bind \(holder.bindID) of session '\(holder.sessionID)'",
                conflict: holder)
        }
        let result: Durable<Bind>
        do {
            result = try await store.mutate(forSession: sessionID, audit) { state, now, changes throws(FirewallError) in
                try state.createBind(sessionID: sessionID, transport: transport, address: address, now: now, changes: &changes, id: bindID)
            }
        } catch {
            await array.releaseAddress(bindID: bindID)
            throw error
        }
        return try await durable(result)
    }

    /// A change to rules, protocols or stored IP filters, made array-wide: the array commits it,
    /// then it is applied here like any other node's change, and the caller is answered once this
    /// node's revocations are durable.
    func sharedPolicyChange<T: Sendable>(
        in array: any ArrayMembership, ifMatch expectedVersion: Int64?, audit: AuditIntent<PolicyRead<T>>?,
        _ body: @escaping @Sendable (inout FirewallState, Timestamp, inout ChangeSet) throws(FirewallError) -> T
    ) async throws(FirewallError) -> (T, policyVersion: Int64) {
        let computed = Mutex<T?>(nil)
        let store = self.store
        let committed = try await array.changePolicy(
            catchUp: { policy in await store.applySharedPolicy(policy) },
            propose: {
                await store.proposePolicy(ifMatch: expectedVersion, audit: audit, body).map { result in
                    computed.withLock { $0 = result.value }
                    return result.proposal
                }
            })
        // Applied here by this call or already by the monitor: either way, answered once this
        // node's revocations are durable.
        let ticket = await store.applySharedPolicy(committed)
        do {
            try await store.pipeline.waitApplied(ticket)
        } catch {
            throw FirewallError.unavailable(error)
        }
        guard let value = computed.withLock({ $0 }) else { throw FirewallError(.E_FAIL, "the policy change computed nothing") }
        return (value, committed.version)
    }

    /// A change to stored IP filters: shared in an array, local otherwise.
    func filterChange<T: Sendable>(
        audit: AuditIntent<PolicyRead<T>>?,
        _ body: @escaping @Sendable (inout FirewallState, Timestamp, inout ChangeSet) throws(FirewallError) -> T
    ) async throws(FirewallError) -> T {
        if let array { return try await sharedPolicyChange(in: array, ifMatch: nil, audit: audit, body).0 }
        return try await durable(store.mutate(audit) { state, now, changes throws(FirewallError) in
            PolicyRead(value: try body(&state, now, &changes), version: state.policyVersion)
        }).value
    }
}
