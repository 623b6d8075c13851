#if canImport(Glibc)
import Glibc
#endif
import CLibPQ
import FirewallSessions
import Synchronization

/// How a node joins an array.
public struct PostgreSQLArraySettings: Sendable, Equatable {
    /// libpq connection string or URL (several hosts and `target_session_attrs=read-write` allowed).
    public var url: String
    /// This node's name; also the name of the shard it writes.
    public var nodeID: String
    /// Where clients reach this node (`Location` of redirects other nodes send here).
    public var advertiseURL: String
    /// How long a lease lasts; a node silent for longer is adopted.
    public var leaseSeconds: Double = 3
    /// How often the monitor checks the policy version, the other nodes and their leases.
    public var pollSeconds: Double = 0.25
    /// Ids handed out per block.
    public var idBlockSize: UInt64 = 10_000

    /// Creates settings.
    public init(url: String, nodeID: String, advertiseURL: String) {
        self.url = url
        self.nodeID = nodeID
        self.advertiseURL = advertiseURL
    }

    var leaseMilliseconds: String { String(Int(leaseSeconds * 1000)) }

    /// How long an adoption's transaction may take (moving a shard of 300,000 binds took 10-14 s
    /// on a loaded test machine): a minute, or twenty leases if that is more.
    var adoptionTimeoutSeconds: Double { max(60, leaseSeconds * 20) }

    /// A connection for one role, with the session settings that keep a stalled node from holding
    /// locks: a transaction left open (a paused process) is ended by the server within a lease.
    /// A dead peer is noticed within about a lease (TCP keepalives, `tcp_user_timeout`), and a
    /// server that stops answering a statement well past `statement_timeout` is given up.
    func connect(_ role: String) throws(PostgreSQLError) -> PGConnection {
        try PGConnection(
            url: url, role: "fwsessiond-\(role)-\(nodeID)",
            options: [
                "idle_in_transaction_session_timeout": leaseMilliseconds,
                "statement_timeout": String(Int(leaseSeconds * 2000)),
                "lock_timeout": leaseMilliseconds,
                "client_min_messages": "warning",
                "client_encoding": "UTF8",
            ],
            deadPeerSeconds: leaseSeconds, resultTimeoutSeconds: leaseSeconds * 3)
    }
}

/// What the node knows of its own standing in the array, shared by the store thread, the
/// monitor and `/readyz`.
public final class ArrayStanding: Sendable {
    private struct State {
        var epoch: Int64 = 0
        var fenced: String?
        var storeError: String?
        var monitorError: String?
        var connectedSince: Double?
    }

    private let state = Mutex(State())

    init() {}

    /// The epoch this node holds its shard at (its fencing token).
    public var epoch: Int64 { state.withLock { $0.epoch } }

    /// Why this node may not write, if it may not: its state was adopted (fenced, for good), or
    /// PostgreSQL cannot be reached.
    public var failure: String? {
        state.withLock { state in
            state.fenced ?? state.storeError ?? state.monitorError.map { "PostgreSQL cannot be reached: \($0)" }
        }
    }

    /// Whether another node adopted this node's state.
    public var isFenced: Bool { state.withLock { $0.fenced != nil } }

    /// Seconds the monitor has been connected without a break (nil: not connected).
    func connectedSeconds(now: Double) -> Double? { state.withLock { $0.connectedSince.map { now - $0 } } }

    func held(epoch: Int64) { state.withLock { $0.epoch = epoch } }
    func fence(_ reason: String) { state.withLock { if $0.fenced == nil { $0.fenced = reason } } }
    func store(failed message: String?) { state.withLock { $0.storeError = message } }
    func monitor(connectedAt since: Double?, error: String?) {
        state.withLock { state in
            state.connectedSince = since
            state.monitorError = error
        }
    }
}

/// The array's side of PostgreSQL, as blocking operations on a connection: the shard lease, the
/// loader, id blocks, claims, shared policy transactions, other nodes' changes and adoption. The
/// threads that run them are `PostgreSQLBackend` (the store), `PostgreSQLArrayMonitor` and the
/// workers of `PostgreSQLArrayClient`.
enum ArraySQL {
    static let policyChannel = "fwsessiond_policy"

    // MARK: Joining

    /// Takes this node's shard at a new epoch. A shard still leased by a live process with the
    /// same node id is waited for (a restart after a crash) and, if it stays live, refused (two
    /// processes with one node id). Claims of the shard without their session or bind (claimed,
    /// then the process died before the batch was written) go in the same transaction: nothing
    /// else would ever remove them.
    static func acquireShard(_ connection: PGConnection, _ settings: PostgreSQLArraySettings) throws(PostgreSQLError) -> Int64 {
        let deadline = monotonicSeconds() + settings.leaseSeconds * 2 + 1
        while true {
            let rows = try connection.pipeline([
                PGStatement("BEGIN"),
                PGStatement(
                    "INSERT INTO shards (id, holder, epoch, revision, advertise_url, schema_version) VALUES ($1, NULL, 0, 0, $2, $3) ON CONFLICT (id) DO NOTHING",
                    [settings.nodeID, settings.advertiseURL, String(PGMigrations.version)]),
                PGStatement(
                    "SELECT holder IS NOT NULL AND lease_expires_at > clock_timestamp() FROM shards WHERE id = $1 FOR UPDATE",
                    [settings.nodeID]),
            ])
            if rows[2].scalar == "t" {
                connection.rollbackIfNeeded()
                guard monotonicSeconds() < deadline else {
                    throw PostgreSQLError(message: """
                        node id '\(settings.nodeID)' is held by a live process (its lease keeps being renewed): \
                        is another fwsessiond running with --node-id \(settings.nodeID)?
                        """)
                }
                usleep(250_000)
                continue
            }
            let epoch = try connection.pipeline([
                PGStatement(
                    """
                    UPDATE shards SET holder = $1, epoch = epoch + 1, lease_expires_at = clock_timestamp() + $4 * interval '1 millisecond',
                        advertise_url = $2, schema_version = $3, adopted_by = NULL, adopted_at = NULL
                    WHERE id = $1 RETURNING epoch
                    """, [settings.nodeID, settings.advertiseURL, String(PGMigrations.version), settings.leaseMilliseconds]),
                PGStatement(
                    "DELETE FROM session_claims c WHERE shard = $1 AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.id)",
                    [settings.nodeID]),
                PGStatement(
                    "DELETE FROM address_claims c WHERE shard = $1 AND NOT EXISTS (SELECT 1 FROM binds b WHERE b.id = c.bind_id)",
                    [settings.nodeID]),
                PGStatement("COMMIT"),
            ])[0].scalar
            guard let epoch = epoch.flatMap({ Int64($0) }) else { throw PostgreSQLError(message: "could not take shard \(settings.nodeID)") }
            return epoch
        }
    }

    // MARK: Loading

    /// The shared policy, read in one snapshot (or inside the caller's transaction).
    static func loadPolicy(_ connection: PGConnection, inTransaction: Bool = false) throws(PostgreSQLError) -> SharedPolicy {
        let reads = [
            PGStatement("SELECT version, revision FROM policy WHERE id = 1"),
            PGStatement("SELECT id, name, enabled, action, protocols, users, source_addresses FROM rules ORDER BY position"),
            PGStatement("SELECT guid, name, primary_connections FROM protocols ORDER BY guid"),
            PGStatement("SELECT id, sequence, ranges, created_at, updated_at FROM ip_filters ORDER BY sequence"),
        ]
        let results = inTransaction
            ? try connection.pipeline(reads)
            : Array(try connection.pipeline([PGStatement("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")] + reads + [PGStatement("COMMIT")]).dropFirst())
        return try decoding { () throws(PersistenceError) in
            let head = results[0].rows.first ?? []
            return SharedPolicy(
                rules: try results[1].rows.map(PGRowCoding.rule), protocols: try results[2].rows.map(PGRowCoding.protocolDefinition),
                filters: try results[3].rows.map(PGRowCoding.filter), version: Int64(head.first.flatMap { $0 } ?? "1") ?? 1,
                revision: Int64(head.dropFirst().first.flatMap { $0 } ?? "1") ?? 1)
        }
    }

    /// A shard's rows: all of them (`after` nil) or those written since a revision, with the
    /// removals since then; and the revision they are complete through. One snapshot.
    static func loadShard(_ connection: PGConnection, _ shard: String, after revision: Int64?) throws(PostgreSQLError)
        -> (rows: ShardRows, through: Int64)
    {
        let since = String(revision ?? -1)
        let results = try connection.pipeline([
            PGStatement("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            PGStatement("SELECT revision FROM shards WHERE id = $1", [shard]),
            PGStatement("SELECT \(PGRowCoding.sessionColumns) FROM sessions WHERE shard = $1 AND revision > $2", [shard, since]),
            PGStatement("SELECT \(PGRowCoding.bindColumns) FROM binds WHERE shard = $1 AND revision > $2 ORDER BY id", [shard, since]),
            PGStatement("SELECT kind, key FROM removals WHERE shard = $1 AND revision > $2", [shard, since]),
            PGStatement("COMMIT"),
        ])
        return try decoding { () throws(PersistenceError) in
            var rows = ShardRows()
            rows.sessions = try results[2].rows.map(PGRowCoding.session)
            rows.binds = try results[3].rows.map(PGRowCoding.bind)
            for removal in results[4].rows {
                guard let key = removal[1] else { continue }
                if removal[0] == "s" { rows.removedSessions.append(key) } else if let id = UInt64(key) { rows.removedBinds.append(BindID(rawValue: id)) }
            }
            return (rows, Int64(results[1].scalar ?? "0") ?? 0)
        }
    }

    /// Hands out the next block of ids; a committed row, so a block is never handed out twice
    /// (a sequence's `nextval` may repeat after a crash when nothing else was committed).
    static func allocateBlock(_ connection: PGConnection, size: UInt64) throws(PostgreSQLError) -> Range<UInt64> {
        let rows = try connection.pipeline([
            PGStatement("BEGIN"),
            PGStatement("UPDATE id_blocks SET next_block = next_block + 1 WHERE id = 1 RETURNING next_block - 1"),
            PGStatement("COMMIT"),
        ])
        guard let block = rows[1].scalar.flatMap({ UInt64($0) }) else { throw PostgreSQLError(message: "no id block row") }
        return (block * size)..<((block + 1) * size)
    }

    // MARK: Members and adoption

    /// Every shard: who holds it, where it answers, whether its lease is current, and its revision.
    static func members(_ connection: PGConnection) throws(PostgreSQLError) -> [(member: ArrayMember, epoch: Int64, revision: Int64)] {
        let rows = try connection.query("""
            SELECT id, holder, advertise_url, holder IS NOT NULL AND lease_expires_at > clock_timestamp(), adopted_by, epoch, revision
            FROM shards ORDER BY id
            """).rows
        return rows.compactMap { row in
            guard let shard = row[0], let url = row[2], let epoch = row[5].flatMap({ Int64($0) }),
                let revision = row[6].flatMap({ Int64($0) })
            else { return nil }
            return (ArrayMember(shard: shard, holder: row[1], advertiseURL: url, live: row[3] == "t", adoptedBy: row[4]), epoch, revision)
        }
    }

    /// A shard this node adopted: its rows (now under this node's shard) and a fresh id block.
    struct Adoption: Sendable {
        var shard: String
        var holder: String
        var rows: ShardRows
        var block: Range<UInt64>
    }

    /// How an adoption ended.
    enum AdoptionOutcome: Sendable {
        /// Committed: the rows are this node's.
        case committed(Adoption)
        /// The connection broke while the COMMIT was in flight: whether the rows moved is found
        /// out on the next connection (`adoptionCommitted`).
        case unknown(Adoption, PostgreSQLError)
    }

    /// Adopts one shard whose lease ran out, if there is one: it is retired at a new epoch (so
    /// its old holder's writes fail from now on), its sessions, binds and claims move to this
    /// node's shard, orphan claims (a node that died between claiming and committing) go, and a
    /// fresh id block is taken, above every id the adopted shard ever used. One transaction.
    ///
    /// It holds this node's own shard row only FOR KEY SHARE (at this node's epoch: a fenced node
    /// adopts nothing): nobody adopts this node meanwhile, and this node's store, whose fence is a
    /// non-key update, goes on writing and renewing the lease however long the adoption takes.
    /// So the moved rows cannot take this shard's revision (that would need its row lock to the
    /// end): they get revision 0, and other nodes re-read this shard whole when they see the
    /// adoption (the adopted shard's epoch moved; `PostgreSQLArrayMonitor`). A large shard takes
    /// seconds to move, so the transaction has a timeout of its own (`adoptionTimeoutSeconds`).
    /// The COMMIT is a round trip of its own, so a COMMIT whose answer was lost still leaves the
    /// rows in hand (`.unknown`).
    static func adoptExpired(_ connection: PGConnection, _ settings: PostgreSQLArraySettings, epoch: Int64, blockSize: UInt64)
        throws(PostgreSQLError) -> AdoptionOutcome?
    {
        let me = settings.nodeID
        let timeout = String(Int(settings.adoptionTimeoutSeconds * 1000))
        let resultTimeout = connection.resultTimeoutSeconds
        connection.resultTimeoutSeconds = settings.adoptionTimeoutSeconds + settings.leaseSeconds
        defer { connection.resultTimeoutSeconds = resultTimeout }
        let found = try connection.pipeline([
            PGStatement("BEGIN"),
            PGStatement("SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)",
                        [timeout, String(Int(settings.leaseSeconds * 2000))]),
            PGStatement("SELECT 1 FROM shards WHERE id = $1 AND holder = $1 AND epoch = $2 FOR KEY SHARE", [me, String(epoch)]),
            PGStatement("""
                SELECT id, holder FROM shards
                WHERE id <> $1 AND holder IS NOT NULL AND lease_expires_at < clock_timestamp()
                ORDER BY lease_expires_at LIMIT 1 FOR UPDATE SKIP LOCKED
                """, [me]),
        ])
        guard !found[2].rows.isEmpty else {
            try connection.execute("ROLLBACK")
            throw PostgreSQLError(sqlState: PostgreSQLError.fencedState, message: "shard \(me) is no longer held by \(me) at epoch \(epoch)")
        }
        guard let row = found[3].rows.first, let shard = row[0], let holder = row[1] else {
            try connection.execute("ROLLBACK")
            return nil
        }
        let results = try connection.pipeline([
            PGStatement("""
                UPDATE shards SET holder = NULL, epoch = epoch + 1, adopted_by = $2, adopted_at = clock_timestamp(), lease_expires_at = NULL
                WHERE id = $1
                """, [shard, me]),
            PGStatement("UPDATE sessions SET shard = $2, revision = 0 WHERE shard = $1 RETURNING \(PGRowCoding.sessionColumns)", [shard, me]),
            PGStatement("UPDATE binds SET shard = $2, revision = 0 WHERE shard = $1 RETURNING \(PGRowCoding.bindColumns)", [shard, me]),
            PGStatement("DELETE FROM session_claims c WHERE shard = $1 AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.id)", [shard]),
            PGStatement("UPDATE session_claims SET shard = $2 WHERE shard = $1", [shard, me]),
            PGStatement("DELETE FROM address_claims c WHERE shard = $1 AND NOT EXISTS (SELECT 1 FROM binds b WHERE b.id = c.bind_id)", [shard]),
            PGStatement("UPDATE address_claims SET shard = $2 WHERE shard = $1", [shard, me]),
            PGStatement("DELETE FROM removals WHERE shard = $1", [shard]),
            PGStatement("UPDATE id_blocks SET next_block = next_block + 1 WHERE id = 1 RETURNING next_block - 1"),
        ])
        guard let blockNumber = results[8].scalar.flatMap({ UInt64($0) }) else { throw PostgreSQLError(message: "no id block row") }
        let adoption = try decoding { () throws(PersistenceError) in
            var rows = ShardRows()
            rows.sessions = try results[1].rows.map(PGRowCoding.session)
            rows.binds = try results[2].rows.map(PGRowCoding.bind).sorted { $0.id < $1.id }
            return Adoption(shard: shard, holder: holder, rows: rows, block: (blockNumber * blockSize)..<((blockNumber + 1) * blockSize))
        }
        do {
            try connection.pipeline([PGStatement("COMMIT")])
        } catch {
            if error.connectionBroken { return .unknown(adoption, error) }
            throw error
        }
        return .committed(adoption)
    }

    /// Whether an adoption whose COMMIT lost its answer committed after all: its rows are under
    /// this node's shard (only this node moves them away from there, and it never had them).
    /// An adoption of an empty shard has nothing to serve either way: false.
    static func adoptionCommitted(_ connection: PGConnection, _ settings: PostgreSQLArraySettings, _ adoption: Adoption)
        throws(PostgreSQLError) -> Bool
    {
        let probe: PGStatement
        if let session = adoption.rows.sessions.first {
            probe = PGStatement("SELECT shard FROM sessions WHERE id = $1", [session.id])
        } else if let bind = adoption.rows.binds.first {
            probe = PGStatement("SELECT shard FROM binds WHERE id = $1", [String(bind.id.rawValue)])
        } else {
            return false
        }
        return try connection.query(probe.sql, probe.parameters).scalar == settings.nodeID
    }

    /// Who holds this node's shard now, for the message of a fenced node.
    static func fencedReason(_ connection: PGConnection, _ settings: PostgreSQLArraySettings, epoch: Int64) -> String {
        let row = try? connection.query("SELECT adopted_by, epoch FROM shards WHERE id = $1", [settings.nodeID]).rows.first
        let adopter = row?[0].flatMap { $0 } ?? "another node"
        let current = row?[1].flatMap { $0 } ?? "?"
        return """
            fenced: node '\(adopter)' adopted this node's sessions and binds (epoch \(epoch) is over, the shard is at epoch \(current)); \
            this node no longer serves them and refuses writes; restart it to rejoin the array
            """
    }

    static func decoding<T>(_ body: () throws(PersistenceError) -> T) throws(PostgreSQLError) -> T {
        do {
            return try body()
        } catch {
            throw PostgreSQLError(message: error.message)
        }
    }

    static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
