import Synchronization

/// Counts the requests the server has taken on, closes the door when draining begins, and
/// wakes whoever waits for the last one to finish.
///
/// A request is admitted on its first callback and counts until libmicrohttpd reports it
/// completed, which covers the time its connection is suspended: shutdown waiting for the count
/// to reach zero is what makes `MHD_stop_daemon` safe.
final class RequestAdmission: Sendable {
    /// The draining flag and the count share one atomic word, so "not draining, so admit" is a
    /// single compare-and-swap: no request can slip in after a drain has seen the count at zero.
    private static let drainingBit = 1 << 62

    private let state = Atomic<Int>(0)
    private let idleWaiters = Mutex<[CheckedContinuation<Void, Never>]>([])

    /// Admits a request unless draining has begun.
    func tryAdmit() -> Bool {
        var current = state.load(ordering: .relaxed)
        while current & Self.drainingBit == 0 {
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Marks an admitted request finished.
    func complete() {
        let now = state.subtract(1, ordering: .acquiringAndReleasing).newValue
        if now == Self.drainingBit { wakeIdleWaiters() }
    }

    /// Refuses every later request; those already admitted go on.
    func beginDraining() {
        let before = state.bitwiseOr(Self.drainingBit, ordering: .acquiringAndReleasing).oldValue
        if before == 0 { wakeIdleWaiters() }
    }

    /// Whether ``beginDraining()`` has been called.
    var isDraining: Bool {
        state.load(ordering: .relaxed) & Self.drainingBit != 0
    }

    /// Requests admitted and not yet completed.
    var inFlight: Int {
        state.load(ordering: .relaxed) & ~Self.drainingBit
    }

    /// Returns once draining has begun and no admitted request is left.
    func waitUntilDrained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // Checking under the waiters' lock pairs with complete(): a count that reaches zero
            // after this check wakes the waiter appended here, because waking takes the same lock.
            let drainedAlready = idleWaiters.withLock { waiters in
                if state.load(ordering: .acquiring) == Self.drainingBit { return true }
                waiters.append(continuation)
                return false
            }
            if drainedAlready { continuation.resume() }
        }
    }

    private func wakeIdleWaiters() {
        let waiters = idleWaiters.withLock { waiters in
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
