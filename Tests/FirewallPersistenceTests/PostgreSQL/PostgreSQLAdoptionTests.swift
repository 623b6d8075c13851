import FirewallPipeline
import FirewallSessions
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import FirewallPersistence

/// Adoption of a shard whose lease ran out, against a throwaway PostgreSQL.
@Suite("PostgreSQL adoption")
struct PostgreSQLAdoptionTests {
    /// Node `a` wrote a session and a bind, then died: its lease has run out.
    static func deadNode(_ url: String) throws {
        let dead = try PostgreSQLBackend(settings: ArrayFixtures.settings(url, node: "a", leaseSeconds: 1))
        try dead.start(from: PersistedState())
        try dead.apply([.sessionSaved(ArrayFixtures.session("dead-1")), .bindSaved(ArrayFixtures.bind(1, session: "dead-1"))])
        dead.finish()
        try ArrayFixtures.execute(url, "UPDATE shards SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE id = 'a'")
    }

    /// Runs an adoption on a thread of its own (it blocks), as the monitor does.
    static func adoptInBackground(_ settings: PostgreSQLArraySettings, epoch: Int64) -> BackgroundJob<ArraySQL.AdoptionOutcome?> {
        BackgroundJob { () throws(PostgreSQLError) in
            let connection = try settings.connect("monitor")
            defer { connection.close() }
            return try ArraySQL.adoptExpired(connection, settings, epoch: epoch, blockSize: 100)
        }
    }

    @Test("a slow adoption (longer than two leases) completes while the adopter's own store goes on writing and renewing its lease")
    func slowAdoptionDoesNotStallTheAdopter() throws {
        let url = try ThrowawayPostgres.database()
        try Self.deadNode(url)
        let settings = ArrayFixtures.settings(url, node: "b", leaseSeconds: 1)
        let adopter = try PostgreSQLBackend(settings: settings)
        try adopter.start(from: PersistedState())
        defer { adopter.finish() }
        // Moving each row of the dead shard takes 2.5 s (more than statement_timeout, two leases).
        try ArrayFixtures.execute(url, """
            CREATE FUNCTION slow_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2.5); RETURN NEW; END $$;
            CREATE TRIGGER slow_move BEFORE UPDATE ON sessions FOR EACH ROW WHEN (OLD.shard <> NEW.shard) EXECUTE FUNCTION slow_move();
            """)
        let started = ArraySQL.monotonicSeconds()
        let adoption = Self.adoptInBackground(settings, epoch: adopter.standing.epoch)
        usleep(500_000)
        // Meanwhile the adopter's store writes a batch (fenced, lease renewed) without waiting.
        let before = ArraySQL.monotonicSeconds()
        try adopter.apply([.sessionSaved(ArrayFixtures.session("live", sequence: 2))])
        let batchSeconds = ArraySQL.monotonicSeconds() - before
        #expect(batchSeconds < 1, "the batch waited \(batchSeconds) s for the adoption")
        // The store thread renews the lease every third of it, as the pipeline has it do.
        while !adoption.isDone {
            adopter.maintain()
            #expect(adopter.standing.failure == nil)
            usleep(300_000)
        }
        let outcome = adoption.wait()
        guard case .success(.committed(let adoption)) = outcome else {
            Issue.record("the adoption did not commit: \(String(describing: outcome))")
            return
        }
        #expect(ArraySQL.monotonicSeconds() - started > 2.5)
        #expect(adoption.shard == "a" && adoption.rows.sessions.map(\.id) == ["dead-1"] && adoption.rows.binds.map(\.id.rawValue) == [1])
        #expect(try ArrayFixtures.scalar(url, "SELECT shard || ' ' || revision FROM sessions WHERE id = 'dead-1'") == "b 0")
        #expect(try ArrayFixtures.scalar(url, "SELECT holder IS NULL AND adopted_by = 'b' FROM shards WHERE id = 'a'") == "t")
        #expect(try ArrayFixtures.scalar(url, "SELECT lease_expires_at > clock_timestamp() FROM shards WHERE id = 'b'") == "t")
    }

    @Test("a fenced node adopts nothing")
    func fencedNodeAdoptsNothing() throws {
        let url = try ThrowawayPostgres.database()
        try Self.deadNode(url)
        let settings = ArrayFixtures.settings(url, node: "b", leaseSeconds: 1)
        let adopter = try PostgreSQLBackend(settings: settings)
        adopter.finish()
        let connection = try settings.connect("monitor")
        defer { connection.close() }
        let error = #expect(throws: PostgreSQLError.self) {
            try ArraySQL.adoptExpired(connection, settings, epoch: adopter.standing.epoch - 1, blockSize: 100)
        }
        #expect(error?.isFenced == true)
        #expect(try ArrayFixtures.scalar(url, "SELECT holder FROM shards WHERE id = 'a'") == "a")
    }
}

/// A blocking job on a thread of its own, and its result once it ends.
final class BackgroundJob<T: Sendable>: @unchecked Sendable {
    // @unchecked: `result` is written once by the job's thread and read after, both under `lock`.
    private let lock = ConditionLock()
    private var result: Result<T, PostgreSQLError>?

    init(_ body: @escaping @Sendable () throws(PostgreSQLError) -> T) {
        startThread { [self] in
            let outcome = Result { () throws(PostgreSQLError) -> T in try body() }
            lock.withLock {
                result = outcome
                lock.broadcast()
            }
        }
    }

    /// Whether the job has ended.
    var isDone: Bool { lock.withLock { result != nil } }

    /// Waits for the job to end.
    func wait() -> Result<T, PostgreSQLError> {
        lock.withLock {
            while result == nil { lock.wait() }
            return result!
        }
    }
}
