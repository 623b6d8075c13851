import FirewallPipeline
import Synchronization

/// Runs async work from a plain thread and waits for it there.
///
/// Only for threads of our own that block anyway (a PostgreSQL worker inside a transaction, the
/// array monitor): never call it on one of Swift concurrency's cooperative threads or on an MHD
/// thread.
public func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = BlockingBox<T>()
    Task {
        let value = await body()
        box.lock.withLock {
            box.value = value
            box.lock.broadcast()
        }
    }
    return box.lock.withLock {
        while box.value == nil { box.lock.wait() }
        return box.value!
    }
}

/// The hand-over of `blockingAwait`.
private final class BlockingBox<T: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is written once by the task and read after, both under `lock`.
    var value: T?
    let lock = ConditionLock()
}

/// A thread with a PostgreSQL connection of its own that runs jobs in order: claims, policy
/// transactions. libpq blocks (why libpq: CLUSTER.md), so it must not run on Swift concurrency's
/// cooperative threads.
/// The connection is opened on first use and again after it broke.
final class PGWorker: @unchecked Sendable {
    // @unchecked: `jobs` and `closed` are touched only with `lock` held; `connection` only on the
    // worker's thread.
    private let connect: @Sendable () throws(PostgreSQLError) -> PGConnection
    private let lock = ConditionLock()
    private var jobs: [(PGConnection?) -> Void] = []
    private var closed = false
    private var connection: PGConnection?

    init(connect: @escaping @Sendable () throws(PostgreSQLError) -> PGConnection) {
        self.connect = connect
        startThread { [self] in loop() }
    }

    /// Runs `job` on the worker's thread with its connection; a broken connection is reopened for
    /// the next job.
    func run<T: Sendable>(_ job: @escaping @Sendable (PGConnection) throws(PostgreSQLError) -> T) async throws(PostgreSQLError) -> T {
        let result: Result<T, PostgreSQLError> = await withCheckedContinuation { continuation in
            let accepted = lock.withLock { () -> Bool in
                guard !closed else { return false }
                jobs.append { [self] connection in
                    guard let connection else {
                        continuation.resume(returning: .failure(PostgreSQLError(message: "not connected to PostgreSQL", connectionBroken: true)))
                        return
                    }
                    do throws(PostgreSQLError) {
                        continuation.resume(returning: .success(try job(connection)))
                    } catch {
                        connection.rollbackIfNeeded()
                        if error.connectionBroken { self.connection?.close(); self.connection = nil }
                        continuation.resume(returning: .failure(error))
                    }
                }
                lock.broadcast()
                return true
            }
            if !accepted { continuation.resume(returning: .failure(PostgreSQLError(message: "the node is stopping"))) }
        }
        return try result.get()
    }

    /// Stops the thread after the queued jobs.
    func close() {
        lock.withLock {
            closed = true
            lock.broadcast()
        }
    }

    private func loop() {
        while true {
            let job: ((PGConnection?) -> Void)? = lock.withLock {
                while jobs.isEmpty && !closed { lock.wait() }
                return jobs.isEmpty ? nil : jobs.removeFirst()
            }
            guard let job else { break }
            if connection?.isOpen != true {
                connection?.close()
                connection = try? connect()
            }
            job(connection)
        }
        connection?.close()
    }
}
