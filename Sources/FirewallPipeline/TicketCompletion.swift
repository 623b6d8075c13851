import FirewallSessions
import Synchronization

/// The end of the pipeline: which tickets every sink has applied, the callers waiting for theirs,
/// and the events held back until their changes hold.
final class TicketCompletion: Sendable {
    private struct Waiter {
        var ticket: CommitTicket
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var lastIssued: CommitTicket = 0
        var completed: CommitTicket = 0
        var waiters: [Waiter] = []
        /// Events by ticket, oldest first; published once their ticket completes.
        var events: [(ticket: CommitTicket, events: [DomainEvent])] = []
        /// Events up to this ticket were withheld from failed callers; once it completes after all,
        /// listeners are told to re-read the state.
        var withheldThrough: CommitTicket = 0
        /// Each stage's current failure, in stage order.
        var failures: [PipelineFailure?]
    }

    private let state: Mutex<State>
    private let listener: (any ChangeListener)?

    init(stageCount: Int, listener: (any ChangeListener)?) {
        state = Mutex(State(failures: Array(repeating: nil, count: stageCount)))
        self.listener = listener
    }

    /// A new ticket, holding `events` until it completes.
    func issue(events: [DomainEvent]) -> CommitTicket {
        state.withLock { state in
            state.lastIssued += 1
            if !events.isEmpty { state.events.append((state.lastIssued, events)) }
            return state.lastIssued
        }
    }

    var lastIssued: CommitTicket { state.withLock { $0.lastIssued } }

    /// The first failing stage's failure, if any.
    var failure: PipelineFailure? { state.withLock { state in state.failures.lazy.compactMap { $0 }.first } }

    /// Returns once `ticket` completed; throws at once while a stage fails (a caller must not wait
    /// out a long outage for an answer it will not get), or when the batch holding it fails.
    func wait(for ticket: CommitTicket) async throws(PipelineFailure) {
        enum Ready { case done, failed(PipelineFailure), wait }
        let ready: Ready = state.withLock { state in
            if ticket <= state.completed { return .done }
            if let failure = state.failures.lazy.compactMap({ $0 }).first {
                // This caller gets the failure now: the events of its change are withheld, as
                // they are for callers of the batch that failed.
                Self.withhold(through: ticket, in: &state)
                return .failed(failure)
            }
            return .wait
        }
        switch ready {
        case .done: return
        case .failed(let failure): throw failure
        case .wait: break
        }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if ticket <= state.completed { return true }
                    state.waiters.append(Waiter(ticket: ticket, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } catch let failure as PipelineFailure {
            throw failure
        } catch {
            throw PipelineFailure(sink: "pipeline", message: "\(error)")
        }
    }

    /// Every stage applied everything up to `ticket`: publish its events, then answer its callers.
    func complete(through ticket: CommitTicket) {
        let (ready, events, resync) = state.withLock { state in
            state.completed = max(state.completed, ticket)
            var ready: [CheckedContinuation<Void, any Error>] = []
            state.waiters.removeAll { waiter in
                guard waiter.ticket <= ticket else { return false }
                ready.append(waiter.continuation)
                return true
            }
            let due = state.events.prefix { $0.ticket <= ticket }
            state.events.removeFirst(due.count)
            let resync = state.withheldThrough != 0 && state.withheldThrough <= ticket
            if resync { state.withheldThrough = 0 }
            return (ready, due.flatMap(\.events), resync)
        }
        // Events first: once a caller has its answer, its event is already in the ring.
        if resync { listener?.withheldChangesApplied() }
        if !events.isEmpty { listener?.published(events) }
        for continuation in ready { continuation.resume() }
    }

    /// Stage `index` could not apply the batch up to `ticket`: its callers get the failure and its
    /// events are withheld (the batch is retried, but nobody was promised it).
    func fail(stage index: Int, through ticket: CommitTicket, _ failure: PipelineFailure) {
        let failed = state.withLock { state in
            state.failures[index] = failure
            var failed: [CheckedContinuation<Void, any Error>] = []
            state.waiters.removeAll { waiter in
                guard waiter.ticket <= ticket else { return false }
                failed.append(waiter.continuation)
                return true
            }
            Self.withhold(through: ticket, in: &state)
            return failed
        }
        for continuation in failed { continuation.resume(throwing: failure) }
    }

    /// Drops the events up to `ticket` (their callers were answered with an error); once that
    /// ticket completes after all, listeners are told to re-read the state.
    private static func withhold(through ticket: CommitTicket, in state: inout State) {
        let withheld = state.events.prefix { $0.ticket <= ticket }.count
        guard withheld > 0 else { return }
        state.events.removeFirst(withheld)
        state.withheldThrough = max(state.withheldThrough, ticket)
    }

    /// Stage `index` applied a batch: it is no longer failing.
    func recovered(stage index: Int) {
        state.withLock { state in
            if state.failures[index] != nil { state.failures[index] = nil }
        }
    }
}
