import FirewallSessions

/// Why a shared-policy change did not happen.
public enum PolicyChangeFailure: Error, Sendable {
    /// The change itself was refused (412, 404, 409 ...): nothing was written.
    case refused(FirewallError)
    /// PostgreSQL failed: nothing was written, or (a broken COMMIT) the outcome is unknown.
    case store(PostgreSQLError)
}

/// The request-time side of an array node: claims of session ids and bind addresses, and shared
/// policy changes, each on a worker thread with a PostgreSQL connection of its own (libpq blocks).
public final class PostgreSQLArrayClient: Sendable {
    private let settings: PostgreSQLArraySettings
    private let standing: ArrayStanding
    private let claims: PGWorker
    private let policy: PGWorker

    /// Starts the workers (they connect on first use).
    public init(settings: PostgreSQLArraySettings, standing: ArrayStanding) {
        self.settings = settings
        self.standing = standing
        claims = PGWorker { () throws(PostgreSQLError) in try settings.connect("claims") }
        policy = PGWorker { () throws(PostgreSQLError) in try settings.connect("policy") }
    }

    /// Stops the workers after their queued jobs.
    public func close() {
        claims.close()
        policy.close()
    }

    // MARK: Claims

    /// Reserves a session id for this node; nil when it got it, else the shard that holds it.
    public func claimSession(_ id: String) async throws(PostgreSQLError) -> String? {
        let (shard, epoch) = (settings.nodeID, standing.epoch)
        return try await claims.run { connection throws(PostgreSQLError) in
            try connection.pipeline([
                PGStatement("BEGIN"),
                PGStatement(prepared: "fws_claim_session", "SELECT fws_claim_session($1, $2, $2, $3)", [id, shard, String(epoch)]),
                PGStatement("COMMIT"),
            ])[1].scalar
        }
    }

    /// Gives back a session id this node claimed but did not use.
    public func releaseSession(_ id: String) async {
        let shard = settings.nodeID
        _ = try? await claims.run { connection throws(PostgreSQLError) in
            try connection.pipeline([
                PGStatement("BEGIN"),
                PGStatement("DELETE FROM session_claims c WHERE id = $1 AND shard = $2 AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.id)", [id, shard]),
                PGStatement("COMMIT"),
            ])
        }
    }

    /// Reserves a protocol and address for a bind of this node; nil when it got it, else the
    /// holder's session and bind.
    public func claimAddress(_ transport: TransportProtocol, _ address: SocketAddress, bindID: BindID, sessionID: String) async
        throws(PostgreSQLError) -> BindReference?
    {
        let (shard, epoch) = (settings.nodeID, standing.epoch)
        let family = address.ip.family == .v4 ? "4" : "6"
        return try await claims.run { connection throws(PostgreSQLError) in
            let rows = try connection.pipeline([
                PGStatement("BEGIN"),
                PGStatement(
                    prepared: "fws_claim_address", "SELECT * FROM fws_claim_address($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
                    [transport.rawValue, family, String(address.port), address.ip.description, address.isWildcard ? "t" : "f",
                     String(bindID.rawValue), sessionID, shard, String(epoch)]),
                PGStatement("COMMIT"),
            ])[1].rows
            guard let row = rows.first, let bind = row[0].flatMap({ UInt64($0) }), let session = row[1] else { return nil }
            return BindReference(sessionID: session, bindID: BindID(rawValue: bind))
        }
    }

    /// Gives back an address this node claimed for a bind it did not create.
    public func releaseAddress(bindID: BindID) async {
        let shard = settings.nodeID
        _ = try? await claims.run { connection throws(PostgreSQLError) in
            try connection.pipeline([
                PGStatement("BEGIN"),
                PGStatement("DELETE FROM address_claims c WHERE bind_id = $1 AND shard = $2 AND NOT EXISTS (SELECT 1 FROM binds b WHERE b.id = c.bind_id)",
                            [String(bindID.rawValue), shard]),
                PGStatement("COMMIT"),
            ])
        }
    }

    // MARK: Shared policy

    /// Changes the shared policy, serialised across the array by the policy row's lock: under
    /// it, a node that is behind first catches up (`catchUp` with the array's policy), then
    /// `compute` proposes the change on the current policy (the If-Match check sees the array's
    /// version), the difference is written with the version and revision moved, every node is
    /// notified, and COMMIT. Returns the committed policy; nothing is written when `compute`
    /// refuses or a row the change would delete is still used by another node's allowed bind.
    ///
    /// Fenced like every write of the node: the transaction holds this node's shard row (FOR KEY
    /// SHARE, so no adoption of it commits meanwhile) and fails with FWS01 when the node no
    /// longer holds its shard at its epoch.
    public func changePolicy(
        appliedRevision: @escaping @Sendable () -> Int64,
        catchUp: @escaping @Sendable (SharedPolicy) -> Void,
        compute: @escaping @Sendable () -> Result<PolicyProposal, FirewallError>
    ) async -> Result<SharedPolicy, PolicyChangeFailure> {
        let (shard, epoch, standing, settings) = (settings.nodeID, standing.epoch, standing, settings)
        do {
            return try await policy.run { connection throws(PostgreSQLError) -> Result<SharedPolicy, PolicyChangeFailure> in
                let locked = try connection.pipeline([
                    PGStatement("BEGIN"),
                    PGStatement("SELECT 1 FROM shards WHERE id = $1 AND holder = $1 AND epoch = $2 FOR KEY SHARE", [shard, String(epoch)]),
                    PGStatement("SELECT revision FROM policy WHERE id = 1 FOR UPDATE"),
                ])
                guard !locked[1].rows.isEmpty else {
                    connection.rollbackIfNeeded()
                    standing.fence(ArraySQL.fencedReason(connection, settings, epoch: epoch))
                    throw PostgreSQLError(
                        sqlState: PostgreSQLError.fencedState, message: "shard \(shard) is no longer held by \(shard) at epoch \(epoch)")
                }
                let revision = Int64(locked[2].scalar ?? "0") ?? 0
                if revision > appliedRevision() { catchUp(try ArraySQL.loadPolicy(connection, inTransaction: true)) }
                let proposal: PolicyProposal
                switch compute() {
                case .success(let computed): proposal = computed
                case .failure(let refusal):
                    connection.rollbackIfNeeded()
                    return .failure(.refused(refusal))
                }
                if let refusal = try Self.stillReferenced(connection, proposal, shard: shard) {
                    connection.rollbackIfNeeded()
                    return .failure(.refused(refusal))
                }
                // The change's audit record commits with it, or not at all.
                let audit = proposal.audit.map { [PGStatement(AuditSQL.insert, AuditSQL.parameters($0, node: shard))] } ?? []
                let results = try connection.pipeline(Self.writes(proposal) + audit + [
                    PGStatement("UPDATE policy SET version = $1, revision = revision + 1 WHERE id = 1 RETURNING revision", [String(proposal.after.version)]),
                ])
                guard let committed = results.last?.scalar.flatMap({ Int64($0) }) else {
                    throw PostgreSQLError(message: "the policy row is missing")
                }
                try connection.pipeline([
                    PGStatement("SELECT pg_notify($1, $2)", [ArraySQL.policyChannel, String(committed)]),
                    PGStatement("COMMIT"),
                ])
                var after = proposal.after
                after.revision = committed
                return .success(after)
            }
        } catch {
            return .failure(.store(error))
        }
    }

    /// A protocol or stored filter the change deletes that an allowed bind of another node still
    /// uses (this node's own binds were checked by the domain).
    private static func stillReferenced(_ connection: PGConnection, _ proposal: PolicyProposal, shard: String) throws(PostgreSQLError)
        -> FirewallError?
    {
        let keptProtocols = Set(proposal.after.protocols.map(\.guid))
        for removed in proposal.before.protocols where !keptProtocols.contains(removed.guid) {
            let row = try connection.query(
                "SELECT id, shard FROM binds WHERE state = 'allowed' AND protocol_guid = $1 AND shard <> $2 LIMIT 1",
                [removed.guid.description, shard]).rows.first
            if let row {
                return FirewallError(.ERROR_BUSY, "protocol definition \(removed.guid) is granted to bind b-\(row[0] ?? "?") of node '\(row[1] ?? "?")'")
            }
        }
        let keptFilters = Set(proposal.after.filters.map(\.id))
        for removed in proposal.before.filters where !keptFilters.contains(removed.id) {
            let row = try connection.query(
                "SELECT id, shard FROM binds WHERE state = 'allowed' AND ip_filter_id = $1 AND shard <> $2 LIMIT 1", [removed.id, shard]
            ).rows.first
            if let row {
                return FirewallError(.ERROR_BUSY, "IP filter '\(removed.id)' is referenced by bind b-\(row[0] ?? "?") of node '\(row[1] ?? "?")'")
            }
        }
        return nil
    }

    /// The rows that differ between the two policies.
    private static func writes(_ proposal: PolicyProposal) -> [PGStatement] {
        let before = proposal.before
        let after = proposal.after
        var statements: [PGStatement] = []
        if before.rules != after.rules {
            statements.append(PGStatement("DELETE FROM rules"))
            for (index, rule) in after.rules.enumerated() {
                statements.append(PGStatement(
                    "INSERT INTO rules (id, position, name, enabled, action, protocols, users, source_addresses) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    PGRowCoding.parameters(rule, position: index + 1)))
            }
        }
        let oldProtocols = Dictionary(before.protocols.map { ($0.guid, $0) }, uniquingKeysWith: { $1 })
        let newProtocols = Dictionary(after.protocols.map { ($0.guid, $0) }, uniquingKeysWith: { $1 })
        for guid in oldProtocols.keys where newProtocols[guid] == nil {
            statements.append(PGStatement("DELETE FROM protocols WHERE guid = $1", [guid.description]))
        }
        for (guid, definition) in newProtocols where oldProtocols[guid] != definition {
            statements.append(PGStatement(
                "INSERT INTO protocols (guid, name, primary_connections) VALUES ($1, $2, $3) ON CONFLICT (guid) DO UPDATE SET name = EXCLUDED.name, primary_connections = EXCLUDED.primary_connections",
                [guid.description, definition.name, RowCoding.text(definition.primaryConnections)]))
        }
        let oldFilters = Dictionary(before.filters.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let newFilters = Dictionary(after.filters.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        for id in oldFilters.keys where newFilters[id] == nil {
            statements.append(PGStatement("DELETE FROM ip_filters WHERE id = $1", [id]))
        }
        for (id, filter) in newFilters where oldFilters[id] != filter {
            statements.append(PGStatement(
                "INSERT INTO ip_filters (id, sequence, ranges, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET ranges = EXCLUDED.ranges, updated_at = EXCLUDED.updated_at",
                PGRowCoding.parameters(filter)))
        }
        return statements
    }
}
