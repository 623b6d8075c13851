import CSQLite

#if canImport(Glibc)
import Glibc
#endif

/// One SQLite connection. Not thread-safe: the owner keeps it on one thread at a time (the
/// loader before start, then only the commit thread).
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    let path: String

    /// Opens (creating if needed) the database at `path`.
    init(path: String) throws(PersistenceError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        handle = db
        if code != SQLITE_OK {
            let message = db.map { String(cString: sqlite3_errmsg($0)) + Self.systemReason($0) } ?? "out of memory"
            sqlite3_close_v2(db)
            handle = nil
            throw PersistenceError("cannot open database \(path): \(message)", resultCode: SQLiteResultCode(rawValue: code))
        }
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Closes the connection; later calls fail.
    func close() {
        guard let handle else { return }
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    /// Runs SQL without results (may hold several statements).
    func execute(_ sql: String) throws(PersistenceError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = (message.map { String(cString: $0) } ?? "error \(code)") + (handle.map(Self.systemReason) ?? "")
            sqlite3_free(message)
            throw PersistenceError("\(text) (SQLite \(code)) in: \(sql.prefix(80))", resultCode: SQLiteResultCode(rawValue: code))
        }
    }

    /// Compiles one statement.
    func prepare(_ sql: String) throws(PersistenceError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, "preparing \(sql.prefix(80))") }
        return SQLiteStatement(statement, connection: self)
    }

    /// The one place an SQLite result code becomes a Swift error.
    func error(_ code: Int32, _ context: String) -> PersistenceError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) + Self.systemReason($0) } ?? "no connection"
        return PersistenceError("\(context): \(message) (SQLite \(code))", resultCode: SQLiteResultCode(rawValue: code))
    }

    /// What the operating system said when SQLite's last call failed on a file: SQLite's own
    /// message ("unable to open database file") does not tell a missing permission from a full
    /// disk, and an operator needs to know which, and for which user.
    static func systemReason(_ db: OpaquePointer) -> String {
        let code = sqlite3_system_errno(db)
        guard code != 0 else { return "" }
        let reason = String(cString: strerror(code)).lowercased()
        guard code == EACCES || code == EPERM || code == EROFS else { return " (\(reason))" }
        return " (\(reason): the server runs as uid \(getuid()); the data folder and the files in it must be writable by it)"
    }

    /// Rows the last INSERT, UPDATE or DELETE changed.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// The value of a single-value query, as text.
    func scalarText(_ sql: String) throws(PersistenceError) -> String? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }
}
