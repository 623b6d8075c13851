import FirewallPersistence
import FirewallPipeline
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

    /// Hears the events the pipeline publishes.
    final class EventLog: ChangeListener {
        let kinds = Mutex<[DomainEvent.Kind]>([])
        func published(_ events: [DomainEvent]) { kinds.withLock { $0 += events.map(\.kind) } }
    }

    /// A service over the SQLite store in `folder`, started.
    static func sqliteService(_ folder: String, listener: (any ChangeListener)? = nil, extra: [any ChangeSink] = [])
        async throws -> FirewallService
    {
        let store = try SQLiteBackend(directory: folder)
        let service = FirewallService(restoring: try store.load(), sinks: [store] + extra, logger: Self.logger, listener: listener)
        try await service.start()
        return service
    }

    @Test("an acknowledged change is on disk: a new service on the same folder sees it")
    func durable() async throws {
        let folder = Self.temporaryFolder()
        let first = try await Self.sqliteService(folder)
        let session = try await first.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!))
        let bind = try await first.createBind(sessionID: "a", transport: .udp, address: Self.address)
        await first.close()
        let second = try await Self.sqliteService(folder)
        #expect(try await second.session("a").createdAt == session.createdAt)
        #expect(try await second.bind(sessionID: "a", bindID: bind.id).state == .pending)
        await second.close()
    }

    /// A sink after the store that refuses batches while `failing` is set (as a kernel that
    /// refuses a transaction would).
    final class SwitchableSink: ChangeSink {
        let failing = Atomic<Bool>(false)
        var name: String { "dataplane" }
        func apply(_ changes: [StateChange]) throws(SinkError) {
            if failing.load(ordering: .relaxed) { throw SinkError("the kernel refused the transaction") }
        }
    }

    @Test("a change a sink refuses is answered 503 naming the sink, publishes no event, and later writes are refused until it recovers")
    func refusedChange() async throws {
        let events = EventLog()
        let kernel = SwitchableSink()
        let service = try await Self.sqliteService(Self.temporaryFolder(), listener: events, extra: [kernel])
        _ = try await service.createSession(NewSession(id: "before", clientAddress: IPAddress("10.0.0.1")!))
        kernel.failing.store(true, ordering: .relaxed)
        do {
            _ = try await service.createSession(NewSession(id: "during", clientAddress: IPAddress("10.0.0.2")!))
            Issue.record("a refused change was acknowledged")
        } catch {
            #expect(error.hresult == .ERROR_WRITE_FAULT)
            #expect(error.detail.contains("kernel's firewall table"))
        }
        #expect(service.failure?.sink == "dataplane")
        await #expect(throws: FirewallError.self) {
            try await service.createSession(NewSession(id: "refused", clientAddress: IPAddress("10.0.0.3")!))
        }
        #expect(events.kinds.withLock { $0 } == [.sessionCreated], "only the acknowledged change was published")
        kernel.failing.store(false, ordering: .relaxed)
        for _ in 0..<300 where service.failure != nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(service.failure == nil)
        _ = try await service.createSession(NewSession(id: "after", clientAddress: IPAddress("10.0.0.4")!))
        #expect(events.kinds.withLock { $0 } == [.sessionCreated, .sessionCreated])
        await #expect(throws: FirewallError.self) { try await service.session("refused") }
        await service.close()
    }

    @Test("timers: a pending bind expires after the timeout, with a bind.expired event")
    func pendingExpiry() async throws {
        let clock = TestClock()
        let events = EventLog()
        var settings = FirewallSettings()
        settings.pendingTimeoutSeconds = 60
        let service = FirewallService(settings: settings, logger: Self.logger, clock: { clock.now() }, listener: events)
        _ = try await service.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!))
        let bind = try await service.createBind(sessionID: "a", transport: .udp, address: Self.address)
        clock.advance(59)
        _ = await service.store.tick()
        #expect(try await service.bind(sessionID: "a", bindID: bind.id).state == .pending)
        clock.advance(2)
        _ = await service.store.tick()
        await #expect(throws: FirewallError.self) { try await service.bind(sessionID: "a", bindID: bind.id) }
        #expect(events.kinds.withLock { $0 } == [.sessionCreated, .bindCreated, .bindExpired])
    }

    @Test("the tick sleeps until the next deadline, at most a second")
    func tickDelay() async throws {
        let clock = TestClock()
        var settings = FirewallSettings()
        settings.gracePeriodSeconds = 30
        let service = FirewallService(settings: settings, logger: Self.logger, clock: { clock.now() })
        #expect(await service.store.tick() == 1)
        _ = try await service.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!))
        _ = try await service.terminateSession("a")
        clock.advance(30)
        _ = await service.store.tick()
        await #expect(throws: FirewallError.self) { try await service.session("a") }
    }

    @Test("statistics are kept counts")
    func statistics() async throws {
        let service = FirewallService(logger: Self.logger)
        _ = try await service.createSession(NewSession(id: "a", clientAddress: IPAddress("10.0.0.1")!))
        _ = try await service.createBind(sessionID: "a", transport: .udp, address: Self.address)
        let statistics = await service.statistics()
        #expect(statistics.sessionsByState[.active] == 1)
        #expect(statistics.bindsByState[.pending] == 1)
        #expect(statistics.policyVersion == 1)
    }

    @Test("a large restore builds its address index on a second thread, off the cooperative pool, and finds every bind")
    func largeRestore() async throws {
        let count = AddressIndexBuild.threshold + 1_000
        var persisted = PersistedState()
        persisted.sessions = (0..<100).map { index in
            Session(id: "s\(index)", clientAddress: IPAddress("10.0.0.\(index + 1)")!, clientType: .secureNAT,
                    clientMachineName: nil, user: nil, createdAt: Timestamp(seconds: 0), sequence: UInt64(index + 1))
        }
        func bindAddress(_ k: Int) -> SocketAddress { SocketAddress("203.0.\(k / 60_000).\(k / 240 % 250):\(1 + k % 240 + 1000)")! }
        persisted.binds = (0..<count).map { k in
            Bind(id: BindID(rawValue: UInt64(1000 + k)), sessionID: "s\(k % 100)", transport: .tcp, address: bindAddress(k),
                 createdAt: Timestamp(seconds: 0))
        }
        let restored = persisted
        let service = try await runOnThread { FirewallService(restoring: restored, logger: Self.logger) }
        #expect(await service.statistics().bindsByState[.pending] == count)
        for k in stride(from: 0, to: count, by: 4_999) {
            let query = try DecisionQuery(
                transport: .tcp, direction: .inbound, source: SocketAddress("198.51.100.7:20")!, destination: bindAddress(k))
            #expect(try await service.decide(query).bindID == BindID(rawValue: UInt64(1000 + k)))
        }
    }
}
