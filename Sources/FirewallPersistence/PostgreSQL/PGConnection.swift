import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// A failure of PostgreSQL or of the connection to it, as libpq reported it.
public struct PostgreSQLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The SQLSTATE of a server error (`23505`, `FWS01`), nil for a client or connection failure.
    public var sqlState: String?
    /// libpq's message, one line.
    public var message: String
    /// The connection is gone (or never came up): reconnect before the next statement. An error
    /// raised while a COMMIT was in flight leaves its outcome unknown.
    public var connectionBroken: Bool

    /// Creates an error.
    public init(sqlState: String? = nil, message: String, connectionBroken: Bool = false) {
        self.sqlState = sqlState
        self.message = message
        self.connectionBroken = connectionBroken
    }

    /// SQLSTATE raised by `fws_fence` when this node no longer holds its shard at its epoch.
    public static let fencedState = "FWS01"

    /// Whether the node's shard was adopted (its epoch is no longer current).
    public var isFenced: Bool { sqlState == Self.fencedState }

    public var description: String { sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message }
}

/// One statement of a pipeline: SQL with text parameters (nil is NULL). A statement with a name is
/// prepared once per connection and then only executed.
public struct PGStatement: Sendable {
    let name: String?
    let sql: String
    let parameters: [String?]

    /// A statement run as given.
    public init(_ sql: String, _ parameters: [String?] = []) {
        name = nil
        self.sql = sql
        self.parameters = parameters
    }

    /// A statement prepared under `name` the first time a connection runs it.
    public init(prepared name: String, _ sql: String, _ parameters: [String?]) {
        self.name = name
        self.sql = sql
        self.parameters = parameters
    }
}

/// The rows of a result in text format, and the count of rows a command touched.
public struct PGRows: Sendable {
    /// Rows of text values (nil is NULL).
    public var rows: [[String?]]
    /// Rows inserted, updated or deleted (PQcmdTuples), 0 when not a command.
    public var affected: Int

    /// The first row's first value, if any.
    public var scalar: String? { rows.first?.first ?? nil }
}

/// One libpq connection, blocking, used by one thread at a time (its owner's).
///
/// Every result goes through `check`, the one place a libpq status becomes a Swift error.
public final class PGConnection {
    private var handle: OpaquePointer?
    private var prepared: Set<String> = []
    /// What this connection is for, in `application_name` (seen in `pg_stat_activity`).
    public let role: String
    /// How long to wait for any answer to a statement before giving the connection up as broken:
    /// the backstop for a server that stopped answering while its host still acknowledges TCP
    /// (a hung or stopped server process). Longer than any `statement_timeout` in use.
    public var resultTimeoutSeconds: Double

    /// Connects. `url` is a libpq URL or key=value string, possibly with several hosts and
    /// `target_session_attrs`; `options` are server settings for this session
    /// (`idle_in_transaction_session_timeout`, `statement_timeout`). A peer that stops answering
    /// at the TCP level (a dead host, a cut network) is noticed within about `deadPeerSeconds`
    /// (TCP keepalives while waiting, `tcp_user_timeout` while sending).
    public init(
        url: String, role: String, options: [String: String] = [:], connectTimeoutSeconds: Int = 2, deadPeerSeconds: Double = 5,
        resultTimeoutSeconds: Double = 30
    ) throws(PostgreSQLError) {
        self.role = role
        self.resultTimeoutSeconds = resultTimeoutSeconds
        // Idle for this long, then two probes a second apart.
        let keepaliveIdle = max(1, Int(deadPeerSeconds) - 2)
        var keywords = ["dbname", "application_name", "connect_timeout", "keepalives", "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "tcp_user_timeout"]
        var values = [url, role, String(connectTimeoutSeconds), "1", String(keepaliveIdle), "1", "2", String(Int(deadPeerSeconds * 1000))]
        if !options.isEmpty {
            keywords.append("options")
            values.append(options.sorted { $0.key < $1.key }.map { "-c \($0.key)=\($0.value)" }.joined(separator: " "))
        }
        let connection = Self.withCStrings(keywords) { keywordPointers in
            Self.withCStrings(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
        handle = connection
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { Self.oneLine(String(cString: PQerrorMessage($0))) } ?? "out of memory"
            close()
            throw PostgreSQLError(message: "cannot connect to PostgreSQL: \(message)", connectionBroken: true)
        }
    }

    deinit { close() }

    /// Closes the connection; later calls fail as broken.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        prepared = []
    }

    /// Whether the connection is up (as far as libpq knows without talking).
    public var isOpen: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// The server process serving this connection (for `pg_terminate_backend` in tests).
    public var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// Runs one statement with text parameters.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgreSQLError) -> PGRows {
        let connection = try open()
        let sent = Self.withOptionalCStrings(parameters) { pointers in
            PQsendQueryParams(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        return try collect(sent, sql)
    }

    /// Runs SQL without parameters; several statements may be given (schema migrations).
    public func execute(_ sql: String) throws(PostgreSQLError) {
        let connection = try open()
        _ = try collect(PQsendQuery(connection, sql), sql)
    }

    /// The results of what was just sent outside a pipeline: the last one's rows, or the first
    /// error (the server skips the statements after it), once every result was read.
    private func collect(_ sent: Int32, _ sql: String) throws(PostgreSQLError) -> PGRows {
        guard sent == 1, let connection = handle else { throw unusable("cannot send statement") }
        var rows = PGRows(rows: [], affected: 0)
        var failure: PostgreSQLError?
        while let result = try nextResult(connection) {
            do {
                rows = try check(result, sql)
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
        return rows
    }
    /// Sends every statement in pipeline mode and reads their results after one sync: one round
    /// trip. The first failure is thrown; the server skips the statements after it. A pipeline
    /// that opened a transaction (BEGIN) and failed leaves it aborted: `rollbackIfNeeded()`.
    ///
    /// A statement the server prepared stays prepared on this connection whatever happens to the
    /// rest of the pipeline (a prepared statement is not transactional), so each name is recorded
    /// as soon as its own prepare result comes back: sending it again would fail with 42P05.
    @discardableResult
    public func pipeline(_ statements: [PGStatement]) throws(PostgreSQLError) -> [PGRows] {
        let connection = try open()
        guard PQenterPipelineMode(connection) == 1 else { throw brokenOrMessage("cannot enter pipeline mode") }
        // (Unless a failure to send closed the connection.)
        defer { if handle != nil { PQexitPipelineMode(connection) } }
        // What was sent, in order: each entry yields its results, then a NULL.
        var sent: [PipelineEntry] = []
        for (index, statement) in statements.enumerated() {
            let accepted: Int32
            if let name = statement.name {
                if !prepared.contains(name) && !sent.contains(.prepare(name)) {
                    guard PQsendPrepare(connection, name, statement.sql, Int32(statement.parameters.count), nil) == 1 else {
                        throw unusable("cannot send statement")
                    }
                    sent.append(.prepare(name))
                }
                accepted = Self.withOptionalCStrings(statement.parameters) { pointers in
                    PQsendQueryPrepared(connection, name, Int32(statement.parameters.count), pointers, nil, nil, 0)
                }
            } else {
                accepted = Self.withOptionalCStrings(statement.parameters) { pointers in
                    PQsendQueryParams(connection, statement.sql, Int32(statement.parameters.count), nil, pointers, nil, nil, 0)
                }
            }
            guard accepted == 1 else { throw unusable("cannot send statement") }
            sent.append(.statement(index))
        }
        guard PQpipelineSync(connection) == 1 else { throw unusable("cannot send pipeline sync") }
        var results: [PGRows] = []
        var failure: PostgreSQLError?
        var entry = 0
        while true {
            guard let result = try nextResult(connection) else {
                if PQstatus(connection) != CONNECTION_OK { throw brokenOrMessage("connection lost") }
                continue
            }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC {
                PQclear(result)
                break
            }
            let current = entry < sent.count ? sent[entry] : .statement(statements.count)
            let context = if case .statement(let index) = current, index < statements.count { statements[index].sql } else { "pipeline" }
            if status == PGRES_PIPELINE_ABORTED {
                // Skipped after an earlier failure: a prepare skipped here did not happen.
                PQclear(result)
            } else if status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR {
                do {
                    _ = try check(result, context)
                } catch {
                    if failure == nil { failure = error }
                }
            } else if case .prepare(let name) = current {
                PQclear(result)
                prepared.insert(name)
            } else {
                results.append(try check(result, context))
            }
            // The NULL that ends this entry's results.
            while let extra = try nextResult(connection) { PQclear(extra) }
            entry += 1
        }
        if let failure { throw failure }
        return results
    }

    /// One thing sent in a pipeline whose results come back in order.
    private enum PipelineEntry: Equatable {
        case prepare(String)
        case statement(Int)
    }

    /// Ends an aborted or open transaction left by a failed pipeline (nothing if none is open).
    public func rollbackIfNeeded() {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return }
        let status = PQtransactionStatus(handle)
        if status == PQTRANS_INTRANS || status == PQTRANS_INERROR { try? execute("ROLLBACK") }
    }

    /// Waits up to `seconds` for notifications (after `LISTEN`) and returns their payloads.
    public func notifications(waitingUpTo seconds: Double) throws(PostgreSQLError) -> [String] {
        let connection = try open()
        var payloads = drainNotifications(connection)
        guard payloads.isEmpty else { return payloads }
        let ready = fws_pq_wait_readable(connection, Int32(seconds * 1000))
        guard ready >= 0 else { throw brokenOrMessage("waiting on the socket failed") }
        guard PQconsumeInput(connection) == 1 else { throw brokenOrMessage("connection lost") }
        payloads = drainNotifications(connection)
        return payloads
    }

    private func drainNotifications(_ connection: OpaquePointer) -> [String] {
        var payloads: [String] = []
        while let notification = PQnotifies(connection) {
            payloads.append(String(cString: notification.pointee.extra))
            PQfreemem(notification)
        }
        return payloads
    }

    // MARK: The one place libpq results become Swift values or errors

    /// The next result, as `PQgetResult` gives it, without blocking in libpq: the socket is
    /// waited on here, and a connection that brings no data for `resultTimeoutSeconds` is closed
    /// and reported broken instead of hanging its thread.
    private func nextResult(_ connection: OpaquePointer) throws(PostgreSQLError) -> OpaquePointer? {
        var deadline = Self.monotonicSeconds() + resultTimeoutSeconds
        while PQisBusy(connection) == 1 {
            let left = deadline - Self.monotonicSeconds()
            guard left > 0 else { throw unusable("PostgreSQL did not answer within \(Int(resultTimeoutSeconds)) s") }
            let ready = fws_pq_wait_readable(connection, Int32(min(left, 3600) * 1000))
            guard ready >= 0 else { throw unusable("waiting on the socket failed") }
            guard ready > 0 else { continue }
            guard PQconsumeInput(connection) == 1 else { throw brokenOrMessage("connection lost") }
            // Something arrived: the server is answering.
            deadline = Self.monotonicSeconds() + resultTimeoutSeconds
        }
        return PQgetResult(connection)
    }

    private static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private func open() throws(PostgreSQLError) -> OpaquePointer {
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            throw PostgreSQLError(message: "not connected to PostgreSQL", connectionBroken: true)
        }
        return handle
    }

    /// Turns a result into rows, or into the error it carries (clearing it either way).
    private func check(_ result: OpaquePointer?, _ sql: String) throws(PostgreSQLError) -> PGRows {
        guard let result else { throw brokenOrMessage("no result") }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PGRows(rows: [], affected: Self.affected(result))
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            let rowCount = PQntuples(result)
            let columnCount = PQnfields(result)
            var rows: [[String?]] = []
            rows.reserveCapacity(Int(rowCount))
            for row in 0..<rowCount {
                var values: [String?] = []
                values.reserveCapacity(Int(columnCount))
                for column in 0..<columnCount {
                    values.append(PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column)))
                }
                rows.append(values)
            }
            return PGRows(rows: rows, affected: Self.affected(result))
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            let message = primary ?? Self.oneLine(String(cString: PQresultErrorMessage(result)))
            let broken = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
            // Class 08 (connection exception) and 57P (operator intervention: shutdown, terminated)
            // mean this session is gone.
            let lost = broken || state?.hasPrefix("08") == true || state?.hasPrefix("57P") == true
            throw PostgreSQLError(
                sqlState: state, message: message.isEmpty ? "statement failed: \(sql.prefix(60))" : message, connectionBroken: lost)
        }
    }

    /// A failure to send: whatever libpq queued is not in a state worth recovering from, so the
    /// connection is closed and reported broken (the next user reconnects).
    private func unusable(_ what: String) -> PostgreSQLError {
        var error = brokenOrMessage(what)
        error.connectionBroken = true
        close()
        return error
    }

    private func brokenOrMessage(_ what: String) -> PostgreSQLError {
        let detail = handle.map { Self.oneLine(String(cString: PQerrorMessage($0))) } ?? ""
        let broken = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
        return PostgreSQLError(message: detail.isEmpty ? what : "\(what): \(detail)", connectionBroken: broken || detail.isEmpty)
    }

    private static func affected(_ result: OpaquePointer) -> Int {
        guard let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters() }.joined(separator: " ")
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let duplicates = strings.map { strdup($0) }
        defer { duplicates.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = duplicates.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private static func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let duplicates = strings.map { $0.map { strdup($0) } ?? nil }
        defer { duplicates.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = duplicates.map { $0.map { UnsafePointer($0) } }
        if pointers.isEmpty { return body(nil) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
