#if canImport(Glibc)
import Glibc
#endif
import FirewallSessions

/// The hand-over between the store actor (which enqueues changes) and the commit thread (which
/// writes them), plus the callers waiting for their ticket to become durable.
///
/// A pthread mutex and condition variable, because the commit thread is a plain thread that must
/// sleep until work arrives; Swift's `Mutex` has no condition variable.
final class CommitQueue: @unchecked Sendable {
    // @unchecked: every field below is read and written only with `mutex` held.
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var queued: [StateChange] = []
    private var lastTicket: CommitTicket = 0
    private var durableTicket: CommitTicket = 0
    private var waiters: [(ticket: CommitTicket, continuation: CheckedContinuation<Void, any Error>)] = []
    private var currentFailure: PersistenceError?
    private var closing = false

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    /// Appends changes and wakes the commit thread.
    func enqueue(_ changes: [StateChange]) -> CommitTicket {
        locked {
            queued.append(contentsOf: changes)
            lastTicket += 1
            pthread_cond_signal(&condition)
            return lastTicket
        }
    }

    var latestTicket: CommitTicket { locked { lastTicket } }

    var failure: PersistenceError? { locked { currentFailure } }

    /// Waits for `ticket` to be durable (or for the batch holding it to fail).
    func waitDurable(_ ticket: CommitTicket) async throws(PersistenceError) {
        let ready: Result<Bool, PersistenceError> = locked {
            if ticket <= durableTicket { return .success(true) }
            if let currentFailure { return .failure(currentFailure) }
            return .success(false)
        }
        switch ready {
        case .success(true): return
        case .failure(let error): throw error
        case .success(false): break
        }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, PersistenceError>? = locked {
                    if ticket <= durableTicket { return .success(()) }
                    waiters.append((ticket, continuation))
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow.mapError { $0 as any Error }) }
            }
        } catch let error as PersistenceError {
            throw error
        } catch {
            throw PersistenceError("\(error)")
        }
    }

    /// Commit thread: blocks until there is work (or closing); returns the changes and the ticket
    /// they reach, or nil when closing with nothing left.
    func takeBatch(retrying pending: [StateChange]) -> (changes: [StateChange], ticket: CommitTicket)? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while queued.isEmpty && pending.isEmpty && !closing {
            pthread_cond_wait(&condition, &mutex)
        }
        if queued.isEmpty && pending.isEmpty { return nil }
        let batch = pending + queued
        queued.removeAll(keepingCapacity: true)
        return (batch, lastTicket)
    }

    /// Commit thread: the batch up to `ticket` is on disk.
    func committed(through ticket: CommitTicket) {
        let ready: [CheckedContinuation<Void, any Error>] = locked {
            durableTicket = max(durableTicket, ticket)
            currentFailure = nil
            var ready: [CheckedContinuation<Void, any Error>] = []
            waiters.removeAll { waiter in
                guard waiter.ticket <= durableTicket else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Commit thread: the batch up to `ticket` failed; its waiters get the error, the batch is kept
    /// for a retry.
    func failed(through ticket: CommitTicket, _ error: PersistenceError) {
        let failedWaiters: [CheckedContinuation<Void, any Error>] = locked {
            currentFailure = error
            var failedWaiters: [CheckedContinuation<Void, any Error>] = []
            waiters.removeAll { waiter in
                guard waiter.ticket <= ticket else { return false }
                failedWaiters.append(waiter.continuation)
                return true
            }
            return failedWaiters
        }
        for continuation in failedWaiters { continuation.resume(throwing: error) }
    }

    /// Commit thread: sleeps up to `seconds` unless closing (the back-off between retries).
    func pause(seconds: Int) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard !closing else { return }
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += seconds
        pthread_cond_timedwait(&condition, &mutex, &deadline)
    }

    /// Asks the commit thread to finish what is queued and stop.
    func close() {
        locked {
            closing = true
            pthread_cond_broadcast(&condition)
        }
    }

    var isClosing: Bool { locked { closing } }
}
