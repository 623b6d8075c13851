#if canImport(Glibc)
import Glibc
#endif

/// Starts a detached POSIX thread.
///
/// Sinks block on fsync or netlink; they must not occupy one of Swift concurrency's few
/// cooperative threads, so every stage runs on a thread of its own.
public func startThread(_ body: @escaping @Sendable () -> Void) {
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

/// Runs blocking work (opening a store, restoring a large state) on a thread of its own and
/// returns its result, so the caller's cooperative thread is free meanwhile.
public func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        startThread { continuation.resume(with: Result { try body() }) }
    }
}
