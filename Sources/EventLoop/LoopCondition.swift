#if canImport(Glibc)
import Glibc
#endif

/// A mutex and condition variable on the heap (pthread objects must not move), for the few waits
/// on the event loop that happen outside Swift concurrency: its start, `executeAndWait`, its stop.
final class LoopCondition: @unchecked Sendable {
    // @unchecked: the pointers never change; the pthread objects behind them are thread-safe.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var signalled = false

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Wakes every waiter (also one that starts waiting later).
    func signal() {
        pthread_mutex_lock(mutex)
        signalled = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Returns once `signal` was called.
    func wait() {
        pthread_mutex_lock(mutex)
        while !signalled { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }
}

/// Starts a detached POSIX thread running `body`: the loop's, and (through `startThread` of
/// FirewallPipeline) the pipeline's stages and workers, which must not be cooperative threads.
public func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    var thread = pthread_t()
    let code = pthread_create(&thread, nil, { argument in
        guard let argument else { return nil }
        Unmanaged<Body>.fromOpaque(argument).takeRetainedValue().run()
        return nil
    }, context)
    precondition(code == 0, "pthread_create failed: \(code)")
    pthread_detach(thread)
}
