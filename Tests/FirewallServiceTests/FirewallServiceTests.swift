import FirewallPersistence
import FirewallSessions
import Logging
import Synchronization
import Testing

@testable import FirewallService

#if canImport(Glibc)
import Glibc
#endif

/// The service over real backends: answers only after the change is durable, timers driven by a
/// clock the test moves, events in order.
@Suite("Firewall service")
struct FirewallServiceTests {
    /// A wall clock the test sets.
    final class TestClock: Sendable {
        let seconds = Atomic<Int64>(1_790_000_000)
        func now() -> Timestamp { Timestamp(seconds: Double(seconds.load(ordering: .relaxed))) }
        func advance(_ delta: Int64) { seconds.add(delta, ordering: .relaxed) }
    }

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    static func temporaryFolder() -> String {
        var template = Array("/tmp/fwsessiond-service-XXXXXX".utf8CString)
        return String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
    }

    static let address: SocketAddress = {
        guard case .success(let address) = SocketAddress.parse("203.0.113.10:40000") else { fatalError("fixture") }
        return address
    }()

    @Test("an acknowledged change is on disk: a new service on the same folder sees it")
    func durable() async throws {
        let folder = Self.temporaryFolder()
        let first = try FirewallService(persistence: try SQLiteBackend(directory: folder, logger: Self.logger), logger: Self.logger)
        let session = try await first.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!))
        let bind = try await first.createBind(sessionID: "a", transport: .udp, address: Self.address)
        await first.close()
        let second = try FirewallService(persistence: try SQLiteBackend(directory: folder, logger: Self.logger), logger: Self.logger)
        #expect(try await second.session("a").createdAt == session.createdAt)
        #expect(try await second.bind(sessionID: "a", bindID: bind.id).state == .pending)
        await second.close()
    }

    @Test("timers: a pending bind expires after the timeout, with a bind.expired event")
    func pendingExpiry() async throws {
        let clock = TestClock()
        let events = Mutex<[DomainEvent.Kind]>([])
        var settings = FirewallSettings()
        settings.pendingTimeoutSeconds = 60
        let service = try FirewallService(
            persistence: MemoryBackend(), settings: settings, logger: Self.logger, clock: { clock.now() },
            eventSink: { happened in events.withLock { $0 += happened.map(\.kind) } })
        _ = try await service.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!))
        let bind = try await service.createBind(sessionID: "a", transport: .udp, address: Self.address)
        clock.advance(59)
        _ = await service.store.tick()
        #expect(try await service.bind(sessionID: "a", bindID: bind.id).state == .pending)
        clock.advance(2)
        _ = await service.store.tick()
        await #expect(throws: FirewallError.self) { try await service.bind(sessionID: "a", bindID: bind.id) }
        #expect(events.withLock { $0 } == [.sessionCreated, .bindCreated, .bindExpired])
    }

    @Test("the tick sleeps until the next deadline, at most a second")
    func tickDelay() async throws {
        let clock = TestClock()
        var settings = FirewallSettings()
        settings.gracePeriodSeconds = 30
        let service = try FirewallService(persistence: MemoryBackend(), settings: settings, logger: Self.logger, clock: { clock.now() })
        #expect(await service.store.tick() == 1)
        _ = try await service.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!))
        _ = try await service.terminateSession("a")
        clock.advance(30)
        _ = await service.store.tick()
        await #expect(throws: FirewallError.self) { try await service.session("a") }
    }

    @Test("statistics are kept counts")
    func statistics() async throws {
        let service = try FirewallService(persistence: MemoryBackend(), logger: Self.logger)
        _ = try await service.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!))
        _ = try await service.createBind(sessionID: "a", transport: .udp, address: Self.address)
        let statistics = await service.store.statistics()
        #expect(statistics.sessionsByState[.active] == 1)
        #expect(statistics.bindsByState[.pending] == 1)
        #expect(statistics.policyVersion == 1)
    }
}
