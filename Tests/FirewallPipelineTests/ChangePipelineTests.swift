import FirewallSessions
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import Testing

@testable import FirewallPipeline

/// The pipeline's promises: a ticket completes only after every sink applied it, in sink order;
/// events follow their ticket and never precede it; a failing sink fails its callers, withholds
/// their events and is retried.
@Suite("Change pipeline")
struct ChangePipelineTests {
    /// A sink that records what it applied and can be made to fail or to hold a batch.
    final class RecordingSink: ChangeSink {
        struct State {
            var batches: [[StateChange]] = []
            var failing: String?
            var started: PersistedState?
            var finished = false
        }
        let name: String
        let state = Mutex(State())
        let gate = Mutex<Bool>(true)
        let journal: Journal
        var needsRestoredState: Bool { true }

        init(_ name: String, journal: Journal) {
            self.name = name
            self.journal = journal
        }

        func start(from state: PersistedState) throws(SinkError) {
            self.state.withLock { $0.started = state }
        }

        func apply(_ changes: [StateChange]) throws(SinkError) {
            while !gate.withLock({ $0 }) { usleep(1000) }
            if let failing = state.withLock({ $0.failing }) { throw SinkError(failing) }
            state.withLock { $0.batches.append(changes) }
            journal.note("\(name) applied \(changes.count)")
        }

        func finish() { state.withLock { $0.finished = true } }

        var appliedSessions: [String] {
            state.withLock { state in
                state.batches.flatMap { $0 }.compactMap { change in
                    if case .sessionSaved(let session) = change { return session.id }
                    return nil
                }
            }
        }
    }

    /// What happened, in order, across sinks and the listener.
    final class Journal: ChangeListener {
        let lines = Mutex<[String]>([])
        let published = Mutex<[DomainEvent]>([])
        let resyncs = Atomic<Int>(0)
        func note(_ line: String) { lines.withLock { $0.append(line) } }
        func published(_ events: [DomainEvent]) {
            published.withLock { $0 += events }
            note("published \(events.count)")
        }
        func withheldChangesApplied() { resyncs.add(1, ordering: .relaxed) }
    }

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    static func session(_ id: String) -> Session {
        Session(
            id: id, clientAddress: IPAddress("10.0.0.1")!, clientType: .secureNAT, clientMachineName: nil, user: nil,
            createdAt: Timestamp(seconds: 1_790_000_000), sequence: 1)
    }

    static func created(_ id: String) -> DomainEvent { DomainEvent(kind: .sessionCreated, sessionID: id) }

    @Test("a ticket completes after every sink applied it, in sink order, and its events follow")
    func order() async throws {
        let journal = Journal()
        let store = RecordingSink("store", journal: journal)
        let kernel = RecordingSink("dataplane", journal: journal)
        let pipeline = ChangePipeline(sinks: [store, kernel], listener: journal, logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        let ticket = pipeline.enqueue([.sessionSaved(Self.session("a"))], events: [Self.created("a")])
        try await pipeline.waitApplied(ticket)
        #expect(journal.lines.withLock { $0 } == ["store applied 1", "dataplane applied 1", "published 1"])
        #expect(journal.published.withLock { $0.map(\.sessionID) } == ["a"])
        await pipeline.close()
        #expect(store.state.withLock { $0.finished } && kernel.state.withLock { $0.finished })
    }

    @Test("nothing is published while a later sink has not applied the change")
    func eventsWaitForTheLastSink() async throws {
        let journal = Journal()
        let store = RecordingSink("store", journal: journal)
        let kernel = RecordingSink("dataplane", journal: journal)
        kernel.gate.withLock { $0 = false }
        let pipeline = ChangePipeline(sinks: [store, kernel], listener: journal, logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        let ticket = pipeline.enqueue([.sessionSaved(Self.session("a"))], events: [Self.created("a")])
        try await Task.sleep(for: .milliseconds(100))
        #expect(store.appliedSessions == ["a"])
        #expect(journal.published.withLock { $0.isEmpty }, "published before the data plane applied it")
        kernel.gate.withLock { $0 = true }
        try await pipeline.waitApplied(ticket)
        #expect(journal.published.withLock { $0.count } == 1)
        await pipeline.close()
    }

    @Test("a failing sink fails its callers, withholds their events, and a retry applies the batch later")
    func failureAndRetry() async throws {
        let journal = Journal()
        let store = RecordingSink("store", journal: journal)
        store.state.withLock { $0.failing = "disk full" }
        let pipeline = ChangePipeline(sinks: [store], listener: journal, logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        let ticket = pipeline.enqueue([.sessionSaved(Self.session("a"))], events: [Self.created("a")])
        await #expect(throws: PipelineFailure(sink: "store", message: "disk full")) {
            try await pipeline.waitApplied(ticket)
        }
        #expect(pipeline.failure == PipelineFailure(sink: "store", message: "disk full"))
        // A late waiter sees the current failure at once rather than waiting out the outage.
        let late = pipeline.enqueue([.sessionSaved(Self.session("b"))], events: [Self.created("b")])
        await #expect(throws: PipelineFailure.self) { try await pipeline.waitApplied(late) }

        store.state.withLock { $0.failing = nil }
        let after = pipeline.enqueue([.sessionSaved(Self.session("c"))], events: [Self.created("c")])
        try await waitUntil { pipeline.failure == nil && store.appliedSessions.contains("c") }
        try await pipeline.waitApplied(after)
        #expect(store.appliedSessions == ["a", "b", "c"], "the failed batch is retried, in order")
        let published = journal.published.withLock { $0.compactMap(\.sessionID) }
        #expect(!published.contains("a"), "an event of a change answered with an error was published")
        #expect(published.last == "c")
        #expect(journal.resyncs.load(ordering: .relaxed) == 1, "subscribers are told to re-read once the withheld change holds")
        await pipeline.close()
    }

    @Test("a caller that starts waiting while a sink fails gets the failure, and its change's event is withheld too")
    func lateWaiterWithheld() async throws {
        let journal = Journal()
        let store = RecordingSink("store", journal: journal)
        let pipeline = ChangePipeline(sinks: [store], listener: journal, logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        store.gate.withLock { $0 = false }
        let first = pipeline.enqueue([.sessionSaved(Self.session("a"))], events: [Self.created("a")])
        try await Task.sleep(for: .milliseconds(50))
        // Queued while the first batch is in the sink: it is the next batch.
        let late = pipeline.enqueue([.sessionSaved(Self.session("b"))], events: [Self.created("b")])
        store.state.withLock { $0.failing = "disk full" }
        store.gate.withLock { $0 = true }
        await #expect(throws: PipelineFailure.self) { try await pipeline.waitApplied(first) }
        await #expect(throws: PipelineFailure.self) { try await pipeline.waitApplied(late) }
        store.state.withLock { $0.failing = nil }
        try await waitUntil { store.appliedSessions.contains("b") && pipeline.failure == nil }
        try await Task.sleep(for: .milliseconds(50))
        #expect(journal.published.withLock { $0.isEmpty }, "an event was published for a change whose caller got 503")
        #expect(journal.resyncs.load(ordering: .relaxed) >= 1)
        await pipeline.close()
    }

    @Test("a failing sink is retried once a second, not each time a change arrives")
    func retryBackOff() async throws {
        final class CountingFailures: ChangeSink {
            let attempts = Atomic<Int>(0)
            var name: String { "store" }
            func apply(_ changes: [StateChange]) throws(SinkError) {
                attempts.add(1, ordering: .relaxed)
                throw SinkError("disk full")
            }
        }
        let sink = CountingFailures()
        let pipeline = ChangePipeline(sinks: [sink], logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        let started = ContinuousClock.now
        for index in 0..<40 {
            _ = pipeline.enqueue([.sessionSaved(Self.session("s\(index)"))], events: [])
            try await Task.sleep(for: .milliseconds(25))
        }
        // 40 changes over about a second (longer on a loaded machine): the first attempt and one
        // retry per second that passed, plus one for the edges; a retry per change would be 40.
        let elapsed = (ContinuousClock.now - started).components.seconds
        let attempts = sink.attempts.load(ordering: .relaxed)
        #expect(attempts <= Int(elapsed) + 3, "\(attempts) attempts in \(elapsed) s")
        await pipeline.close()
    }

    @Test("changes queued while a sink is busy share its next batch (group commit)")
    func groupCommit() async throws {
        let journal = Journal()
        let store = RecordingSink("store", journal: journal)
        let pipeline = ChangePipeline(sinks: [store], listener: journal, logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        store.gate.withLock { $0 = false }
        let first = pipeline.enqueue([.sessionSaved(Self.session("first"))], events: [])
        try await Task.sleep(for: .milliseconds(50))
        let tickets = (0..<100).map { pipeline.enqueue([.sessionSaved(Self.session("s\($0)"))], events: [Self.created("s\($0)")]) }
        store.gate.withLock { $0 = true }
        try await pipeline.waitApplied(first)
        for ticket in tickets { try await pipeline.waitApplied(ticket) }
        #expect(store.state.withLock { $0.batches.count } == 2, "100 changes queued during one batch form the next batch")
        #expect(journal.published.withLock { $0.compactMap(\.sessionID) } == (0..<100).map { "s\($0)" })
        await pipeline.close()
    }

    @Test("close applies what is queued first")
    func closeDrains() async throws {
        let journal = Journal()
        let store = RecordingSink("store", journal: journal)
        let kernel = RecordingSink("dataplane", journal: journal)
        let pipeline = ChangePipeline(sinks: [store, kernel], listener: journal, logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        for index in 0..<50 { _ = pipeline.enqueue([.sessionSaved(Self.session("s\(index)"))], events: []) }
        await pipeline.close()
        #expect(kernel.appliedSessions.count == 50)
    }

    @Test("without sinks a ticket completes at once and events are published in order")
    func noSinks() async throws {
        let journal = Journal()
        let pipeline = ChangePipeline(sinks: [], listener: journal, logger: Self.logger)
        try await pipeline.start(from: PersistedState())
        let ticket = pipeline.enqueue([], events: [Self.created("a"), Self.created("b")])
        try await pipeline.waitApplied(ticket)
        #expect(journal.published.withLock { $0.compactMap(\.sessionID) } == ["a", "b"])
        await pipeline.close()
    }

    @Test("a sink that cannot start stops the start with its name; the restored state reaches it")
    func startFailure() async throws {
        final class Refusing: ChangeSink {
            var name: String { "dataplane" }
            func start(from state: PersistedState) throws(SinkError) { throw SinkError("no CAP_NET_ADMIN") }
            func apply(_ changes: [StateChange]) throws(SinkError) {}
        }
        let journal = Journal()
        let store = RecordingSink("store", journal: journal)
        var restored = PersistedState()
        restored.sessions = [Self.session("kept")]
        let pipeline = ChangePipeline(sinks: [store, Refusing()], listener: journal, logger: Self.logger)
        await #expect(throws: PipelineFailure(sink: "dataplane", message: "no CAP_NET_ADMIN")) {
            try await pipeline.start(from: restored)
        }
        #expect(store.state.withLock { $0.started?.sessions.map(\.id) } == ["kept"])
        #expect(store.state.withLock { $0.finished })
    }

    func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }
}
