import FirewallSessions
import Logging
import Synchronization

/// A position in the stream of change batches: wait for it to know a change holds everywhere.
public typealias CommitTicket = UInt64

/// The one path every change takes after the store actor made it: through each sink in order
/// (the durable store, then the kernel), each on a thread of its own, batched while the one before
/// is busy. A ticket completes when the last sink applied it; only then are its callers answered
/// and its events published, so nobody hears of a change that a crash or a refusal could undo.
///
/// With no sinks (`--store memory`, no data plane) every ticket completes as it is issued.
public final class ChangePipeline: Sendable {
    private let stages: [PipelineStage]
    private let completion: TicketCompletion
    private let startedStages = Mutex(0)

    /// Builds the pipeline; nothing runs until `start`.
    public init(sinks: [any ChangeSink], listener: (any ChangeListener)? = nil, logger: Logger) {
        let completion = TicketCompletion(stageCount: sinks.count, listener: listener)
        let stages = sinks.enumerated().map { index, sink in
            PipelineStage(sink: sink, index: index, completion: completion, listener: listener, logger: logger)
        }
        for (stage, next) in zip(stages, stages.dropFirst()) { stage.next = next }
        self.stages = stages
        self.completion = completion
    }

    /// The sinks' names, in order.
    public var sinkNames: [String] { stages.map(\.sink.name) }

    /// Whether a sink needs the restored state to start.
    public var needsRestoredState: Bool { stages.contains { $0.sink.needsRestoredState } }

    /// Brings every sink in line with the restored state, in order, then starts feeding them.
    public func start(from state: PersistedState) async throws(PipelineFailure) {
        for stage in stages {
            let given = stage.sink.needsRestoredState ? state : PersistedState()
            let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, SinkError>, Never>) in
                stage.run(from: given, started: { continuation.resume(returning: $0) })
            }
            startedStages.withLock { $0 += 1 }
            if case .failure(let error) = result {
                await close()
                throw PipelineFailure(sink: stage.sink.name, message: error.message)
            }
        }
    }

    /// Queues a change set; the ticket completes once every sink applied it, and `events` are
    /// published then.
    public func enqueue(_ changes: [StateChange], events: [DomainEvent]) -> CommitTicket {
        guard let first = stages.first else {
            let ticket = completion.issue(events: events)
            completion.complete(through: ticket)
            return ticket
        }
        return first.append(changes, issuing: { completion.issue(events: events) })
    }

    /// The newest ticket issued.
    public var latestTicket: CommitTicket { completion.lastIssued }

    /// Returns once every sink applied `ticket`; throws the failure of the batch holding it, or at
    /// once while a sink is failing.
    public func waitApplied(_ ticket: CommitTicket) async throws(PipelineFailure) {
        try await completion.wait(for: ticket)
    }

    /// Nil while every sink applies its batches, else the first failing sink and why.
    public var failure: PipelineFailure? { completion.failure }

    /// Applies what is queued through every sink, then stops their threads.
    public func close() async {
        let started = startedStages.withLock { $0 }
        guard started > 0 else { return }
        stages[0].close()
        for stage in stages.prefix(started) { await stage.waitExited() }
    }
}
