/// The array's schema in PostgreSQL: named migrations, each run once, forward only, by the first
/// node that needs them (under an advisory lock, so two nodes starting together do not race).
///
/// Nodes of different schema versions never run together: a node refuses a database with a
/// migration it does not know, and refuses to migrate while a node of the older schema holds a
/// live lease (`SchemaCheck`).
enum PGMigrations {
    struct Migration {
        let name: String
        let sql: String
    }

    /// The schema version of this build: the number of migrations it knows.
    static var version: Int { all.count }

    static let all: [Migration] = [
        Migration(
            name: "0001_array",
            sql: """
                CREATE TABLE policy (
                    id integer PRIMARY KEY CHECK (id = 1),
                    version bigint NOT NULL,
                    revision bigint NOT NULL
                );
                INSERT INTO policy (id, version, revision) VALUES (1, 1, 1);
                CREATE TABLE rules (
                    id text PRIMARY KEY,
                    position integer NOT NULL,
                    name text NOT NULL,
                    enabled boolean NOT NULL,
                    action text NOT NULL,
                    protocols text NOT NULL,
                    users text NOT NULL,
                    source_addresses text
                );
                CREATE TABLE protocols (
                    guid text PRIMARY KEY,
                    name text NOT NULL,
                    primary_connections text NOT NULL
                );
                CREATE TABLE ip_filters (
                    id text PRIMARY KEY,
                    sequence bigint NOT NULL,
                    ranges text NOT NULL,
                    created_at double precision NOT NULL,
                    updated_at double precision NOT NULL
                );
                CREATE TABLE id_blocks (
                    id integer PRIMARY KEY CHECK (id = 1),
                    next_block bigint NOT NULL
                );
                INSERT INTO id_blocks (id, next_block) VALUES (1, 1);
                CREATE TABLE shards (
                    id text PRIMARY KEY,
                    holder text,
                    epoch bigint NOT NULL,
                    lease_expires_at timestamptz,
                    revision bigint NOT NULL,
                    advertise_url text NOT NULL,
                    schema_version integer NOT NULL,
                    adopted_by text,
                    adopted_at timestamptz
                );
                CREATE TABLE sessions (
                    id text PRIMARY KEY,
                    shard text NOT NULL,
                    revision bigint NOT NULL,
                    sequence bigint NOT NULL,
                    client_address text NOT NULL,
                    client_type text NOT NULL,
                    machine_name text,
                    user_name text,
                    user_groups text,
                    state text NOT NULL,
                    created_at double precision NOT NULL,
                    terminating_at double precision
                );
                CREATE INDEX sessions_by_shard ON sessions (shard, revision);
                CREATE TABLE binds (
                    id bigint PRIMARY KEY,
                    shard text NOT NULL,
                    revision bigint NOT NULL,
                    session_id text NOT NULL,
                    protocol text NOT NULL,
                    address text NOT NULL,
                    state text NOT NULL,
                    protocol_guid text,
                    flags integer,
                    ip_filter text,
                    ip_filter_id text,
                    created_at double precision NOT NULL,
                    pending_since double precision NOT NULL,
                    allowed_at double precision,
                    terminating_at double precision,
                    accepted bigint NOT NULL DEFAULT 0,
                    discarded bigint NOT NULL DEFAULT 0
                );
                CREATE INDEX binds_by_shard ON binds (shard, revision);
                CREATE TABLE removals (
                    shard text NOT NULL,
                    revision bigint NOT NULL,
                    kind text NOT NULL,
                    key text NOT NULL,
                    removed_at timestamptz NOT NULL DEFAULT clock_timestamp()
                );
                CREATE INDEX removals_by_shard ON removals (shard, revision);
                CREATE TABLE session_claims (
                    id text PRIMARY KEY,
                    shard text NOT NULL
                );
                CREATE TABLE address_claims (
                    protocol text NOT NULL,
                    family integer NOT NULL,
                    port integer NOT NULL,
                    address text NOT NULL,
                    wildcard boolean NOT NULL,
                    bind_id bigint NOT NULL UNIQUE,
                    session_id text NOT NULL,
                    shard text NOT NULL,
                    PRIMARY KEY (protocol, family, port, address)
                );

                -- The fencing token: renews this node's lease and moves its shard's revision, or
                -- fails with FWS01 when the shard is no longer held by this node at this epoch.
                CREATE FUNCTION fws_fence(p_shard text, p_holder text, p_epoch bigint, p_lease_ms integer)
                RETURNS bigint LANGUAGE plpgsql AS $$
                DECLARE r bigint;
                BEGIN
                    UPDATE shards SET revision = revision + 1,
                        lease_expires_at = clock_timestamp() + p_lease_ms * interval '1 millisecond'
                    WHERE id = p_shard AND holder = p_holder AND epoch = p_epoch
                    RETURNING revision INTO r;
                    IF r IS NULL THEN
                        RAISE EXCEPTION 'shard % is no longer held by % at epoch %', p_shard, p_holder, p_epoch
                            USING ERRCODE = 'FWS01';
                    END IF;
                    RETURN r;
                END $$;

                -- Reserves a session id array-wide; returns NULL, or the shard that holds it.
                CREATE FUNCTION fws_claim_session(p_id text, p_shard text, p_holder text, p_epoch bigint)
                RETURNS text LANGUAGE plpgsql AS $$
                DECLARE owner text;
                BEGIN
                    PERFORM 1 FROM shards WHERE id = p_shard AND holder = p_holder AND epoch = p_epoch;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'shard % is no longer held by % at epoch %', p_shard, p_holder, p_epoch
                            USING ERRCODE = 'FWS01';
                    END IF;
                    INSERT INTO session_claims (id, shard) VALUES (p_id, p_shard) ON CONFLICT (id) DO NOTHING;
                    IF FOUND THEN RETURN NULL; END IF;
                    SELECT shard INTO owner FROM session_claims WHERE id = p_id;
                    RETURN coalesce(owner, '?');
                END $$;

                -- Reserves a protocol and address array-wide; returns nothing, or the holder's bind
                -- and session. A wildcard conflicts with every address on its port and family, and
                -- back, so claims on one port take turns on a transaction-scoped advisory lock.
                CREATE FUNCTION fws_claim_address(p_protocol text, p_family integer, p_port integer, p_address text,
                    p_wildcard boolean, p_bind bigint, p_session text, p_shard text, p_holder text, p_epoch bigint)
                RETURNS TABLE (holder_bind bigint, holder_session text) LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM 1 FROM shards WHERE id = p_shard AND holder = p_holder AND epoch = p_epoch;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'shard % is no longer held by % at epoch %', p_shard, p_holder, p_epoch
                            USING ERRCODE = 'FWS01';
                    END IF;
                    PERFORM pg_advisory_xact_lock(hashtext(p_protocol || '/' || p_family || '/' || p_port));
                    RETURN QUERY SELECT c.bind_id, c.session_id FROM address_claims c
                        WHERE c.protocol = p_protocol AND c.family = p_family AND c.port = p_port
                          AND (p_wildcard OR c.wildcard OR c.address = p_address)
                        LIMIT 1;
                    IF FOUND THEN RETURN; END IF;
                    INSERT INTO address_claims (protocol, family, port, address, wildcard, bind_id, session_id, shard)
                        VALUES (p_protocol, p_family, p_port, p_address, p_wildcard, p_bind, p_session, p_shard);
                END $$;
                """),
        // Approval lifetimes and idle timeouts, as in the SQLite store's 0002_lifetimes.
        Migration(
            name: "0002_lifetimes",
            sql: """
                ALTER TABLE binds ADD COLUMN expires_at double precision;
                ALTER TABLE binds ADD COLUMN idle_timeout double precision;
                ALTER TABLE binds ADD COLUMN last_active_at double precision;
                ALTER TABLE sessions ADD COLUMN expires_at double precision;
                """),
        Migration(
            name: "0003_batch_row_check",
            sql: """
                -- An upsert of a batch that found its row under another node's shard fails the whole
                -- transaction before COMMIT, so nothing of the batch lands.
                CREATE FUNCTION fws_expect_row(p_count bigint, p_kind text, p_key text)
                RETURNS void LANGUAGE plpgsql AS $$
                BEGIN
                    IF p_count <> 1 THEN
                        RAISE EXCEPTION '% % belongs to another node''s shard; nothing of the batch was written', p_kind, p_key
                            USING ERRCODE = 'FWS02';
                    END IF;
                END $$;
                """),
        Migration(
            name: "0004_claims_lock_shard",
            sql: """
                -- A claim holds its shard's row FOR KEY SHARE until its transaction ends: an adoption
                -- of the shard (FOR UPDATE) either waits for the claim, and then moves it with the
                -- others, or goes first, and then the claim finds the shard retired (FWS01) instead
                -- of inserting a claim under it after the others moved. fws_fence updates no key
                -- column, so the shard's own batches do not wait for claims.
                CREATE OR REPLACE FUNCTION fws_claim_session(p_id text, p_shard text, p_holder text, p_epoch bigint)
                RETURNS text LANGUAGE plpgsql AS $$
                DECLARE owner text;
                BEGIN
                    PERFORM 1 FROM shards WHERE id = p_shard AND holder = p_holder AND epoch = p_epoch FOR KEY SHARE;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'shard % is no longer held by % at epoch %', p_shard, p_holder, p_epoch
                            USING ERRCODE = 'FWS01';
                    END IF;
                    INSERT INTO session_claims (id, shard) VALUES (p_id, p_shard) ON CONFLICT (id) DO NOTHING;
                    IF FOUND THEN RETURN NULL; END IF;
                    SELECT shard INTO owner FROM session_claims WHERE id = p_id;
                    RETURN coalesce(owner, '?');
                END $$;

                CREATE OR REPLACE FUNCTION fws_claim_address(p_protocol text, p_family integer, p_port integer, p_address text,
                    p_wildcard boolean, p_bind bigint, p_session text, p_shard text, p_holder text, p_epoch bigint)
                RETURNS TABLE (holder_bind bigint, holder_session text) LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM 1 FROM shards WHERE id = p_shard AND holder = p_holder AND epoch = p_epoch FOR KEY SHARE;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'shard % is no longer held by % at epoch %', p_shard, p_holder, p_epoch
                            USING ERRCODE = 'FWS01';
                    END IF;
                    PERFORM pg_advisory_xact_lock(hashtext(p_protocol || '/' || p_family || '/' || p_port));
                    RETURN QUERY SELECT c.bind_id, c.session_id FROM address_claims c
                        WHERE c.protocol = p_protocol AND c.family = p_family AND c.port = p_port
                          AND (p_wildcard OR c.wildcard OR c.address = p_address)
                        LIMIT 1;
                    IF FOUND THEN RETURN; END IF;
                    INSERT INTO address_claims (protocol, family, port, address, wildcard, bind_id, session_id, shard)
                        VALUES (p_protocol, p_family, p_port, p_address, p_wildcard, p_bind, p_session, p_shard);
                END $$;
                """),
        Migration(
            name: "0005_claims_by_shard",
            sql: """
                -- Claims are found by shard when a node takes its shard (orphans go), when one is
                -- given back, and when a shard is adopted.
                CREATE INDEX session_claims_by_shard ON session_claims (shard);
                CREATE INDEX address_claims_by_shard ON address_claims (shard);
                """),
        // The audit trail: every node's records in one table, each with its node; the key makes
        // a batch written again after a lost COMMIT harmless.
        Migration(
            name: "0006_audit",
            sql: """
                CREATE TABLE audit (
                    id bigserial PRIMARY KEY,
                    node text NOT NULL,
                    record_key bigint NOT NULL,
                    time double precision NOT NULL,
                    action text NOT NULL,
                    token text NOT NULL,
                    request_id text NOT NULL,
                    session_id text,
                    bind_id bigint,
                    hresult text NOT NULL,
                    details text NOT NULL,
                    UNIQUE (node, record_key)
                );
                CREATE INDEX audit_time ON audit (time, id);
                CREATE INDEX audit_action ON audit (action, id);
                CREATE INDEX audit_token ON audit (token, id);
                CREATE INDEX audit_session ON audit (session_id, id) WHERE session_id IS NOT NULL;
                CREATE INDEX audit_bind ON audit (bind_id, id) WHERE bind_id IS NOT NULL;
                CREATE INDEX audit_hresult ON audit (hresult, id);
                """),
    ]

    /// Brings the database to this build's schema, or refuses with a message an operator can act on.
    static func migrate(_ connection: PGConnection) throws(PostgreSQLError) {
        try connection.execute("BEGIN")
        do throws(PostgreSQLError) {
            // Text is sent and stored as UTF-8: a database in another encoding would refuse some
            // value one day, and that batch would be retried forever.
            let encoding = try connection.query("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()").scalar
            guard encoding == "UTF8" else {
                throw PostgreSQLError(message: """
                    the database uses encoding \(encoding ?? "?"); fwsessiond needs a UTF8 database \
                    (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)
                    """)
            }
            // One node migrates at a time; the others wait here and then find nothing to do.
            try connection.query("SELECT pg_advisory_xact_lock(4242001)")
            try connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let applied = Set(try connection.query("SELECT name FROM schema_migrations").rows.compactMap { $0.first ?? nil })
            let known = Set(all.map(\.name))
            if let unknown = applied.subtracting(known).sorted().first {
                throw PostgreSQLError(message: """
                    the database has schema migration '\(unknown)', which this build does not know: it was migrated \
                    by a newer fwsessiond (schema version \(applied.count), this build has \(version)); upgrade this node
                    """)
            }
            let missing = all.filter { !applied.contains($0.name) }
            if !missing.isEmpty && applied.contains(all[0].name) {
                let older = try connection.query(
                    "SELECT id FROM shards WHERE holder IS NOT NULL AND lease_expires_at > clock_timestamp() AND schema_version <> $1 ORDER BY id",
                    [String(version)]).rows.compactMap { $0.first ?? nil }
                if !older.isEmpty {
                    throw PostgreSQLError(message: """
                        nodes \(older.joined(separator: ", ")) run an older schema (\(applied.count)); this build needs \
                        schema version \(version): stop them (or upgrade them first) before starting this node
                        """)
                }
            }
            for migration in missing {
                try connection.execute(migration.sql)
                try connection.query("INSERT INTO schema_migrations (name) VALUES ($1)", [migration.name])
            }
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackIfNeeded()
            throw error
        }
    }

    /// Refuses to join an array whose live nodes run another schema version.
    static func checkLiveNodes(_ connection: PGConnection, except nodeID: String) throws(PostgreSQLError) {
        let others = try connection.query("""
            SELECT id, schema_version FROM shards
            WHERE holder IS NOT NULL AND lease_expires_at > clock_timestamp() AND schema_version <> $1 AND id <> $2
            ORDER BY id
            """, [String(version), nodeID]).rows
        guard others.isEmpty else {
            let list = others.map { "\($0[0] ?? "?") (schema \($0[1] ?? "?"))" }.joined(separator: ", ")
            throw PostgreSQLError(message: """
                nodes of different schema versions cannot run together: live nodes \(list), this node has schema \(version); \
                upgrade or stop them first
                """)
        }
    }
}
