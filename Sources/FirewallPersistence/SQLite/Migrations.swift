/// A named schema change. Migrations run in order, each once, forward only: a database written by
/// a newer build that this build does not know is refused rather than guessed at.
struct Migration {
    let name: String
    let sql: String

    static let all: [Migration] = [
        Migration(
            name: "0001_initial",
            sql: """
                CREATE TABLE sessions (
                    id TEXT PRIMARY KEY,
                    sequence INTEGER NOT NULL,
                    client_address TEXT NOT NULL,
                    client_type TEXT NOT NULL,
                    machine_name TEXT,
                    user_name TEXT,
                    user_groups TEXT,
                    state TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    terminating_at REAL
                );
                CREATE TABLE binds (
                    id INTEGER PRIMARY KEY,
                    session_id TEXT NOT NULL,
                    protocol TEXT NOT NULL,
                    address TEXT NOT NULL,
                    state TEXT NOT NULL,
                    protocol_guid TEXT,
                    flags INTEGER,
                    ip_filter TEXT,
                    ip_filter_id TEXT,
                    created_at REAL NOT NULL,
                    pending_since REAL NOT NULL,
                    allowed_at REAL,
                    terminating_at REAL,
                    accepted INTEGER NOT NULL DEFAULT 0,
                    discarded INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE ip_filters (
                    id TEXT PRIMARY KEY,
                    sequence INTEGER NOT NULL,
                    ranges TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE TABLE protocols (
                    guid TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    primary_connections TEXT NOT NULL
                );
                CREATE TABLE rules (
                    id TEXT PRIMARY KEY,
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    enabled INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    protocols TEXT NOT NULL,
                    users TEXT NOT NULL,
                    source_addresses TEXT
                );
                CREATE TABLE metadata (
                    key TEXT PRIMARY KEY,
                    value INTEGER NOT NULL
                );
                """),
        // Approval lifetimes and idle timeouts (`FirewallState+Lifetimes.swift`): a bind's fixed end,
        // its idle timeout and when it last accepted traffic; a session's idle deadline.
        Migration(
            name: "0002_lifetimes",
            sql: """
                ALTER TABLE binds ADD COLUMN expires_at REAL;
                ALTER TABLE binds ADD COLUMN idle_timeout REAL;
                ALTER TABLE binds ADD COLUMN last_active_at REAL;
                ALTER TABLE sessions ADD COLUMN expires_at REAL;
                """),
        // The audit trail (`AuditRecord`), written in the transaction of the change it records;
        // an index per filter of `GET /audit`, each ending in the id the pages follow.
        Migration(
            name: "0003_audit",
            sql: """
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    record_key INTEGER NOT NULL,
                    time REAL NOT NULL,
                    action TEXT NOT NULL,
                    token TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    session_id TEXT,
                    bind_id INTEGER,
                    hresult TEXT NOT NULL,
                    details TEXT NOT NULL
                );
                CREATE INDEX audit_time ON audit (time, id);
                CREATE INDEX audit_action ON audit (action, id);
                CREATE INDEX audit_token ON audit (token, id);
                CREATE INDEX audit_session ON audit (session_id, id) WHERE session_id IS NOT NULL;
                CREATE INDEX audit_bind ON audit (bind_id, id) WHERE bind_id IS NOT NULL;
                CREATE INDEX audit_hresult ON audit (hresult, id);
                """),
    ]

    /// Applies the migrations the database has not seen, each in its own transaction.
    static func migrate(_ connection: SQLiteConnection) throws(PersistenceError) {
        try connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        var applied = Set<String>()
        let query = try connection.prepare("SELECT name FROM schema_migrations")
        while try query.step() {
            if let name = query.text(0) { applied.insert(name) }
        }
        let known = Set(all.map(\.name))
        if let unknown = applied.subtracting(known).sorted().first {
            throw PersistenceError(
                "the database has migration '\(unknown)', which this build does not know: it was written by a newer fwsessiond")
        }
        for migration in all where !applied.contains(migration.name) {
            try connection.execute("BEGIN IMMEDIATE")
            do {
                try connection.execute(migration.sql)
                let record = try connection.prepare(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, unixepoch())")
                try record.run([.text(migration.name)])
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw PersistenceError("migration \(migration.name) failed: \(error.message)", resultCode: error.resultCode)
            }
        }
    }
}
