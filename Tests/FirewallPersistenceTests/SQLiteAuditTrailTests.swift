import FirewallPipeline
import FirewallSessions
import Synchronization
import Testing

@testable import FirewallPersistence

/// The audit trail in SQLite: written in the batch's transaction, queried with filters and pages,
/// pruned by age and by count.
@Suite("SQLite audit trail")
struct SQLiteAuditTrailTests {
    static let now = Timestamp(seconds: 1_790_000_000)

    static func record(
        _ action: String, at time: Timestamp = now, token: String = "admin", session: String? = nil, bind: UInt64? = nil,
        hresult: String = "S_OK"
    ) -> AuditRecord {
        AuditRecord(
            key: UInt64.random(in: 1...UInt64.max), time: time, action: action, token: token, requestID: "req-\(action)",
            sessionID: session, bindID: bind.map(BindID.init(rawValue:)), hresult: hresult,
            details: [AuditDetail("policyVersion", .integer(4)), AuditDetail("flags", .strings(["bidirectional"])),
                      AuditDetail("ipFilterId", .string("f-\"3\""))])
    }

    static func count(_ backend: SQLiteBackend) throws -> Int64 {
        try backend.withConnection { connection throws(PersistenceError) in
            let statement = try connection.prepare("SELECT count(*) FROM audit")
            _ = try statement.step()
            return statement.int64(0)
        }
    }

    static func trail(_ backend: SQLiteBackend, _ retention: AuditRetention = AuditRetention(), now: Timestamp = now) -> SQLiteAuditTrail {
        SQLiteAuditTrail(backend: backend, retention: retention, clock: { now })
    }

    @Test("a batch that fails leaves neither its changes nor their audit records")
    func sameTransaction() async throws {
        let backend = try SQLiteBackend(directory: SQLiteBackendTests.temporaryFolder())
        defer { backend.close() }
        let session = Session(
            id: "a", clientAddress: IPAddress("10.0.0.1")!, clientType: .firewallClient, clientMachineName: nil, user: nil,
            createdAt: Self.now, sequence: 1)
        try backend.apply([.sessionSaved(session), .auditRecorded(Self.record("session.create", session: "a"))])
        #expect(try Self.count(backend) == 1)
        // The next batch fails at its last statement, after its session and record were written.
        try backend.withConnection { connection throws(PersistenceError) in try connection.execute("DROP TABLE protocols") }
        var second = session
        second.id = "b"
        let custom = ProtocolDefinition(
            guid: ProtocolGUID("c3b1f00d-0000-4000-8000-00000000abcd")!, name: "Game",
            primaryConnections: [PrimaryConnection(transport: .udp, ports: 27000...27015, direction: .sendReceive)])
        #expect(throws: SinkError.self) {
            try backend.apply([
                .sessionSaved(second), .auditRecorded(Self.record("session.create", session: "b")), .protocolSaved(custom),
            ])
        }
        #expect(try Self.count(backend) == 1, "the failed batch's record was rolled back with it")
        let sessions = try backend.withConnection { connection throws(PersistenceError) in
            try connection.scalarText("SELECT group_concat(id) FROM sessions")
        }
        #expect(sessions == "a", "and so was its change")
        let page = try await Self.trail(backend).records(AuditQuery())
        #expect(page.items.map(\.sessionID) == ["a"])
    }

    @Test("records come back field for field, filtered, a page at a time in id order")
    func filtersAndPaging() async throws {
        let backend = try SQLiteBackend(directory: SQLiteBackendTests.temporaryFolder())
        defer { backend.close() }
        let written = [
            Self.record("rule.create", at: Self.now.adding(1)),
            Self.record("session.create", at: Self.now.adding(2), token: "helper", session: "s-1"),
            Self.record("bind.create", at: Self.now.adding(3), token: "helper", session: "s-1", bind: 7),
            Self.record("retroactive-allow-bind", at: Self.now.adding(4), token: "helper", session: "s-1", bind: 7),
            Self.record("session.create", at: Self.now.adding(5), token: "helper", session: "s-2", hresult: "S_FALSE"),
        ]
        try backend.apply(written.map { .auditRecorded($0) })
        let trail = Self.trail(backend)
        let all = try await trail.records(AuditQuery())
        #expect(all.nextCursor == nil)
        #expect(all.items.map(\.id) == [1, 2, 3, 4, 5])
        for (read, original) in zip(all.items, written) {
            var expected = original
            expected.id = read.id
            #expect(read == expected)
        }
        func actions(_ query: AuditQuery) async throws -> [String] { try await trail.records(query).items.map(\.action) }
        #expect(try await actions(AuditQuery(action: "session.create")) == ["session.create", "session.create"])
        #expect(try await actions(AuditQuery(token: "admin")) == ["rule.create"])
        #expect(try await actions(AuditQuery(sessionID: "s-1")) == ["session.create", "bind.create", "retroactive-allow-bind"])
        #expect(try await actions(AuditQuery(bindID: BindID(rawValue: 7))) == ["bind.create", "retroactive-allow-bind"])
        #expect(try await actions(AuditQuery(hresult: "S_FALSE")) == ["session.create"])
        #expect(try await actions(AuditQuery(since: Self.now.adding(3), until: Self.now.adding(5))) == ["bind.create", "retroactive-allow-bind"])
        #expect(try await actions(AuditQuery(token: "helper", sessionID: "s-2")) == ["session.create"])

        var query = AuditQuery(token: "helper", page: PageRequest(limit: 3))
        let first = try await trail.records(query)
        #expect(first.items.map(\.id) == [2, 3, 4])
        #expect(first.nextCursor == "4")
        query.page.after = PageRequest.parseCursor(first.nextCursor ?? "")
        let second = try await trail.records(query)
        #expect(second.items.map(\.id) == [5])
        #expect(second.nextCursor == nil)
        trail.close()
    }

    @Test("pruning deletes records older than the retention, and the oldest beyond the count, in chunks")
    func pruning() async throws {
        let backend = try SQLiteBackend(directory: SQLiteBackendTests.temporaryFolder())
        defer { backend.close() }
        let day = 86_400.0
        let old = (0..<3).map { Self.record("old-\($0)", at: Self.now.adding(-8 * day + Double($0))) }
        let recent = (0..<12_000).map { Self.record("recent", at: Self.now.adding(-day + Double($0) / 1000)) }
        try backend.apply((old + recent).map { .auditRecorded($0) })
        let byAge = Self.trail(backend, AuditRetention(maxAgeSeconds: 7 * day, maxRecords: 1_000_000))
        #expect(try byAge.pruneNow() == 3)
        #expect(try Self.count(backend) == 12_000)
        #expect(try await byAge.records(AuditQuery(action: "old-0")).items.isEmpty)
        #expect(try byAge.pruneNow() == 0, "nothing more to prune")

        let byCount = Self.trail(backend, AuditRetention(maxAgeSeconds: 7 * day, maxRecords: 1_000))
        #expect(try byCount.pruneNow() == 11_000, "three chunks of at most 5,000 rows")
        #expect(try Self.count(backend) == 1_000)
        let kept = try await byCount.records(AuditQuery(page: PageRequest(limit: 1)))
        #expect(kept.items.first?.id == 3 + 11_000 + 1, "the oldest went first")
        byAge.close()
        byCount.close()
    }
}
