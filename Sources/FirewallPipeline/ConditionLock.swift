#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex with a condition variable, both on the heap (public: the PostgreSQL workers
/// of an array node sleep on it too).
///
/// The pipeline's stage threads are plain threads that must sleep until work arrives (Swift's
/// `Mutex` has no condition variable). pthread objects must not move while in use, and Swift
/// does not promise stable addresses for stored properties, so they are allocated once here
/// (as swift-nio's `NIOLock` does) and only ever used through these pointers.
public final class ConditionLock: @unchecked Sendable {
    // @unchecked: the pointers never change; the pthread objects behind them are thread-safe.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Timed waits measure a monotonic clock: a wall-clock step must not stretch a back-off.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the mutex held.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// With the mutex held: sleeps until signalled (spurious wake-ups happen; re-check the condition).
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// With the mutex held: sleeps until signalled or `seconds` passed.
    public func wait(seconds: Double) {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let whole = seconds.rounded(.down)
        var nanoseconds = Int(deadline.tv_nsec) + Int((seconds - whole) * 1e9)
        deadline.tv_sec += Int(whole) + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        deadline.tv_nsec = nanoseconds
        pthread_cond_timedwait(condition, mutex, &deadline)
    }

    /// Wakes every waiter.
    public func broadcast() { pthread_cond_broadcast(condition) }
}
