import FirewallPipeline
import FirewallSessions
import Logging
import Synchronization
import Testing

@testable import FirewallPersistence

#if canImport(Glibc)
import Glibc
#endif

/// The SQLite backend on real files in a temporary folder.
@Suite("SQLite backend")
struct SQLiteBackendTests {
    static func temporaryFolder() -> String {
        var template = Array("/tmp/fwsessiond-test-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: path!)
    }

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    static let now = Timestamp(seconds: 1_790_000_000.25)

    static func sampleChanges() -> [StateChange] {
        let session = Session(
            id: "ws17-1", clientAddress: IPAddress("10.1.2.3")!, clientType: .firewallClient, clientMachineName: "WS-17",
            user: SessionUser(name: "CONTOSO\\alice", groups: ["FTP \"Users\"", "Ünïcode"]), createdAt: now, sequence: 1,
            expiresAt: now.adding(600))
        guard case .success(let address) = SocketAddress.parse("[2001:db8::1]:5004"),
            case .success(let range) = IPRange.parse("198.51.100.0/24")
        else { fatalError("fixture") }
        let bind = Bind(
            id: BindID(rawValue: 2), sessionID: "ws17-1", transport: .udp, address: address, state: .allowed,
            grant: BindGrant(
                protocolGUID: BuiltInProtocols.sip.guid, flags: [.bidirectional, .increaseReceiveBuffer],
                ipFilter: .inline(IPRangeSet(ranges: [range])), allowedAt: now.adding(1), endsAt: now.adding(61),
                idleTimeoutSeconds: 30, lastActiveAt: now.adding(5)),
            createdAt: now, acceptedCount: 7, discardedCount: 3)
        let filter = StoredIPFilter(id: "f-3", ranges: IPRangeSet(ranges: [range]), createdAt: now, updatedAt: now, sequence: 3)
        let custom = ProtocolDefinition(
            guid: ProtocolGUID("c3b1f00d-0000-4000-8000-00000000abcd")!, name: "Game",
            primaryConnections: [PrimaryConnection(transport: .udp, ports: 27000...27015, direction: .sendReceive)])
        let rule = AccessRule(
            id: "r-4", name: "games", action: .allow, protocols: .allExcept([BuiltInProtocols.ftp.guid]),
            users: ["All Authenticated Users"], sourceAddresses: IPRangeSet(ranges: [range]))
        return [
            .sessionSaved(session), .bindSaved(bind), .filterSaved(filter), .protocolSaved(custom), .rulesReplaced([rule]),
            .metadataSaved(StateMetadata(policyVersion: 5, lastSequence: 4)),
        ]
    }

    @Test("what is committed comes back on the next open, field for field")
    func roundTrip() async throws {
        let folder = Self.temporaryFolder()
        let backend = try SQLiteBackend(directory: folder)
        #expect(try backend.load().sessions.isEmpty)
        try backend.apply(Self.sampleChanges())
        backend.close()

        let reopened = try SQLiteBackend(directory: folder)
        let state = try reopened.load()
        reopened.close()
        guard case .sessionSaved(let session) = Self.sampleChanges()[0], case .bindSaved(let bind) = Self.sampleChanges()[1],
            case .filterSaved(let filter) = Self.sampleChanges()[2], case .protocolSaved(let custom) = Self.sampleChanges()[3],
            case .rulesReplaced(let rules) = Self.sampleChanges()[4]
        else { fatalError("fixture") }
        #expect(state.sessions == [session])
        #expect(state.binds == [bind])
        #expect(state.filters == [filter])
        #expect(state.protocols == [custom])
        #expect(state.rules == rules)
        #expect(state.metadata == StateMetadata(policyVersion: 5, lastSequence: 4))
    }

    @Test("removals and counter updates are written")
    func removals() async throws {
        let folder = Self.temporaryFolder()
        let backend = try SQLiteBackend(directory: folder)
        _ = try backend.load()
        try backend.apply(Self.sampleChanges())
        try backend.apply([
            .bindCounters([BindCounters(bindID: BindID(rawValue: 2), accepted: 100, discarded: 200, lastActiveAt: Self.now.adding(9))]),
            .filterRemoved(id: "f-3"), .protocolRemoved(ProtocolGUID("c3b1f00d-0000-4000-8000-00000000abcd")!),
        ])
        backend.close()
        let state = try SQLiteBackend(directory: folder).load()
        #expect(state.filters.isEmpty && state.protocols.isEmpty)
        #expect(state.binds.first?.acceptedCount == 100 && state.binds.first?.discardedCount == 200)
        #expect(state.binds.first?.grant?.lastActiveAt == Self.now.adding(9), "the idle clock survives a restart")
    }

    @Test("a database of the first schema is migrated forward and keeps its rows; approvals there have no end")
    func migratesForward() async throws {
        let folder = Self.temporaryFolder()
        let connection = try SQLiteConnection(path: folder + "/" + SQLiteBackend.fileName)
        try connection.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        try connection.execute(Migration.all[0].sql)
        try connection.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 0)")
        try connection.execute("""
            INSERT INTO sessions (id, sequence, client_address, client_type, state, created_at) VALUES ('s1', 1, '10.1.2.3', 'securenat', 'active', 5);
            INSERT INTO binds (id, session_id, protocol, address, state, protocol_guid, flags, created_at, pending_since, allowed_at)
                VALUES (2, 's1', 'udp', '203.0.113.10:40000', 'allowed', '6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21', 0, 5, 5, 6);
            """)
        connection.close()
        let backend = try SQLiteBackend(directory: folder)
        let state = try backend.load()
        backend.close()
        #expect(state.sessions.map(\.id) == ["s1"] && state.sessions.first?.expiresAt == nil)
        let grant = try #require(state.binds.first?.grant)
        #expect(grant.endsAt == nil && grant.idleTimeoutSeconds == nil && grant.lastActiveAt == Timestamp(seconds: 6))
        let reopened = try SQLiteConnection(path: folder + "/" + SQLiteBackend.fileName)
        #expect(try reopened.scalarText("SELECT group_concat(name) FROM schema_migrations") == "0001_initial,0002_lifetimes,0003_audit")
        reopened.close()
    }

    @Test("a second backend on the same folder is refused with a clear message, told apart by SQLite's code")
    func exclusiveLock() async throws {
        let folder = Self.temporaryFolder()
        let first = try SQLiteBackend(directory: folder)
        #expect {
            _ = try SQLiteBackend(directory: folder)
        } throws: { error in
            guard let error = error as? PersistenceError, let code = error.resultCode else { return false }
            return error.message.contains("in use by another process") && SQLiteResultCode.SQLITE_BUSY ~= code
        }
        first.close()
    }

    @Test("errors keep SQLite's result code, extended where SQLite gave one")
    func resultCodes() throws {
        let folder = Self.temporaryFolder()
        let connection = try SQLiteConnection(path: folder + "/codes.sqlite3")
        try connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        try connection.execute("INSERT INTO t VALUES (1)")
        let syntax = #expect(throws: PersistenceError.self) { try connection.execute("SELEC 1") }
        #expect(syntax?.resultCode == .SQLITE_ERROR)
        let duplicate = #expect(throws: PersistenceError.self) { try connection.prepare("INSERT INTO t VALUES (1)").run([]) }
        // SQLITE_CONSTRAINT_PRIMARYKEY: the extended code, of the constraint class.
        #expect(duplicate?.resultCode == SQLiteResultCode(rawValue: 1555))
        #expect(duplicate.flatMap(\.resultCode).map { SQLiteResultCode.SQLITE_CONSTRAINT ~= $0 } == true)
        connection.close()
        let missing = #expect(throws: PersistenceError.self) { try SQLiteConnection(path: folder + "/no/such/folder/x.sqlite3") }
        #expect(missing.flatMap(\.resultCode).map { SQLiteResultCode.SQLITE_CANTOPEN ~= $0 } == true)
    }

    @Test("a primary code matches its extended codes; an extended code only itself", arguments: [
        (SQLiteResultCode.SQLITE_BUSY, SQLiteResultCode(rawValue: 517), true),  // SQLITE_BUSY_SNAPSHOT
        (.SQLITE_BUSY, .SQLITE_BUSY, true),
        (.SQLITE_BUSY, .SQLITE_LOCKED, false),
        (SQLiteResultCode(rawValue: 517), .SQLITE_BUSY, false),
        (SQLiteResultCode(rawValue: 517), SQLiteResultCode(rawValue: 517), true),
        (.SQLITE_IOERR, SQLiteResultCode(rawValue: 1034), true),  // SQLITE_IOERR_FSYNC
        (.SQLITE_FULL, SQLiteResultCode(rawValue: 1034), false),
    ])
    func matching(pattern: SQLiteResultCode, code: SQLiteResultCode, matches: Bool) {
        #expect((pattern ~= code) == matches)
    }

    @Test("migrations are named, recorded once, and a newer database is refused")
    func migrations() async throws {
        let folder = Self.temporaryFolder()
        let backend = try SQLiteBackend(directory: folder)
        backend.close()
        let connection = try SQLiteConnection(path: folder + "/" + SQLiteBackend.fileName)
        #expect(try connection.scalarText("SELECT group_concat(name) FROM schema_migrations") == "0001_initial,0002_lifetimes,0003_audit")
        try connection.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_from_the_future', 0)")
        connection.close()
        #expect {
            _ = try SQLiteBackend(directory: folder)
        } throws: { error in
            (error as? PersistenceError)?.message.contains("9999_from_the_future") == true
        }
    }

    /// Counts the store's batches.
    final class CommitCounter: ChangeListener {
        let commits = Atomic<Int>(0)
        func published(_ events: [DomainEvent]) {}
        func applied(sink: String, duration: Duration, changes: Int) { commits.add(1, ordering: .relaxed) }
    }

    @Test("changes queued while a commit syncs share the next commit (group commit)")
    func groupCommit() async throws {
        let folder = Self.temporaryFolder()
        let counter = CommitCounter()
        let backend = try SQLiteBackend(directory: folder)
        _ = try backend.load()
        let pipeline = ChangePipeline(sinks: [backend], listener: counter, logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        let writers = 400
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writers {
                group.addTask {
                    let session = Session(
                        id: "s\(index)", clientAddress: IPAddress(v4: UInt32(index)), clientType: .secureNAT,
                        clientMachineName: nil, user: nil, createdAt: Self.now, sequence: UInt64(index + 1))
                    try await pipeline.waitApplied(pipeline.enqueue([.sessionSaved(session)], events: []))
                }
            }
            try await group.waitForAll()
        }
        await pipeline.close()
        #expect(try SQLiteBackend(directory: folder).load().sessions.count == writers)
        let commits = counter.commits.load(ordering: .relaxed)
        #expect(commits < writers, "\(commits) commits for \(writers) writes")
    }
}
