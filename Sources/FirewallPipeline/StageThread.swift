import EventLoop

/// Starts a detached POSIX thread.
///
/// Sinks block on fsync or netlink; they must not occupy one of Swift concurrency's few
/// cooperative threads, so every stage runs on a thread of its own.
public func startThread(_ body: @escaping @Sendable () -> Void) {
    startDetachedThread(body)
}

/// Runs blocking work (opening a store, restoring a large state) on a thread of its own and
/// returns its result, so the caller's cooperative thread is free meanwhile.
public func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        startThread { continuation.resume(with: Result { try body() }) }
    }
}
