#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import FirewallPipeline
import FirewallSessions
import Synchronization

/// The durable store: one SQLite database in WAL mode under the data folder. As the pipeline's
/// first sink it writes each batch (every change queued while the previous commit was syncing)
/// as one transaction: group commit. A batch is durable once its COMMIT returned with
/// `synchronous=FULL`, i.e. after the WAL was fsynced.
public final class SQLiteBackend: PersistenceBackend {
    /// The database file inside the data folder.
    public static let fileName = "fwsessiond.sqlite3"
    /// The SQLite library the process runs with (for `fwsessiond_build_info`).
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    private let connection: Mutex<SQLiteConnectionBox>
    /// Path of the database file.
    public let path: String

    public var name: String { "store" }

    /// Opens (creating the folder and the database if needed) and migrates the store. A second
    /// server on the same folder is refused: the database is held with an exclusive lock.
    public init(directory: String) throws(PersistenceError) {
        try Self.makeDirectory(directory)
        path = directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName
        let connection = try SQLiteConnection(path: path)
        do {
            try connection.execute("PRAGMA locking_mode = EXCLUSIVE")
            try connection.execute("PRAGMA journal_mode = WAL")
            try connection.execute("PRAGMA synchronous = FULL")
            try connection.execute("BEGIN IMMEDIATE; COMMIT")
        } catch {
            switch error.resultCode {
            case .SQLITE_BUSY?, .SQLITE_LOCKED?:
                throw PersistenceError(
                    "\(path) is in use by another process (is another fwsessiond running on this data folder?)",
                    resultCode: error.resultCode)
            default:
                throw error
            }
        }
        try Migration.migrate(connection)
        self.connection = Mutex(SQLiteConnectionBox(connection))
    }

    public func load() throws(PersistenceError) -> PersistedState {
        try connection.withLock { box throws(PersistenceError) in
            guard let connection = box.connection else { throw PersistenceError("the store is closed") }
            return try SQLiteLoader(connection: connection).load()
        }
    }

    /// Writes one batch as one transaction (on the pipeline's store thread).
    public func apply(_ changes: [StateChange]) throws(SinkError) {
        do {
            try connection.withLock { box throws(PersistenceError) in
                guard let connection = box.connection else { throw PersistenceError("the store is closed") }
                if box.writer == nil { box.writer = try SQLiteBatchWriter(connection: connection) }
                try box.writer?.write(changes)
            }
        } catch {
            throw SinkError("\(error.message) (\(path))")
        }
    }

    /// Runs `body` with the store's connection, between batches (never inside one: the batch
    /// holds the same lock from BEGIN to COMMIT). For the audit trail's reads and pruning, which
    /// share this connection because the database is opened with `locking_mode = EXCLUSIVE` (a
    /// second connection could not read it).
    func withConnection<T>(_ body: (SQLiteConnection) throws(PersistenceError) -> T) throws(PersistenceError) -> T {
        try connection.withLock { box throws(PersistenceError) in
            guard let connection = box.connection else { throw PersistenceError("the store is closed") }
            return try body(connection)
        }
    }

    /// The audit trail of this store, for `GET /audit`, pruned to `retention`.
    public func auditTrail(retention: AuditRetention) -> SQLiteAuditTrail {
        SQLiteAuditTrail(backend: self, retention: retention)
    }

    /// Closes the database after the last batch.
    public func finish() { close() }

    /// Closes the database (also for a store that never joined a pipeline).
    public func close() {
        connection.withLock { box in
            box.writer = nil
            box.connection?.close()
            box.connection = nil
        }
    }

    private static func makeDirectory(_ directory: String) throws(PersistenceError) {
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                let code = errno
                let hint = code == EACCES || code == EPERM || code == EROFS ? " (the server runs as uid \(getuid()))" : ""
                throw PersistenceError("cannot create data folder \(prefix): \(String(cString: strerror(code)).lowercased())\(hint)")
            }
        }
    }
}

/// Holds the connection so the `Mutex` can guard it.
///
/// The connection is touched by the loader (before the pipeline starts) and then only by the
/// pipeline's store thread; the mutex makes that hand-over explicit and safe.
final class SQLiteConnectionBox: @unchecked Sendable {
    // @unchecked: only accessed inside `Mutex.withLock` of the owning backend.
    var connection: SQLiteConnection?
    var writer: SQLiteBatchWriter?
    init(_ connection: SQLiteConnection) { self.connection = connection }
}
