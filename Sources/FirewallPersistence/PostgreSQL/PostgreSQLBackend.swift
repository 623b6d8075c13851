import FirewallPipeline
import FirewallSessions
import Synchronization

/// The durable store of an array node: its sessions and binds in PostgreSQL, written by the
/// pipeline's store thread in fenced batches.
///
/// Each batch is one explicit transaction: `fws_fence` renews this node's lease and moves its
/// shard's revision only while the node still holds its shard at its epoch (else the whole
/// transaction fails and nothing of it lands), then every session and bind changed in the batch
/// (collapsed to its last change) is upserted or deleted, scoped to this node's shard, then
/// COMMIT. A COMMIT whose outcome is unknown (the connection broke) is retried by the pipeline
/// with the same batch: the retry is fenced again, so it lands only while the epoch holds. An idle
/// node renews its lease every third of it. Shared policy is not written here (it has its own
/// serialised transactions); its changes pass through for the sinks after this one. The design
/// and what it was measured against: CLUSTER.md.
public final class PostgreSQLBackend: PersistenceBackend {
    /// How the node joined.
    public let settings: PostgreSQLArraySettings
    /// Its standing (epoch, fenced, reachable), shared with the monitor and `/readyz`.
    public let standing: ArrayStanding
    let box: Mutex<ConnectionBox>
    private let loaded = Mutex<SharedPolicy?>(nil)
    /// Renews the lease until the store thread starts (`start(from:)`).
    private let keeper: LeaseKeeper

    /// Statements per pipeline round trip (a bounded pipeline cannot fill both socket buffers).
    static let statementsPerRoundTrip = 500

    public var name: String { "store" }

    /// Connects, brings the schema up to date (or refuses another version), and takes this
    /// node's shard at a new epoch. From then on the lease is renewed: by a keeper thread of its
    /// own until the store thread starts (loading the shard, building the state and loading the
    /// data plane may outlast a lease), then by the store thread.
    public init(settings: PostgreSQLArraySettings) throws(PersistenceError) {
        self.settings = settings
        let standing = ArrayStanding()
        self.standing = standing
        do throws(PostgreSQLError) {
            let connection = try settings.connect("store")
            try PGMigrations.migrate(connection)
            try PGMigrations.checkLiveNodes(connection, except: settings.nodeID)
            standing.held(epoch: try ArraySQL.acquireShard(connection, settings))
            box = Mutex(ConnectionBox(connection))
        } catch {
            throw PersistenceError("PostgreSQL: \(error.message)")
        }
        keeper = LeaseKeeper(settings: settings, standing: standing)
    }

    deinit { keeper.stop() }

    /// The store thread takes over renewing the lease.
    public func start(from state: PersistedState) throws(SinkError) {
        keeper.stop()
    }

    /// This node's sessions and binds, and the shared policy.
    public func load() throws(PersistenceError) -> PersistedState {
        do throws(PostgreSQLError) {
            return try box.withLock { box throws(PostgreSQLError) in
                let connection = try box.open(settings)
                let policy = try ArraySQL.loadPolicy(connection)
                let shard = try ArraySQL.loadShard(connection, settings.nodeID, after: nil)
                var state = PersistedState()
                state.sessions = shard.rows.sessions
                state.binds = shard.rows.binds
                state.rules = policy.rules
                state.protocols = policy.protocols
                state.filters = policy.filters
                state.metadata = StateMetadata(policyVersion: policy.version, lastSequence: 0)
                loaded.withLock { $0 = policy }
                return state
            }
        } catch {
            throw PersistenceError("PostgreSQL: \(error.message)")
        }
    }

    /// One fenced transaction per batch. Once fenced, nothing is written any more; the batch that
    /// hands this node's binds over (`SessionStore.fence`) is let through, with everything still
    /// queued before it, so the sinks after the store drop the binds (the kernel applies the
    /// batch as a whole: what was never durable is removed in the same transaction).
    public func apply(_ changes: [StateChange]) throws(SinkError) {
        if let reason = fencedReason {
            guard changes.contains(where: { if case .bindsHandedOver = $0 { true } else { false } }) else { throw SinkError(reason) }
            return
        }
        let statements = BatchStatements(changes, shard: settings.nodeID)
        guard !statements.isEmpty else { return }
        try write { connection, epoch throws(PostgreSQLError) in
            try statements.write(on: connection, fence: fence(epoch), renew: renew)
        }
    }

    /// The shared policy `load()` read, with its revision.
    public var loadedPolicy: SharedPolicy? { loaded.withLock { $0 } }

    public var maintenanceInterval: Double? { settings.leaseSeconds / 3 }

    /// Renews the lease of an idle node (and reconnects after an outage).
    public func maintain() {
        guard fencedReason == nil else { return }
        try? write { connection, epoch throws(PostgreSQLError) in
            try connection.pipeline([PGStatement("BEGIN"), fence(epoch), PGStatement("COMMIT")])
        }
    }

    public func finish() {
        keeper.stop()
        box.withLock { $0.connection?.close() }
    }

    private var fencedReason: String? { standing.isFenced ? standing.failure : nil }

    private func fence(_ epoch: Int64) -> PGStatement {
        PGStatement(prepared: "fws_fence", "SELECT fws_fence($1, $2, $3, $4)",
                    [settings.nodeID, settings.nodeID, String(epoch), settings.leaseMilliseconds])
    }

    /// Renews the lease again at the end of a batch's transaction (its row is locked since the
    /// fence): a large batch must not commit with its lease already run out.
    private var renew: PGStatement {
        PGStatement(prepared: "fws_renew", "UPDATE shards SET lease_expires_at = clock_timestamp() + $2 * interval '1 millisecond' WHERE id = $1",
                    [settings.nodeID, settings.leaseMilliseconds])
    }

    /// Runs a fenced write, turning its outcome into the node's standing: a fence failure fences
    /// the node for good, a broken connection is reopened by the next attempt.
    private func write(_ body: (PGConnection, Int64) throws(PostgreSQLError) -> Void) throws(SinkError) {
        let epoch = standing.epoch
        do throws(PostgreSQLError) {
            try box.withLock { box throws(PostgreSQLError) in
                let connection = try box.open(settings)
                do throws(PostgreSQLError) {
                    try body(connection, epoch)
                } catch {
                    connection.rollbackIfNeeded()
                    if error.connectionBroken { box.close() }
                    if error.isFenced { standing.fence(ArraySQL.fencedReason(connection, settings, epoch: epoch)) }
                    throw error
                }
            }
            standing.store(failed: nil)
        } catch {
            if standing.isFenced, let reason = standing.failure { throw SinkError(reason) }
            standing.store(failed: error.message)
            throw SinkError("PostgreSQL: \(error.message)")
        }
    }
}

/// Renews a node's lease from a thread and connection of its own, every third of a lease, until
/// stopped; a fence failure marks the node fenced.
final class LeaseKeeper: @unchecked Sendable {
    // @unchecked: `stopping` and `exited` are only touched with `lock` held; the connection only
    // on the keeper's thread.
    private let lock = ConditionLock()
    private var stopping = false
    private var exited = false

    init(settings: PostgreSQLArraySettings, standing: ArrayStanding) {
        startThread { [self] in
            run(settings, standing)
            lock.withLock {
                exited = true
                lock.broadcast()
            }
        }
    }

    /// Stops renewing; returns once the keeper's last renewal is over.
    func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
            while !exited { lock.wait() }
        }
    }

    private func run(_ settings: PostgreSQLArraySettings, _ standing: ArrayStanding) {
        var connection: PGConnection?
        defer { connection?.close() }
        let epoch = standing.epoch
        while true {
            let stop = lock.withLock { () -> Bool in
                if !stopping { lock.wait(seconds: settings.leaseSeconds / 3) }
                return stopping
            }
            if stop { return }
            do throws(PostgreSQLError) {
                let open: PGConnection
                if let connection, connection.isOpen { open = connection } else { open = try settings.connect("lease") }
                connection = open
                try open.query("SELECT fws_fence($1, $1, $2, $3)", [settings.nodeID, String(epoch), settings.leaseMilliseconds])
            } catch {
                if error.isFenced, let open = connection {
                    standing.fence(ArraySQL.fencedReason(open, settings, epoch: epoch))
                    return
                }
                if error.connectionBroken {
                    connection?.close()
                    connection = nil
                }
            }
        }
    }
}

/// The store thread's connection, opened again after it broke.
final class ConnectionBox: @unchecked Sendable {
    // @unchecked: only touched inside the backend's `Mutex.withLock` (the loader, then the store thread).
    var connection: PGConnection?

    init(_ connection: PGConnection) { self.connection = connection }

    func open(_ settings: PostgreSQLArraySettings) throws(PostgreSQLError) -> PGConnection {
        if let connection, connection.isOpen { return connection }
        close()
        let fresh = try settings.connect("store")
        connection = fresh
        return fresh
    }

    func close() {
        connection?.close()
        connection = nil
    }
}

/// A batch as statements: the last change of each session and bind, upserted or deleted (with
/// its claims and a removal record for the other nodes' mirrors), then the counters. An upsert
/// that finds its row under another shard raises (FWS02) inside the transaction, so the batch
/// fails as a whole before its COMMIT.
struct BatchStatements {
    private var statements: [PGStatement] = []

    var isEmpty: Bool { statements.isEmpty }

    init(_ changes: [StateChange], shard: String) {
        var sessionOrder: [String] = []
        var sessions: [String: Session?] = [:]
        var bindOrder: [BindID] = []
        var binds: [BindID: Bind?] = [:]
        var counterOrder: [BindID] = []
        var counters: [BindID: BindCounters] = [:]
        var audits: [PGStatement] = []
        for change in changes {
            switch change {
            case .sessionSaved(let session):
                if sessions.updateValue(session, forKey: session.id) == nil { sessionOrder.append(session.id) }
            case .sessionRemoved(let id):
                if sessions.updateValue(nil, forKey: id) == nil { sessionOrder.append(id) }
            case .bindSaved(let bind):
                if binds.updateValue(bind, forKey: bind.id) == nil { bindOrder.append(bind.id) }
                counters[bind.id] = nil
            case .bindRemoved(let id):
                if binds.updateValue(nil, forKey: id) == nil { bindOrder.append(id) }
                counters[id] = nil
            case .bindCounters(let list):
                for counter in list {
                    switch binds[counter.bindID] {
                    case .some(.some(var bind)):
                        bind.acceptedCount = counter.accepted
                        bind.discardedCount = counter.discarded
                        if let active = counter.lastActiveAt { bind.grant?.lastActiveAt = active }
                        binds[counter.bindID] = bind
                    case .some(.none):
                        break
                    case .none:
                        if counters.updateValue(counter, forKey: counter.bindID) == nil { counterOrder.append(counter.bindID) }
                    }
                }
            case .filterSaved, .filterRemoved, .protocolSaved, .protocolRemoved, .rulesReplaced, .metadataSaved:
                // Shared policy is written by its own transaction before it reaches the pipeline.
                break
            case .alreadyStored:
                // Adopted rows: the adoption's transaction moved them under this shard as they are.
                break
            case .bindsHandedOver:
                // Only after this node was fenced: the rows are the adopter's.
                break
            case .auditRecorded(let record):
                // In the batch's fenced transaction, tagged with this node; written again after
                // a COMMIT whose outcome was lost, the record's key makes the second a no-op.
                audits.append(PGStatement(prepared: "fws_audit_save", AuditSQL.insert, AuditSQL.parameters(record, node: shard)))
            }
        }
        for id in sessionOrder {
            if let session = sessions[id] ?? nil {
                statements.append(PGStatement(prepared: "fws_session_save", Self.saveSession, [shard] + PGRowCoding.parameters(session)))
            } else {
                statements.append(PGStatement(prepared: "fws_session_remove", Self.removeSession, [shard, id]))
            }
        }
        for id in bindOrder {
            if let bind = binds[id] ?? nil {
                statements.append(PGStatement(prepared: "fws_bind_save", Self.saveBind, [shard] + PGRowCoding.parameters(bind)))
            } else {
                statements.append(PGStatement(prepared: "fws_bind_remove", Self.removeBind, [shard, String(id.rawValue)]))
            }
        }
        for id in counterOrder {
            guard let counter = counters[id] else { continue }
            statements.append(PGStatement(
                prepared: "fws_bind_counters",
                "UPDATE binds SET accepted = $3, discarded = $4, last_active_at = coalesce($5::double precision, last_active_at) WHERE id = $2 AND shard = $1",
                [shard, String(id.rawValue), String(counter.accepted), String(counter.discarded),
                 counter.lastActiveAt.map { PGRowCoding.number($0.seconds) }]))
        }
        statements += audits
        if !statements.isEmpty && UInt64.random(in: 0..<200) == 0 {
            // Removal records only serve mirrors that poll every fraction of a second.
            statements.append(PGStatement(
                "DELETE FROM removals WHERE shard = $1 AND removed_at < clock_timestamp() - interval '10 minutes'", [shard]))
        }
    }

    /// BEGIN, the fence, the statements, the lease renewed once more, COMMIT: one transaction in
    /// as few round trips as a bounded pipeline allows.
    func write(on connection: PGConnection, fence: PGStatement, renew: PGStatement) throws(PostgreSQLError) {
        let all = [PGStatement("BEGIN"), fence] + statements + [renew, PGStatement("COMMIT")]
        var start = 0
        while start < all.count {
            let end = min(start + PostgreSQLBackend.statementsPerRoundTrip, all.count)
            try connection.pipeline(Array(all[start..<end]))
            start = end
        }
    }

    static let saveSession = """
        WITH saved AS (
        INSERT INTO sessions (shard, revision, id, sequence, client_address, client_type, machine_name, user_name, user_groups,
            state, created_at, terminating_at, expires_at)
        VALUES ($1, (SELECT revision FROM shards WHERE id = $1), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (id) DO UPDATE SET revision = EXCLUDED.revision, sequence = EXCLUDED.sequence,
            client_address = EXCLUDED.client_address, client_type = EXCLUDED.client_type, machine_name = EXCLUDED.machine_name,
            user_name = EXCLUDED.user_name, user_groups = EXCLUDED.user_groups, state = EXCLUDED.state,
            created_at = EXCLUDED.created_at, terminating_at = EXCLUDED.terminating_at, expires_at = EXCLUDED.expires_at
        WHERE sessions.shard = EXCLUDED.shard
        RETURNING 1)
        SELECT fws_expect_row((SELECT count(*) FROM saved), 'session', $2)
        """

    static let removeSession = """
        WITH removed AS (DELETE FROM sessions WHERE id = $2 AND shard = $1 RETURNING id),
             released AS (DELETE FROM session_claims WHERE id = $2 AND shard = $1)
        INSERT INTO removals (shard, revision, kind, key) SELECT $1, (SELECT revision FROM shards WHERE id = $1), 's', id FROM removed
        """

    static let saveBind = """
        WITH saved AS (
        INSERT INTO binds (shard, revision, id, session_id, protocol, address, state, protocol_guid, flags, ip_filter, ip_filter_id,
            created_at, pending_since, allowed_at, terminating_at, accepted, discarded, expires_at, idle_timeout, last_active_at)
        VALUES ($1, (SELECT revision FROM shards WHERE id = $1), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
            $17, $18, $19)
        ON CONFLICT (id) DO UPDATE SET revision = EXCLUDED.revision, session_id = EXCLUDED.session_id,
            protocol = EXCLUDED.protocol, address = EXCLUDED.address, state = EXCLUDED.state,
            protocol_guid = EXCLUDED.protocol_guid, flags = EXCLUDED.flags, ip_filter = EXCLUDED.ip_filter,
            ip_filter_id = EXCLUDED.ip_filter_id, created_at = EXCLUDED.created_at, pending_since = EXCLUDED.pending_since,
            allowed_at = EXCLUDED.allowed_at, terminating_at = EXCLUDED.terminating_at, accepted = EXCLUDED.accepted,
            discarded = EXCLUDED.discarded, expires_at = EXCLUDED.expires_at, idle_timeout = EXCLUDED.idle_timeout,
            last_active_at = EXCLUDED.last_active_at
        WHERE binds.shard = EXCLUDED.shard
        RETURNING 1)
        SELECT fws_expect_row((SELECT count(*) FROM saved), 'bind', 'b-' || $2)
        """

    static let removeBind = """
        WITH removed AS (DELETE FROM binds WHERE id = $2 AND shard = $1 RETURNING id),
             released AS (DELETE FROM address_claims WHERE bind_id = $2 AND shard = $1)
        INSERT INTO removals (shard, revision, kind, key)
        SELECT $1, (SELECT revision FROM shards WHERE id = $1), 'b', id::text FROM removed
        """
}

extension PostgreSQLBackend {
    /// A block of ids for this node (at start, before the pipeline runs).
    public func allocateBlock() throws(PersistenceError) -> Range<UInt64> {
        do throws(PostgreSQLError) {
            return try box.withLock { box throws(PostgreSQLError) in
                try ArraySQL.allocateBlock(try box.open(settings), size: settings.idBlockSize)
            }
        } catch {
            throw PersistenceError("PostgreSQL: \(error.message)")
        }
    }
}
