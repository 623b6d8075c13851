import FirewallPipeline
import FirewallSessions
import Testing

@testable import FirewallPersistence

/// The array's audit table: records written in the node's fenced batch, once, and read back.
@Suite("PostgreSQL audit trail")
struct PostgreSQLAuditTests {
    static func record(_ action: String, session: String) -> AuditRecord {
        AuditRecord(
            key: UInt64.random(in: 1...UInt64.max), time: ArrayFixtures.now, action: action, token: "helper", requestID: "r-1",
            sessionID: session, bindID: BindID(rawValue: 5), hresult: "S_OK", details: [AuditDetail("flags", .strings([]))])
    }

    @Test("a failing batch writes no record; a batch written again writes its record once; the reader sees it with its node")
    func batches() async throws {
        let url = try ThrowawayPostgres.database()
        let backend = try PostgreSQLBackend(settings: ArrayFixtures.settings(url))
        defer { backend.finish() }
        try ArrayFixtures.execute(url, """
            INSERT INTO sessions (id, shard, revision, sequence, client_address, client_type, state, created_at)
            VALUES ('foreign', 'b', 1, 9, '10.9.9.9', 'firewall-client', 'active', 0)
            """)
        #expect(throws: SinkError.self) {
            try backend.apply([
                .sessionSaved(ArrayFixtures.session("mine", sequence: 2)), .auditRecorded(Self.record("session.create", session: "mine")),
                .sessionSaved(ArrayFixtures.session("foreign", sequence: 3)),
            ])
        }
        #expect(try ArrayFixtures.scalar(url, "SELECT count(*) FROM audit") == "0")

        let batch: [StateChange] = [
            .sessionSaved(ArrayFixtures.session("ok", sequence: 4)), .auditRecorded(Self.record("session.create", session: "ok")),
        ]
        try backend.apply(batch)
        // As after a COMMIT whose answer was lost: the same batch again.
        try backend.apply(batch)
        #expect(try ArrayFixtures.scalar(url, "SELECT count(*) FROM audit") == "1")

        let trail = PGAuditTrail(settings: ArrayFixtures.settings(url), retention: AuditRetention())
        defer { trail.close() }
        let page = try await trail.records(AuditQuery(sessionID: "ok"))
        #expect(page.items.count == 1)
        guard case .auditRecorded(var expected) = batch[1] else { return }
        expected.id = page.items.first?.id ?? 0
        expected.node = "a"
        #expect(page.items.first == expected)
        #expect(try await trail.records(AuditQuery(token: "nobody")).items.isEmpty)
    }
}
