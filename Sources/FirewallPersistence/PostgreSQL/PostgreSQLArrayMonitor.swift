#if canImport(Glibc)
import Glibc
#endif
import FirewallPipeline
import FirewallSessions
import Logging
import Synchronization

/// Where the monitor sends what it learns. Called on the monitor's thread, one call at a time;
/// an implementation may block (it hands each to the store actor and waits).
public protocol ArrayMonitorDelegate: Sendable {
    /// The policy revision this node applies.
    var appliedPolicyRevision: Int64 { get }
    /// A newer shared policy: apply it (revoking this node's binds it denies).
    func policyChanged(_ policy: SharedPolicy)
    /// The array's members as they are now (for redirects and `/readyz`).
    func membersChanged(_ members: [ArrayMember])
    /// Rows of another node's shard for the read-only mirror: all of them (`replacing`) or the
    /// changes since the last call.
    func mirror(shard: String, rows: ShardRows, replacing: Bool)
    /// A shard has no holder any more (it was adopted): forget its mirror.
    func forgetShard(_ shard: String)
    /// Whether the node is short of ids.
    var needsSequenceBlock: Bool { get }
    /// A new block of ids.
    func addSequenceBlock(_ block: Range<UInt64>)
    /// This node adopted a shard whose holder's lease ran out: take its rows over, and number
    /// from `block` on (it is above every id the adopted shard used).
    func adopted(shard: String, from holder: String, rows: ShardRows, block: Range<UInt64>)
    /// Another node adopted this node's state: stop serving it.
    func fenced(_ reason: String)
}

/// The array's watcher, one thread with one PostgreSQL connection: LISTENs for policy changes
/// and also compares the policy revision every poll (a notification sent while it was
/// disconnected is lost, a reconnect must not leave the node behind); mirrors the other nodes'
/// sessions and binds by their shards' revisions; notices when this node was fenced; fetches id
/// blocks; and adopts a shard whose lease ran out, but only once it has itself been connected for
/// a full lease (so a PostgreSQL restart does not set every node adopting every other).
public final class PostgreSQLArrayMonitor: @unchecked Sendable {
    // @unchecked: `connection`, `seen` and the fields below are only touched on the monitor's
    // thread; `stopping` is atomic.
    private let settings: PostgreSQLArraySettings
    private let standing: ArrayStanding
    private let delegate: any ArrayMonitorDelegate
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let exited = ConditionLock()
    private var hasExited = false
    private var connection: PGConnection?
    /// The revision each mirrored shard is complete through, on this connection.
    private var seen: [String: Int64] = [:]
    /// The epoch of every shard at the last poll on this connection.
    private var epochs: [String: Int64] = [:]
    /// Shards handed to the delegate's mirror (across reconnects: what it may still hold).
    private var mirrored: Set<String> = []
    private var lastMembers: [ArrayMember] = []
    private var reportedFence = false
    /// An adoption whose COMMIT lost its answer, settled on the next connection.
    private var unsettledAdoption: ArraySQL.Adoption?

    /// Creates the monitor; nothing runs until `start`.
    public init(settings: PostgreSQLArraySettings, standing: ArrayStanding, delegate: any ArrayMonitorDelegate, logger: Logger) {
        self.settings = settings
        self.standing = standing
        self.delegate = delegate
        self.logger = logger
    }

    /// Starts the thread.
    public func start() {
        startThread { [self] in
            run()
            exited.withLock {
                hasExited = true
                exited.broadcast()
            }
        }
    }

    /// Stops the thread and waits for it.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        exited.withLock { while !hasExited { exited.wait(seconds: 0.1) } }
    }

    private func run() {
        while !stopping.load(ordering: .relaxed) {
            do throws(PostgreSQLError) {
                let connection = try connected()
                let payloads = try connection.notifications(waitingUpTo: settings.pollSeconds)
                try tick(connection, notified: !payloads.isEmpty)
            } catch {
                connection?.rollbackIfNeeded()
                connection?.close()
                connection = nil
                standing.monitor(connectedAt: nil, error: error.message)
                logger.warning("array.monitor lost PostgreSQL; reconnecting", metadata: ["error": "\(error.message)"])
                usleep(UInt32(settings.pollSeconds * 1_000_000))
            }
        }
        connection?.close()
    }

    private func connected() throws(PostgreSQLError) -> PGConnection {
        if let connection, connection.isOpen { return connection }
        let fresh = try settings.connect("monitor")
        try fresh.execute("LISTEN \(ArraySQL.policyChannel)")
        connection = fresh
        // Removal records may have been pruned, shards adopted and re-taken while away: every
        // mirror is read again whole (replacing what it held), and one of a shard nobody holds
        // any more is forgotten.
        seen = [:]
        epochs = [:]
        standing.monitor(connectedAt: ArraySQL.monotonicSeconds(), error: nil)
        logger.info("array.monitor connected", metadata: ["node": "\(settings.nodeID)"])
        return fresh
    }

    private func tick(_ connection: PGConnection, notified: Bool) throws(PostgreSQLError) {
        try followPolicy(connection)
        let members = try ArraySQL.members(connection)
        try checkOwnShard(connection, members)
        try settleAdoption(connection)
        try followMirrors(connection, members)
        if delegate.needsSequenceBlock {
            delegate.addSequenceBlock(try ArraySQL.allocateBlock(connection, size: settings.idBlockSize))
        }
        try adoptIfDue(connection, members)
    }

    private func followPolicy(_ connection: PGConnection) throws(PostgreSQLError) {
        let revision = Int64(try connection.query("SELECT revision FROM policy WHERE id = 1").scalar ?? "0") ?? 0
        guard revision > delegate.appliedPolicyRevision else { return }
        delegate.policyChanged(try ArraySQL.loadPolicy(connection))
    }

    private func checkOwnShard(_ connection: PGConnection, _ members: [(member: ArrayMember, epoch: Int64, revision: Int64)]) throws(PostgreSQLError) {
        guard !reportedFence, let own = members.first(where: { $0.member.shard == settings.nodeID }) else { return }
        let epoch = standing.epoch
        guard own.member.holder != settings.nodeID || own.epoch != epoch else { return }
        standing.fence(ArraySQL.fencedReason(connection, settings, epoch: epoch))
        reportedFence = true
        let reason = standing.failure ?? "fenced"
        logger.critical("array.fenced", metadata: ["reason": "\(reason)"])
        delegate.fenced(reason)
    }

    private func followMirrors(_ connection: PGConnection, _ members: [(member: ArrayMember, epoch: Int64, revision: Int64)]) throws(PostgreSQLError) {
        let current = members.map(\.member)
        if current != lastMembers {
            lastMembers = current
            delegate.membersChanged(current)
        }
        // This node's own shard counts too: once it is adopted (this node fenced), the mirror
        // of the adopter must show what was this node's.
        noteEpochs(members)
        let others = members.filter { $0.member.shard != settings.nodeID }
        for (member, _, revision) in others {
            guard member.holder != nil else {
                // Adopted: its rows live on under the adopter's shard.
                seen[member.shard] = nil
                if mirrored.remove(member.shard) != nil { delegate.forgetShard(member.shard) }
                continue
            }
            let known = seen[member.shard]
            guard known.map({ revision > $0 }) ?? true else { continue }
            let loaded = try ArraySQL.loadShard(connection, member.shard, after: known)
            delegate.mirror(shard: member.shard, rows: loaded.rows, replacing: known == nil)
            mirrored.insert(member.shard)
            seen[member.shard] = loaded.through
        }
        let listed = Set(others.map(\.member.shard))
        for shard in mirrored.subtracting(listed) {
            mirrored.remove(shard)
            delegate.forgetShard(shard)
        }
    }

    /// Marks for a whole re-read the shards whose rows moved since the last poll. A shard whose
    /// epoch moved changed hands (restarted, adopted, or both between two polls): it is read
    /// again whole. When it was adopted, its rows went to the adopter with revision 0 (see
    /// `ArraySQL.adoptExpired`), which an incremental read of the adopter never returns: the
    /// adopter is read again whole too, or every shard when it is not known who adopted (the
    /// adopted node restarted since, which clears it).
    private func noteEpochs(_ members: [(member: ArrayMember, epoch: Int64, revision: Int64)]) {
        let firstPoll = epochs.isEmpty
        var rereadAll = false
        for (member, epoch, _) in members {
            let previous = epochs.updateValue(epoch, forKey: member.shard)
            let adopter = member.holder == nil ? member.adoptedBy : nil
            if let previous {
                guard previous != epoch else { continue }
                seen[member.shard] = nil
                guard member.holder == nil || epoch - previous > 1 else { continue }
                if let adopter {
                    seen[adopter] = nil
                } else {
                    rereadAll = true
                }
            } else if !firstPoll, let adopter {
                // A shard adopted before this node ever saw it.
                seen[adopter] = nil
            }
        }
        if rereadAll { seen = [:] }
    }

    /// Settles an adoption whose COMMIT lost its answer: when its rows are under this node's
    /// shard, it committed, and they are taken over now; else nothing happened.
    private func settleAdoption(_ connection: PGConnection) throws(PostgreSQLError) {
        guard let adoption = unsettledAdoption else { return }
        guard !standing.isFenced else {
            unsettledAdoption = nil
            return
        }
        let committed = try ArraySQL.adoptionCommitted(connection, settings, adoption)
        unsettledAdoption = nil
        guard committed else {
            logger.warning("array.adoption did not commit", metadata: ["shard": "\(adoption.shard)"])
            return
        }
        took(adoption, milliseconds: nil)
    }

    private func took(_ adoption: ArraySQL.Adoption, milliseconds: Int?) {
        seen[adoption.shard] = nil
        if mirrored.remove(adoption.shard) != nil { delegate.forgetShard(adoption.shard) }
        delegate.adopted(shard: adoption.shard, from: adoption.holder, rows: adoption.rows, block: adoption.block)
        logger.notice(
            "array.adopted",
            metadata: [
                "shard": "\(adoption.shard)", "from": "\(adoption.holder)", "sessions": "\(adoption.rows.sessions.count)",
                "binds": "\(adoption.rows.binds.count)",
                "ms": "\(milliseconds.map(String.init) ?? "?")",
                "commit": "\(milliseconds == nil ? "answer lost, found committed" : "answered")",
            ])
    }

    private func adoptIfDue(_ connection: PGConnection, _ members: [(member: ArrayMember, epoch: Int64, revision: Int64)]) throws(PostgreSQLError) {
        guard !standing.isFenced,
            members.contains(where: { $0.member.shard != settings.nodeID && $0.member.holder != nil && !$0.member.live }),
            let connectedFor = standing.connectedSeconds(now: ArraySQL.monotonicSeconds()), connectedFor >= settings.leaseSeconds
        else { return }
        let started = ArraySQL.monotonicSeconds()
        switch try ArraySQL.adoptExpired(connection, settings, epoch: standing.epoch, blockSize: settings.idBlockSize) {
        case nil:
            return
        case .committed(let adoption):
            took(adoption, milliseconds: Int((ArraySQL.monotonicSeconds() - started) * 1000))
        case .unknown(let adoption, let error):
            unsettledAdoption = adoption
            throw error
        }
    }
}
