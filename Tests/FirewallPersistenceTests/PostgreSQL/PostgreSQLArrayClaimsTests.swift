import FirewallSessions
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import FirewallPersistence

/// Claims of session ids and addresses against a throwaway PostgreSQL.
@Suite("PostgreSQL array claims")
struct PostgreSQLArrayClaimsTests {
    /// Node `a` joined (schema, shard at epoch 1), its store connection closed again.
    static func joined(_ url: String) throws -> (settings: PostgreSQLArraySettings, standing: ArrayStanding) {
        let settings = ArrayFixtures.settings(url)
        let backend = try PostgreSQLBackend(settings: settings)
        backend.finish()
        return (settings, backend.standing)
    }

    @Test(
        "a claim racing an adoption of its shard waits for it and is refused: no claim is left under the retired shard",
        arguments: ["session", "address"])
    func claimRacingAdoption(kind: String) async throws {
        let url = try ThrowawayPostgres.database()
        let (settings, standing) = try Self.joined(url)
        let client = PostgreSQLArrayClient(settings: settings, standing: standing)
        defer { client.close() }
        // An adopter in the middle of its transaction: the shard retired, its claims moved.
        let adopter = try PGConnection(url: url, role: "fwsessiond-test-adopter")
        defer { adopter.close() }
        try adopter.pipeline([
            PGStatement("BEGIN"),
            PGStatement("SELECT 1 FROM shards WHERE id = 'a' FOR UPDATE"),
            PGStatement("UPDATE shards SET holder = NULL, epoch = epoch + 1, adopted_by = 'b' WHERE id = 'a'"),
            PGStatement("UPDATE session_claims SET shard = 'b' WHERE shard = 'a'"),
            PGStatement("UPDATE address_claims SET shard = 'b' WHERE shard = 'a'"),
        ])
        let finished = Atomic<Bool>(false)
        let claim = Task {
            defer { finished.store(true, ordering: .relaxed) }
            if kind == "session" { return try await client.claimSession("raced") }
            guard case .success(let address) = SocketAddress.parse("203.0.113.9:5004") else { return "?" }
            return try await client.claimAddress(.udp, address, bindID: BindID(rawValue: 7), sessionID: "raced").map { "\($0.bindID)" }
        }
        // Commit once the claim either finished or waits for the adopter's lock.
        let watcher = try PGConnection(url: url, role: "fwsessiond-test-watcher")
        defer { watcher.close() }
        let deadline = ArraySQL.monotonicSeconds() + 20
        while !finished.load(ordering: .relaxed), ArraySQL.monotonicSeconds() < deadline {
            let waiting = try watcher.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fwsessiond-claims-a' AND wait_event_type = 'Lock' AND datname = current_database()").scalar
            if waiting == "1" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try adopter.execute("COMMIT")
        let outcome = await claim.result
        #expect(try ArrayFixtures.scalar(url, "SELECT count(*) FROM session_claims WHERE shard = 'a'") == "0")
        #expect(try ArrayFixtures.scalar(url, "SELECT count(*) FROM address_claims WHERE shard = 'a'") == "0")
        switch outcome {
        case .success(let holder): Issue.record("the claim was granted (holder \(holder ?? "none")) under a shard adopted meanwhile")
        case .failure(let error): #expect((error as? PostgreSQLError)?.isFenced == true, "\(error)")
        }
    }

    @Test("a node taking its shard back removes the shard's claims whose session or bind was never written, and keeps the rest")
    func orphanClaimsGoWhenTheShardIsTaken() throws {
        let url = try ThrowawayPostgres.database()
        let settings = ArrayFixtures.settings(url)
        let first = try PostgreSQLBackend(settings: settings)
        try first.apply([.sessionSaved(ArrayFixtures.session("kept")), .bindSaved(ArrayFixtures.bind(1, session: "kept", port: 5001))])
        first.finish()
        let connection = try PGConnection(url: url, role: "fwsessiond-test")
        defer { connection.close() }
        // Claims committed before a kill -9, their batch not: 'ghost' and bind 2 have no row.
        try connection.execute("""
            INSERT INTO session_claims (id, shard) VALUES ('kept', 'a'), ('ghost', 'a'), ('elsewhere', 'b');
            INSERT INTO address_claims (protocol, family, port, address, wildcard, bind_id, session_id, shard) VALUES
                ('udp', 4, 5001, '203.0.113.9', false, 1, 'kept', 'a'),
                ('udp', 4, 5002, '0.0.0.0', true, 2, 'ghost', 'a'),
                ('udp', 4, 5003, '203.0.113.9', false, 3, 'elsewhere', 'b');
            UPDATE shards SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE id = 'a';
            """)
        let restarted = try PostgreSQLBackend(settings: settings)
        restarted.finish()
        #expect(try connection.query("SELECT string_agg(id, ',' ORDER BY id) FROM session_claims").scalar == "elsewhere,kept")
        #expect(try connection.query("SELECT string_agg(bind_id::text, ',' ORDER BY bind_id) FROM address_claims").scalar == "1,3")
    }
}
