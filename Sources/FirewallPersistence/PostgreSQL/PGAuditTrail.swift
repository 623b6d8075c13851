import FirewallPipeline
import FirewallSessions

/// The audit table of an array: every node's records in one table, each with its node's id.
enum AuditSQL {
    /// Idempotent: a batch written again after a lost COMMIT finds its records there already.
    static let insert = """
        INSERT INTO audit (node, record_key, time, action, token, request_id, session_id, bind_id, hresult, details)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (node, record_key) DO NOTHING
        """

    static func parameters(_ record: AuditRecord, node: String) -> [String?] {
        [
            node, String(Int64(bitPattern: record.key)), PGRowCoding.number(record.time.seconds), record.action, record.token,
            record.requestID, record.sessionID, record.bindID.map { String($0.rawValue) }, record.hresult,
            AuditDetailsCoding.text(record.details),
        ]
    }

    static func select(_ query: AuditQuery, _ connection: PGConnection) throws(PostgreSQLError) -> Page<AuditRecord> {
        var sql = "SELECT id, record_key, time, action, token, request_id, session_id, bind_id, hresult, details, node FROM audit WHERE id > $1"
        var values: [String?] = [String(Int64(clamping: query.page.after ?? 0))]
        func add(_ condition: String, _ value: String) {
            values.append(value)
            sql += " AND \(condition) $\(values.count)"
        }
        if let since = query.since { add("time >=", PGRowCoding.number(since.seconds)) }
        if let until = query.until { add("time <", PGRowCoding.number(until.seconds)) }
        if let action = query.action { add("action =", action) }
        if let token = query.token { add("token =", token) }
        if let session = query.sessionID { add("session_id =", session) }
        if let bind = query.bindID { add("bind_id =", String(bind.rawValue)) }
        if let hresult = query.hresult { add("hresult =", hresult) }
        sql += " ORDER BY id LIMIT \(query.page.limit + 1)"
        var records = try connection.query(sql, values).rows.map { row in
            AuditRecord(
                id: UInt64(row[0] ?? "") ?? 0, key: UInt64(bitPattern: Int64(row[1] ?? "") ?? 0),
                time: Timestamp(seconds: Double(row[2] ?? "") ?? 0), action: row[3] ?? "", token: row[4] ?? "",
                requestID: row[5] ?? "", sessionID: row[6], bindID: row[7].flatMap { UInt64($0) }.map(BindID.init(rawValue:)),
                hresult: row[8] ?? "", details: AuditDetailsCoding.details(row[9] ?? "{}"), node: row[10])
        }
        let more = records.count > query.page.limit
        if more { records.removeLast() }
        return Page(items: records, nextCursor: more ? records.last.map { PageRequest.cursor($0.id) } : nil)
    }

    /// Deletes what the retention no longer keeps, oldest first, in chunks: by age, then by count.
    static func prune(_ connection: PGConnection, _ retention: AuditRetention, now: Timestamp) throws(PostgreSQLError) -> Int {
        var deleted = 0
        while true {
            let count = try connection.query(
                "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < $1 ORDER BY id LIMIT \(SQLiteAuditTrail.pruneChunk))",
                [PGRowCoding.number(now.seconds - retention.maxAgeSeconds)]).affected
            deleted += count
            if count < SQLiteAuditTrail.pruneChunk { break }
        }
        while true {
            let bound = Int(try connection.query("SELECT coalesce(max(id) - min(id) + 1, 0) FROM audit").scalar ?? "0") ?? 0
            guard bound > retention.maxRecords else { break }
            let total = Int(try connection.query("SELECT count(*) FROM audit").scalar ?? "0") ?? 0
            let excess = min(total - retention.maxRecords, SQLiteAuditTrail.pruneChunk)
            guard excess > 0 else { break }
            let count = try connection.query(
                "DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT \(excess))").affected
            deleted += count
            if count < SQLiteAuditTrail.pruneChunk { break }
        }
        return deleted
    }
}

/// The array's audit trail, read and pruned on a thread and connection of its own. Every node
/// prunes the shared table; the deletes are by id, so two nodes pruning at once only find less
/// to delete.
///
/// Nothing is shown before it is durable: records are written in the fenced transaction of the
/// change (or the policy transaction) they record, and read with another connection, which sees
/// only committed rows.
public final class PGAuditTrail: AuditTrailReader {
    private let connection: AuditConnection
    private let worker: AuditTrailWorker

    /// Starts the reader of the array's audit table, pruned to `retention`.
    public init(settings: PostgreSQLArraySettings, retention: AuditRetention) {
        let connection = AuditConnection(settings: settings)
        self.connection = connection
        worker = AuditTrailWorker(pruneInterval: SQLiteAuditTrail.pruneInterval) {
            _ = try? connection.with { connection throws(PostgreSQLError) in
                try AuditSQL.prune(connection, retention, now: .now())
            }
        }
    }

    public func records(_ query: AuditQuery) async throws(SinkError) -> Page<AuditRecord> {
        let connection = connection
        return try await worker.run { () throws(SinkError) in
            do throws(PostgreSQLError) {
                return try connection.with { connection throws(PostgreSQLError) in try AuditSQL.select(query, connection) }
            } catch {
                throw SinkError("PostgreSQL: reading the audit trail: \(error.message)")
            }
        }
    }

    public func close() { worker.close() }

    deinit { worker.close() }
}

/// The audit reader's own PostgreSQL connection, opened on first use and again after it broke.
private final class AuditConnection: @unchecked Sendable {
    // @unchecked: `connection` is touched only on the audit worker's thread.
    private let settings: PostgreSQLArraySettings
    private var connection: PGConnection?

    init(settings: PostgreSQLArraySettings) { self.settings = settings }

    func with<T>(_ body: (PGConnection) throws(PostgreSQLError) -> T) throws(PostgreSQLError) -> T {
        if connection?.isOpen != true {
            connection?.close()
            connection = nil
        }
        let open: PGConnection
        if let connection { open = connection } else { open = try settings.connect("audit") }
        connection = open
        do throws(PostgreSQLError) {
            return try body(open)
        } catch {
            if error.connectionBroken {
                open.close()
                connection = nil
            }
            throw error
        }
    }

    deinit { connection?.close() }
}
