import FirewallPipeline
import FirewallSessions

/// The audit trail in the SQLite store: queries and pruning on a worker thread of its own,
/// through the store's connection between batches.
///
/// Nothing is shown before it is durable: a record is written in the transaction of the change
/// it records and read back through the same connection, only ever between transactions, so a
/// query sees only what a COMMIT with `synchronous=FULL` made durable.
public final class SQLiteAuditTrail: AuditTrailReader {
    private let backend: SQLiteBackend
    private let retention: AuditRetention
    private let worker: AuditTrailWorker
    private let clock: @Sendable () -> Timestamp

    /// Rows per DELETE when pruning, so a batch waits at most for one such statement.
    static let pruneChunk = 5_000
    /// Seconds between prunings.
    static let pruneInterval = 10.0

    init(backend: SQLiteBackend, retention: AuditRetention, clock: @escaping @Sendable () -> Timestamp = { .now() }) {
        self.backend = backend
        self.retention = retention
        self.clock = clock
        worker = AuditTrailWorker(pruneInterval: Self.pruneInterval) { [backend, retention, clock] in
            _ = try? Self.prune(backend, retention, now: clock())
        }
    }

    public func records(_ query: AuditQuery) async throws(SinkError) -> Page<AuditRecord> {
        let backend = backend
        return try await worker.run { () throws(SinkError) in
            do throws(PersistenceError) {
                return try backend.withConnection { connection throws(PersistenceError) in try Self.select(query, connection) }
            } catch {
                throw SinkError("reading the audit trail: \(error.message)")
            }
        }
    }

    /// Prunes now (on the caller's thread); returns the rows deleted. For tests and the worker.
    @discardableResult
    public func pruneNow() throws(PersistenceError) -> Int { try Self.prune(backend, retention, now: clock()) }

    public func close() { worker.close() }

    deinit { worker.close() }

    static func select(_ query: AuditQuery, _ connection: SQLiteConnection) throws(PersistenceError) -> Page<AuditRecord> {
        var sql = "SELECT id, record_key, time, action, token, request_id, session_id, bind_id, hresult, details FROM audit WHERE id > ?"
        var values: [SQLiteValue?] = [.integer(Int64(clamping: query.page.after ?? 0))]
        if let since = query.since {
            sql += " AND time >= ?"
            values.append(.real(since.seconds))
        }
        if let until = query.until {
            sql += " AND time < ?"
            values.append(.real(until.seconds))
        }
        for (column, value) in [("action", query.action), ("token", query.token), ("session_id", query.sessionID), ("hresult", query.hresult)] {
            guard let value else { continue }
            sql += " AND \(column) = ?"
            values.append(.text(value))
        }
        if let bind = query.bindID {
            sql += " AND bind_id = ?"
            values.append(.integer(Int64(bitPattern: bind.rawValue)))
        }
        sql += " ORDER BY id LIMIT ?"
        values.append(.integer(Int64(query.page.limit + 1)))
        let statement = try connection.prepare(sql)
        try statement.bind(values)
        var records: [AuditRecord] = []
        while try statement.step() {
            records.append(AuditRecord(
                id: UInt64(bitPattern: statement.int64(0)), key: UInt64(bitPattern: statement.int64(1)),
                time: Timestamp(seconds: statement.double(2)), action: statement.text(3) ?? "", token: statement.text(4) ?? "",
                requestID: statement.text(5) ?? "", sessionID: statement.text(6),
                bindID: statement.isNull(7) ? nil : BindID(rawValue: UInt64(bitPattern: statement.int64(7))),
                hresult: statement.text(8) ?? "", details: AuditDetailsCoding.details(statement.text(9) ?? "{}")))
        }
        let more = records.count > query.page.limit
        if more { records.removeLast() }
        return Page(items: records, nextCursor: more ? records.last.map { PageRequest.cursor($0.id) } : nil)
    }

    /// Deletes what the retention no longer keeps, oldest first, at most `pruneChunk` rows per
    /// statement, each statement its own short transaction: batches run between them.
    static func prune(_ backend: SQLiteBackend, _ retention: AuditRetention, now: Timestamp) throws(PersistenceError) -> Int {
        var deleted = 0
        let cutoff = now.seconds - retention.maxAgeSeconds
        while true {
            let count = try backend.withConnection { connection throws(PersistenceError) in
                let statement = try connection.prepare(
                    "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < ? ORDER BY id LIMIT \(pruneChunk))")
                try statement.run([.real(cutoff)])
                return connection.changes
            }
            deleted += count
            if count < pruneChunk { break }
        }
        while true {
            let count = try backend.withConnection { connection throws(PersistenceError) -> Int in
                // max - min + 1 bounds the count (ids only grow and go from the front): the exact
                // count, a scan, is only taken when the bound is over the limit.
                let bounds = try connection.prepare("SELECT coalesce(max(id) - min(id) + 1, 0) FROM audit")
                guard try bounds.step(), bounds.int64(0) > Int64(retention.maxRecords) else { return 0 }
                let counting = try connection.prepare("SELECT count(*) FROM audit")
                guard try counting.step() else { return 0 }
                let excess = min(Int(counting.int64(0)) - retention.maxRecords, pruneChunk)
                guard excess > 0 else { return 0 }
                let statement = try connection.prepare(
                    "DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT \(excess))")
                try statement.run([])
                return connection.changes
            }
            deleted += count
            if count < pruneChunk { break }
        }
        return deleted
    }
}
