import FirewallSessions

/// Where `GET /audit` reads the audit trail: the durable store that wrote the records, in the
/// transactions of the changes they record. Implemented by the persistence layer (SQLite, or
/// PostgreSQL in an array) and handed to the service by the executable.
///
/// A query blocks on the database, so an implementation runs it on a thread of its own and
/// resumes the caller when it is done: never on the event loop or the cooperative pool.
public protocol AuditTrailReader: AnyObject, Sendable {
    /// A page of the records `query` selects, oldest first.
    func records(_ query: AuditQuery) async throws(SinkError) -> Page<AuditRecord>

    /// Stops the reader's thread (after the queries it holds).
    func close()
}
