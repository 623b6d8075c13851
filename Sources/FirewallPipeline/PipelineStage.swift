import FirewallSessions
import Logging

/// One sink of the pipeline and the thread that feeds it: batches queue here, the thread applies
/// all that queued while the previous batch was being applied as one batch (group commit), then
/// hands it to the next stage, or completes its tickets when this is the last.
final class PipelineStage: @unchecked Sendable {
    // @unchecked: `queued`, `queuedThrough`, `closing` and `startResult` are only touched with
    // `lock` held; `next` is set once before the thread starts; the rest are immutable.
    let sink: any ChangeSink
    let index: Int
    var next: PipelineStage?
    private let completion: TicketCompletion
    private let listener: (any ChangeListener)?
    private let logger: Logger
    private let lock = ConditionLock()
    private var queued: [StateChange] = []
    /// The newest ticket whose changes were handed to this stage.
    private var queuedThrough: CommitTicket = 0
    private var closing = false
    private let exited = OneShotSignal()

    /// Back-off between attempts at a failing batch.
    static let retrySeconds = 1.0

    init(sink: any ChangeSink, index: Int, completion: TicketCompletion, listener: (any ChangeListener)?, logger: Logger) {
        self.sink = sink
        self.index = index
        self.completion = completion
        self.listener = listener
        self.logger = logger
    }

    /// Queues changes that reach `ticket` (from the previous stage, in ticket order).
    func append(_ changes: [StateChange], through ticket: CommitTicket) {
        lock.withLock {
            queued.append(contentsOf: changes)
            queuedThrough = ticket
            lock.broadcast()
        }
    }

    /// Queues changes under a ticket issued while the queue is locked, so tickets and queue order agree.
    func append(_ changes: [StateChange], issuing issue: () -> CommitTicket) -> CommitTicket {
        lock.withLock {
            let ticket = issue()
            queued.append(contentsOf: changes)
            queuedThrough = ticket
            lock.broadcast()
            return ticket
        }
    }

    /// Asks the thread to apply what is queued and stop.
    func close() {
        lock.withLock {
            closing = true
            lock.broadcast()
        }
    }

    /// Starts the thread: it brings the sink in line with `state` (reported through `started`),
    /// then applies batches until closed.
    func run(from state: PersistedState, started: @escaping @Sendable (Result<Void, SinkError>) -> Void) {
        startThread { [self] in
            do throws(SinkError) {
                try sink.start(from: state)
            } catch {
                started(.failure(error))
                exited.finish()
                return
            }
            started(.success(()))
            loop()
            sink.finish()
            // The next stage drains what this one handed it, then stops too.
            next?.close()
            exited.finish()
        }
    }

    /// Returns once the thread has stopped (immediately if it never ran).
    func waitExited() async { await exited.wait() }

    private enum Work {
        case batch([StateChange], through: CommitTicket)
        case maintain
        case stop
    }

    private func loop() {
        var appliedThrough: CommitTicket = 0
        var retry: [StateChange] = []
        var retryThrough: CommitTicket = 0
        var lastMaintenance = ContinuousClock.now
        while true {
            let work: Work = lock.withLock {
                while true {
                    // Maintenance is due even under a steady stream of batches (it repairs the
                    // table and reads counters), but not once closing.
                    let sinceMaintenance = Self.seconds(ContinuousClock.now - lastMaintenance)
                    if let interval = sink.maintenanceInterval, !closing, sinceMaintenance >= interval { return .maintain }
                    if queuedThrough != appliedThrough || retryThrough != 0 {
                        let batch = retry + queued
                        queued.removeAll(keepingCapacity: true)
                        return .batch(batch, through: max(queuedThrough, retryThrough))
                    }
                    if closing { return .stop }
                    if let interval = sink.maintenanceInterval {
                        lock.wait(seconds: interval - sinceMaintenance)
                    } else {
                        lock.wait()
                    }
                }
            }
            switch work {
            case .stop:
                return
            case .maintain:
                sink.maintain()
                lastMaintenance = .now
            case .batch(let changes, let ticket):
                if apply(changes, through: ticket) {
                    appliedThrough = ticket
                    retry = []
                    retryThrough = 0
                    forward(changes, through: ticket)
                } else {
                    appliedThrough = ticket
                    retry = changes
                    retryThrough = ticket
                    // The whole back-off, though batches keep arriving (they wake the lock):
                    // a failing sink is retried once a second, not once per change.
                    let retryAt = ContinuousClock.now + .seconds(Self.retrySeconds)
                    let stop = lock.withLock { () -> Bool in
                        while !closing {
                            let left = Self.seconds(retryAt - ContinuousClock.now)
                            if left <= 0 { break }
                            lock.wait(seconds: left)
                        }
                        return closing
                    }
                    // Closing while the sink fails: the batch's callers already have their error.
                    if stop { return }
                }
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Applies one batch; false (logged, counted, callers failed) when the sink refused it.
    private func apply(_ changes: [StateChange], through ticket: CommitTicket) -> Bool {
        guard !changes.isEmpty else { return true }
        let started = ContinuousClock.now
        do {
            try sink.apply(changes)
        } catch {
            let failure = PipelineFailure(sink: sink.name, message: error.message)
            logger.error(
                "pipeline.apply failed; will retry",
                metadata: ["sink": "\(sink.name)", "error": "\(error.message)", "changes": "\(changes.count)"])
            listener?.failed(sink: sink.name)
            completion.fail(stage: index, through: ticket, failure)
            return false
        }
        completion.recovered(stage: index)
        listener?.applied(sink: sink.name, duration: ContinuousClock.now - started, changes: changes.count)
        return true
    }

    private func forward(_ changes: [StateChange], through ticket: CommitTicket) {
        if let next {
            next.append(changes, through: ticket)
        } else {
            completion.complete(through: ticket)
        }
    }
}
