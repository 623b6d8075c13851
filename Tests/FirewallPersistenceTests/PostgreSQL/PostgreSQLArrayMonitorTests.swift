import FirewallPipeline
import FirewallSessions
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import FirewallPersistence

/// The array monitor's mirrors of other nodes' shards, against a throwaway PostgreSQL.
@Suite("PostgreSQL array monitor")
struct PostgreSQLArrayMonitorTests {
    /// What the monitor hands to the node: here, only which session ids each mirrored shard holds.
    final class MirrorRecorder: ArrayMonitorDelegate {
        let shards = Mutex<[String: Set<String>]>([:])

        var appliedPolicyRevision: Int64 { .max }
        func policyChanged(_ policy: SharedPolicy) {}
        func membersChanged(_ members: [ArrayMember]) {}
        func mirror(shard: String, rows: ShardRows, replacing: Bool) {
            shards.withLock { shards in
                let arriving = Set(rows.sessions.map(\.id))
                // A session read under another shard moved there (as ArrayView has it).
                for other in shards.keys where other != shard { shards[other]?.subtract(arriving) }
                var held = replacing ? [] : shards[shard] ?? []
                held.subtract(rows.removedSessions)
                held.formUnion(arriving)
                shards[shard] = held
            }
        }
        func forgetShard(_ shard: String) { _ = shards.withLock { $0.removeValue(forKey: shard) } }
        var needsSequenceBlock: Bool { false }
        func addSequenceBlock(_ block: Range<UInt64>) {}
        func adopted(shard: String, from holder: String, rows: ShardRows, block: Range<UInt64>) {}
        func fenced(_ reason: String) {}

        /// Every mirrored session id and the shard it is mirrored under.
        var sessions: [String: String] {
            shards.withLock { shards in
                var all: [String: String] = [:]
                for (shard, ids) in shards { for id in ids { all[id] = shard } }
                return all
            }
        }
    }

    /// A database where node `m` (the monitor's) and live nodes `d` and `x` hold their shards.
    static func array() throws -> (url: String, standing: ArrayStanding) {
        let url = try ThrowawayPostgres.database()
        let own = try PostgreSQLBackend(settings: ArrayFixtures.settings(url, node: "m"))
        own.finish()
        try ArrayFixtures.execute(url, """
            INSERT INTO shards (id, holder, epoch, lease_expires_at, revision, advertise_url, schema_version)
            VALUES ('d', 'd', 1, clock_timestamp() + interval '1 hour', 1, 'http://d.invalid', \(PGMigrations.version)),
                   ('x', 'x', 1, clock_timestamp() + interval '1 hour', 1, 'http://x.invalid', \(PGMigrations.version));
            INSERT INTO sessions (id, shard, revision, sequence, client_address, client_type, state, created_at)
            VALUES ('ghost', 'd', 1, 1, '10.1.1.1', 'firewall-client', 'active', 0),
                   ('keep', 'd', 1, 2, '10.1.1.2', 'firewall-client', 'active', 0),
                   ('own-x', 'x', 1, 3, '10.1.1.3', 'firewall-client', 'active', 0);
            """)
        return (url, own.standing)
    }

    /// That array with the monitor of `m` running, once it mirrors `d` and `x`.
    static func mirroring() throws -> (url: String, standing: ArrayStanding, recorder: MirrorRecorder, monitor: PostgreSQLArrayMonitor) {
        let (url, standing) = try array()
        let recorder = MirrorRecorder()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let monitor = PostgreSQLArrayMonitor(settings: ArrayFixtures.settings(url, node: "m"), standing: standing, delegate: recorder, logger: logger)
        monitor.start()
        #expect(waitUntil { recorder.sessions == ["ghost": "d", "keep": "d", "own-x": "x"] }, "\(recorder.sessions)")
        return (url, standing, recorder, monitor)
    }

    static func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = ArraySQL.monotonicSeconds() + seconds
        while !condition() {
            guard ArraySQL.monotonicSeconds() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }

    @Test("a shard adopted while the monitor was disconnected leaves nothing stale in the mirror")
    func adoptedWhileDisconnected() throws {
        let (url, _, recorder, monitor) = try Self.mirroring()
        defer { monitor.stop() }
        // One transaction: the monitor's connection is cut, x adopts d, then deletes 'ghost' (it
        // commits long before the monitor reconnects).
        try ArrayFixtures.execute(url, """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE application_name = 'fwsessiond-monitor-m' AND datname = current_database();
            UPDATE shards SET holder = NULL, epoch = epoch + 1, adopted_by = 'x', lease_expires_at = NULL WHERE id = 'd';
            UPDATE sessions SET shard = 'x', revision = 0 WHERE shard = 'd';
            DELETE FROM sessions WHERE id = 'ghost';
            """)
        #expect(Self.waitUntil { recorder.sessions == ["keep": "x", "own-x": "x"] }, "\(recorder.sessions)")
    }

    @Test("a shard adopted and taken back by its restarted node between two polls is read again, and so is every shard")
    func adoptedAndRetakenBetweenPolls() throws {
        let (url, _, recorder, monitor) = try Self.mirroring()
        defer { monitor.stop() }
        // One transaction, so no poll sees a step of it: x adopts d and deletes 'ghost', d restarts
        // (epoch + 2, holder d again, adopted_by cleared); no revision moves.
        try ArrayFixtures.execute(url, """
            UPDATE shards SET epoch = epoch + 2, adopted_by = NULL WHERE id = 'd';
            UPDATE sessions SET shard = 'x', revision = 0 WHERE shard = 'd';
            DELETE FROM sessions WHERE id = 'ghost';
            """)
        #expect(Self.waitUntil { recorder.sessions == ["keep": "x", "own-x": "x"] }, "\(recorder.sessions)")
    }

    @Test("a shard adopted while connected: the adopter is read again whole (adopted rows carry revision 0)")
    func adoptedWhileConnected() throws {
        let (url, _, recorder, monitor) = try Self.mirroring()
        defer { monitor.stop() }
        try ArrayFixtures.execute(url, """
            UPDATE shards SET holder = NULL, epoch = epoch + 1, adopted_by = 'x', lease_expires_at = NULL WHERE id = 'd';
            UPDATE sessions SET shard = 'x', revision = 0 WHERE shard = 'd';
            """)
        #expect(Self.waitUntil { recorder.sessions == ["ghost": "x", "keep": "x", "own-x": "x"] }, "\(recorder.sessions)")
    }

    @Test("when this node's own shard is adopted, the mirror of the adopter shows what was this node's")
    func ownShardAdopted() throws {
        let (url, standing, recorder, monitor) = try Self.mirroring()
        defer { monitor.stop() }
        try ArrayFixtures.execute(url, """
            INSERT INTO sessions (id, shard, revision, sequence, client_address, client_type, state, created_at)
            VALUES ('was-mine', 'x', 0, 9, '10.1.1.9', 'firewall-client', 'active', 0);
            UPDATE shards SET holder = NULL, epoch = epoch + 1, adopted_by = 'x', lease_expires_at = NULL WHERE id = 'm';
            """)
        #expect(Self.waitUntil { recorder.sessions["was-mine"] == "x" }, "\(recorder.sessions)")
        #expect(standing.isFenced)
    }
}
