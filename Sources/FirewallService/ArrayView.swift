import FirewallPipeline
import FirewallSessions

/// The store actor's view of the rest of the array: the other nodes' sessions and binds mirrored
/// read-only (so reads answer for the whole array on every node), which node holds which shard
/// and where it answers, the policy revision applied here, and whether this node was fenced.
struct ArrayView: Sendable {
    /// Other nodes' sessions and binds; never timed, never changed here.
    var mirror = FirewallState()
    /// Which shard each mirrored session belongs to.
    var shardOfSession: [String: String] = [:]
    /// Shards by id.
    var members: [String: ArrayMember] = [:]
    /// The shared-policy revision this node applies.
    var policyRevision: Int64 = 0
    /// The ticket that makes the newest applied policy's changes here durable.
    var policyTicket: CommitTicket = 0
    /// Why this node may not write any more: another node adopted its state.
    var fenced: String?
    /// Client-chosen session ids being claimed and created here right now.
    var claimingSessions: Set<String> = []

    /// Ids a change may need at most; with fewer left, writes wait for the next block.
    static let sequencesPerChange = 64

    /// Throws when this node must not take a write.
    func refuseWrites(sequencesLeft: Int) throws(FirewallError) {
        if let fenced { throw FirewallError(.ERROR_WRITE_FAULT, "the durable store cannot be written: \(fenced)") }
        guard sequencesLeft >= Self.sequencesPerChange else {
            throw FirewallError(.ERROR_WRITE_FAULT, "the durable store cannot be written: waiting for a block of ids from the array")
        }
    }

    /// Where a write for a session this node does not hold must go, if another node holds it:
    /// a redirect to a live holder, 503 while the holder's lease ran out and adoption is pending.
    func elsewhere(session id: String) -> FirewallError? {
        guard let shard = shardOfSession[id] else { return nil }
        return elsewhere(shard: shard, what: "session '\(id)'")
    }

    func elsewhere(shard: String, what: String) -> FirewallError? {
        guard let member = members[shard], let holder = member.holder else { return nil }
        guard member.live else {
            return FirewallError(
                .ERROR_WRITE_FAULT,
                "the durable store cannot be written: \(what) is held by node '\(holder)', whose lease ran out; a surviving node adopts it within seconds")
        }
        var redirect = FirewallError(.S_OK, "\(what) is held by node '\(holder)'; repeat the request there")
        redirect.heldBy = HolderLocation(node: holder, baseURL: member.advertiseURL)
        return redirect
    }

    /// Replaces or updates one shard's mirror.
    mutating func mirror(shard: String, rows: ShardRows, replacing: Bool) {
        if replacing { forget(shard: shard) }
        // Removals are scoped to this shard: a purged id may live on in another node's session.
        var scoped = rows
        scoped.removedSessions = rows.removedSessions.filter { shardOfSession[$0] == shard }
        scoped.removedBinds = rows.removedBinds.filter { id in
            mirror.anyBind(id).map { shardOfSession[$0.sessionID] == shard } ?? false
        }
        // A session that moved shards (adopted) is re-read whole.
        let moved = rows.sessions.filter { shardOfSession[$0.id].map { $0 != shard } ?? false }.map(\.id)
        if !moved.isEmpty { mirror.forget(sessionIDs: moved) }
        mirror.mirror(scoped)
        for id in scoped.removedSessions { shardOfSession[id] = nil }
        for session in rows.sessions { shardOfSession[session.id] = shard }
    }

    /// Forgets a shard's mirror.
    mutating func forget(shard: String) {
        let ids = shardOfSession.filter { $0.value == shard }.map(\.key)
        mirror.forget(sessionIDs: ids)
        for id in ids { shardOfSession[id] = nil }
    }

    /// Forgets mirrored sessions this node now holds itself.
    mutating func forget(sessions ids: [String]) {
        mirror.forget(sessionIDs: ids)
        for id in ids { shardOfSession[id] = nil }
    }
}
