import FirewallPipeline
import FirewallSessions
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import FirewallPersistence

/// Fixtures of the PostgreSQL tests: a node's settings on a fresh database, rows, and a
/// connection of the test's own to look at (or tamper with) what the node wrote.
enum ArrayFixtures {
    static let now = Timestamp(seconds: 1_790_000_000.25)

    static func settings(_ url: String, node: String = "a", leaseSeconds: Double = 3) -> PostgreSQLArraySettings {
        var settings = PostgreSQLArraySettings(url: url, nodeID: node, advertiseURL: "http://\(node).invalid")
        settings.leaseSeconds = leaseSeconds
        return settings
    }

    static func session(_ id: String, sequence: UInt64 = 1) -> Session {
        Session(id: id, clientAddress: IPAddress("10.1.2.3")!, clientType: .firewallClient, clientMachineName: nil, user: nil, createdAt: now, sequence: sequence)
    }

    static func bind(_ id: UInt64, session: String, port: Int = 5004) -> Bind {
        guard case .success(let address) = SocketAddress.parse("203.0.113.9:\(port)") else { fatalError("fixture") }
        return Bind(id: BindID(rawValue: id), sessionID: session, transport: .udp, address: address, state: .pending, createdAt: now)
    }

    /// Runs SQL (several statements allowed) on a connection of the test's own.
    static func execute(_ url: String, _ sql: String) throws {
        let connection = try PGConnection(url: url, role: "fwsessiond-test")
        defer { connection.close() }
        try connection.execute(sql)
    }

    static func scalar(_ url: String, _ sql: String, _ parameters: [String?] = []) throws -> String? {
        let connection = try PGConnection(url: url, role: "fwsessiond-test")
        defer { connection.close() }
        return try connection.query(sql, parameters).scalar
    }
}

/// The store sink of an array node against a throwaway PostgreSQL.
@Suite("PostgreSQL backend")
struct PostgreSQLBackendTests {
    @Test("a batch with a row under another node's shard fails before its COMMIT: nothing of it is written")
    func foreignRowFailsTheWholeBatch() throws {
        let url = try ThrowawayPostgres.database()
        let backend = try PostgreSQLBackend(settings: ArrayFixtures.settings(url))
        defer { backend.finish() }
        try backend.apply([.sessionSaved(ArrayFixtures.session("before"))])
        try ArrayFixtures.execute(url, """
            INSERT INTO sessions (id, shard, revision, sequence, client_address, client_type, state, created_at)
            VALUES ('foreign', 'b', 1, 9, '10.9.9.9', 'firewall-client', 'active', 0)
            """)
        let error = #expect(throws: SinkError.self) {
            try backend.apply([.sessionSaved(ArrayFixtures.session("mine", sequence: 2)), .sessionSaved(ArrayFixtures.session("foreign", sequence: 3))])
        }
        #expect(error?.message.contains("nothing of the batch was written") == true)
        #expect(try ArrayFixtures.scalar(url, "SELECT count(*) FROM sessions WHERE id = 'mine'") == "0")
        #expect(try ArrayFixtures.scalar(url, "SELECT shard FROM sessions WHERE id = 'foreign'") == "b")
        // The connection is fine afterwards: the next batch lands.
        try backend.apply([.sessionSaved(ArrayFixtures.session("after", sequence: 4))])
        #expect(try ArrayFixtures.scalar(url, "SELECT count(*) FROM sessions WHERE id IN ('before', 'after')") == "2")
    }

    @Test("the lease is renewed from the moment the shard is taken, before the pipeline runs, and the store thread takes over")
    func leaseKeptDuringStartup() throws {
        let url = try ThrowawayPostgres.database()
        let backend = try PostgreSQLBackend(settings: ArrayFixtures.settings(url, leaseSeconds: 1))
        // Loading, building the state and loading the data plane: longer than a lease.
        _ = try backend.load()
        usleep(2_500_000)
        #expect(try ArrayFixtures.scalar(url, "SELECT lease_expires_at > clock_timestamp() FROM shards WHERE id = 'a'") == "t")
        try backend.start(from: PersistedState())
        let keepers = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fwsessiond-lease-a' AND datname = current_database()"
        #expect(try ArrayFixtures.scalar(url, keepers) == "0")
        backend.finish()
    }

    @Test("a batch that outlasts the lease commits with the lease renewed (the renewal is its last statement)")
    func longBatchCommitsWithALease() throws {
        let url = try ThrowawayPostgres.database()
        let backend = try PostgreSQLBackend(settings: ArrayFixtures.settings(url, leaseSeconds: 1))
        try backend.start(from: PersistedState())
        defer { backend.finish() }
        try ArrayFixtures.execute(url, """
            CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1.5); RETURN NEW; END $$;
            CREATE TRIGGER slow_insert BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION slow_insert();
            """)
        try backend.apply([.sessionSaved(ArrayFixtures.session("slow"))])
        #expect(try ArrayFixtures.scalar(url, "SELECT lease_expires_at > clock_timestamp() FROM shards WHERE id = 'a'") == "t")
    }

    @Test("adopted rows (already stored by the adoption) make no statement of a batch")
    func alreadyStoredIsSkipped() {
        let adopted: [StateChange] = [.sessionSaved(ArrayFixtures.session("adopted")), .bindSaved(ArrayFixtures.bind(5, session: "adopted"))]
        #expect(BatchStatements([.alreadyStored(adopted)], shard: "a").isEmpty)
        #expect(!BatchStatements([.alreadyStored(adopted), .bindRemoved(BindID(rawValue: 5))], shard: "a").isEmpty)
    }

    @Test("a database not in UTF8 is refused before anything is written, with a message saying so")
    func nonUTF8DatabaseRefused() throws {
        let server = try ThrowawayPostgres.shared.get()
        let name = "latin1_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try server.admin { connection throws(PostgreSQLError) in
            try connection.execute("CREATE DATABASE \(name) ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        }
        let url = server.url(name)
        let error = #expect(throws: PersistenceError.self) { try PostgreSQLBackend(settings: ArrayFixtures.settings(url)) }
        #expect(error?.message.contains("needs a UTF8 database") == true, "\(String(describing: error))")
        #expect(try ArrayFixtures.scalar(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'shards'") == "0")
    }

    @Test("once fenced, the store writes nothing and lets only the batch that hands the binds over through")
    func fencedStorePassesTheHandOver() throws {
        let url = try ThrowawayPostgres.database()
        let backend = try PostgreSQLBackend(settings: ArrayFixtures.settings(url))
        try backend.start(from: PersistedState())
        defer { backend.finish() }
        backend.standing.fence("fenced: node 'b' adopted this node's sessions and binds")
        let late: [StateChange] = [.sessionSaved(ArrayFixtures.session("late")), .bindSaved(ArrayFixtures.bind(9, session: "late"))]
        #expect(throws: SinkError.self) { try backend.apply(late) }
        try backend.apply(late + [.bindsHandedOver([BindID(rawValue: 9)])])
        #expect(try ArrayFixtures.scalar(url, "SELECT count(*) FROM sessions") == "0")
    }
}
