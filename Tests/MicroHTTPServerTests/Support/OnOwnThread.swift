import Glibc

/// Runs blocking `body` on a new thread and returns its result.
///
/// Socket calls in tests block; on one of Swift's few cooperative threads they would starve the
/// server's responder tasks, which need those threads too.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let job = ThreadJob { continuation.resume(with: Result { try body() }) }
        let retained = Unmanaged.passRetained(job)
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            Unmanaged<ThreadJob>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, retained.toOpaque())
        if created == 0 {
            pthread_detach(thread)
        } else {
            retained.release()
            continuation.resume(throwing: RawHTTPError(description: "pthread_create: \(created)"))
        }
    }
}

/// The closure a thread started by ``onOwnThread(_:)`` runs.
private final class ThreadJob: Sendable {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}
