#if canImport(Glibc)
import Glibc
#endif
import FirewallSessions
import Logging
import Synchronization

/// The durable store: one SQLite database in WAL mode under the data folder, written by one
/// commit thread that groups every change queued while the previous commit was syncing into the
/// next transaction (group commit). A ticket is durable once its transaction's COMMIT returned
/// with `synchronous=FULL`, i.e. after the WAL was fsynced.
public final class SQLiteBackend: PersistenceBackend {
    /// The database file inside the data folder.
    public static let fileName = "fwsessiond.sqlite3"

    private let connection: Mutex<SQLiteConnectionBox>
    private let queue = CommitQueue()
    private let threadExited = Atomic<Bool>(false)
    private let threadStarted = Atomic<Bool>(false)
    private let logger: Logger
    private let commitObserver: (@Sendable (Duration, Int) -> Void)?
    /// Path of the database file.
    public let path: String

    /// Opens (creating the folder and the database if needed) and migrates the store. A second
    /// server on the same folder is refused: the database is held with an exclusive lock.
    /// `commitObserver` hears the duration and size of every successful group commit (for metrics).
    public init(
        directory: String, logger: Logger, commitObserver: (@Sendable (Duration, Int) -> Void)? = nil
    ) throws(PersistenceError) {
        self.commitObserver = commitObserver
        try Self.makeDirectory(directory)
        path = directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName
        self.logger = logger
        let connection = try SQLiteConnection(path: path)
        do {
            try connection.execute("PRAGMA locking_mode = EXCLUSIVE")
            try connection.execute("PRAGMA journal_mode = WAL")
            try connection.execute("PRAGMA synchronous = FULL")
            try connection.execute("BEGIN IMMEDIATE; COMMIT")
        } catch {
            if error.message.contains("locked") {
                throw PersistenceError("\(path) is in use by another process (is another fwsessiond running on this data folder?)")
            }
            throw error
        }
        try Migration.migrate(connection)
        self.connection = Mutex(SQLiteConnectionBox(connection))
    }

    public func load() throws(PersistenceError) -> PersistedState {
        let state = try connection.withLock { box throws(PersistenceError) in
            guard let connection = box.connection else { throw PersistenceError("the store is closed") }
            return try SQLiteLoader(connection: connection).load()
        }
        startCommitThread()
        return state
    }

    public func enqueue(_ changes: [StateChange]) -> CommitTicket { queue.enqueue(changes) }

    public var latestTicket: CommitTicket { queue.latestTicket }

    public func waitDurable(_ ticket: CommitTicket) async throws(PersistenceError) {
        try await queue.waitDurable(ticket)
    }

    public var failure: PersistenceError? { queue.failure }

    public func close() async {
        queue.close()
        if threadStarted.load(ordering: .acquiring) {
            while !threadExited.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(5)) }
        }
        connection.withLock { box in box.connection?.close() }
    }

    // MARK: The commit thread

    private func startCommitThread() {
        guard !threadStarted.exchange(true, ordering: .acquiringAndReleasing) else { return }
        startThread { [self] in
            runCommitLoop()
            threadExited.store(true, ordering: .releasing)
        }
    }

    private func runCommitLoop() {
        var retry: [StateChange] = []
        var writer: SQLiteBatchWriter?
        while let batch = queue.takeBatch(retrying: retry) {
            let started = ContinuousClock.now
            do {
                try connection.withLock { box throws(PersistenceError) in
                    guard let connection = box.connection else { throw PersistenceError("the store is closed") }
                    if writer == nil { writer = try SQLiteBatchWriter(connection: connection) }
                    try writer?.write(batch.changes)
                }
                retry = []
                queue.committed(through: batch.ticket)
                commitObserver?(ContinuousClock.now - started, batch.changes.count)
            } catch {
                logger.error("store.commit failed; will retry", metadata: ["error": "\(error)", "store.path": "\(path)"])
                queue.failed(through: batch.ticket, error)
                retry = batch.changes
                if queue.isClosing { break }
                queue.pause(seconds: 1)
            }
        }
    }

    private static func makeDirectory(_ directory: String) throws(PersistenceError) {
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                throw PersistenceError("cannot create data folder \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// Holds the connection so the `Mutex` can guard it.
///
/// The connection is touched by the loader (before the commit thread starts) and then only by the
/// commit thread; the mutex makes that hand-over explicit and safe.
final class SQLiteConnectionBox: @unchecked Sendable {
    // @unchecked: only accessed inside `Mutex.withLock` of the owning backend.
    var connection: SQLiteConnection?
    init(_ connection: SQLiteConnection) { self.connection = connection }
}

/// Starts a detached POSIX thread: the commit thread blocks on fsync and must not occupy one of
/// Swift concurrency's few cooperative threads.
func startThread(_ body: @escaping @Sendable () -> Void) {
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
