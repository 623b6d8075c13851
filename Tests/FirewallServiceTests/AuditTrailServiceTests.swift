import FirewallPersistence
import FirewallPipeline
import FirewallSessions
import Testing

@testable import FirewallService

/// The service records what changed, with who asked, in the store's audit trail.
@Suite("Audit trail (service)")
struct AuditTrailServiceTests {
    static let admin = AuditContext(token: "admin-client", requestID: "r-1")
    static let helper = AuditContext(token: "ftp-helper", requestID: "r-2")

    static func service(_ folder: String) async throws -> (FirewallService, SQLiteBackend) {
        let store = try SQLiteBackend(directory: folder)
        let service = FirewallService(
            restoring: try store.load(), sinks: [store], logger: FirewallServiceTests.logger,
            auditTrail: store.auditTrail(retention: AuditRetention()))
        try await service.start()
        return (service, store)
    }

    @Test("changes are recorded with their context; a re-approval (S_FALSE) and a refused change are not")
    func recorded() async throws {
        let (service, _) = try await Self.service(FirewallServiceTests.temporaryFolder())
        let (rule, version) = try await service.createRule(
            RuleSpec(name: "ftp", action: .allow, protocols: .only([BuiltInProtocols.ftp.guid]), users: [AccessRule.allUsers]),
            ifMatch: nil, by: Self.admin)
        _ = try await service.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!), by: Self.helper)
        let bind = try await service.createBind(sessionID: "a", transport: .tcp, address: FirewallServiceTests.address, by: Self.helper)
        let request = try RetroactiveAllowBindRequest(
            transport: .tcp, address: FirewallServiceTests.address, protocolGUID: BuiltInProtocols.ftp.guid, lifetimeSeconds: 600)
        let allowed = try await service.retroactiveAllowBind(sessionID: "a", request, by: Self.helper)
        #expect(allowed.hresult == .S_OK)
        // Renewing the lifetime changes the bind (a later end), but a re-approval is still not a record.
        try await Task.sleep(for: .milliseconds(20))
        let renewed = try await service.retroactiveAllowBind(sessionID: "a", request, by: Self.helper)
        #expect(renewed.hresult == .S_FALSE)
        #expect(renewed.binds[0].grant?.endsAt != allowed.binds[0].grant?.endsAt, "the re-approval changed something")
        await #expect(throws: FirewallError.self) {
            try await service.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!), by: Self.helper)
        }
        // Without a context (the server's own callers), nothing is recorded.
        _ = try await service.createSession(NewSession(id: "internal", clientAddress: IPAddress("10.0.0.2")!))

        let records = try await service.auditRecords(AuditQuery()).items
        #expect(records.map(\.action) == ["rule.create", "session.create", "bind.create", "retroactive-allow-bind"])
        #expect(records.map(\.token) == ["admin-client", "ftp-helper", "ftp-helper", "ftp-helper"])
        #expect(records[0].details.contains(AuditDetail("ruleId", .string(rule.rule.id))))
        #expect(records[0].details.contains(AuditDetail("policyVersion", .integer(version))))
        #expect(records[3].sessionID == "a" && records[3].bindID == bind.id && records[3].hresult == "S_OK")
        #expect(records[3].requestID == "r-2")
        await service.close()
    }

    @Test("without a durable store there is no trail: ERROR_INVALID_STATE")
    func memoryStore() async throws {
        let service = FirewallService(logger: FirewallServiceTests.logger)
        await #expect(throws: FirewallError.self) { try await service.auditRecords(AuditQuery()) }
        do {
            _ = try await service.auditRecords(AuditQuery())
        } catch {
            #expect(error.hresult == .ERROR_INVALID_STATE)
        }
    }
}
