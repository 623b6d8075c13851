import CSQLite

/// An SQLite result code, primary or extended (the connection turns extended codes on), kept on
/// the error so that callers match codes, never message text. Modelled on GRDB's `ResultCode`: a
/// primary code as a pattern matches itself and every extended code of its class
/// (`case .SQLITE_BUSY:` matches `SQLITE_BUSY_SNAPSHOT`); an extended code matches only itself.
public struct SQLiteResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as SQLite returned it.
    public let rawValue: Int32

    /// Wraps a code.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The primary code: the low eight bits of an extended one.
    public var primaryResultCode: SQLiteResultCode { SQLiteResultCode(rawValue: rawValue & 0xFF) }

    /// Generic error (a bad statement, among others).
    public static let SQLITE_ERROR = SQLiteResultCode(rawValue: CSQLite.SQLITE_ERROR)
    /// The database file is locked by another connection (here: another process holds it).
    public static let SQLITE_BUSY = SQLiteResultCode(rawValue: CSQLite.SQLITE_BUSY)
    /// A table is locked by this same connection.
    public static let SQLITE_LOCKED = SQLiteResultCode(rawValue: CSQLite.SQLITE_LOCKED)
    /// An attempt to write a read-only database.
    public static let SQLITE_READONLY = SQLiteResultCode(rawValue: CSQLite.SQLITE_READONLY)
    /// The operating system reported an I/O error (EIO on fsync, a full disk on some paths).
    public static let SQLITE_IOERR = SQLiteResultCode(rawValue: CSQLite.SQLITE_IOERR)
    /// The database file is malformed.
    public static let SQLITE_CORRUPT = SQLiteResultCode(rawValue: CSQLite.SQLITE_CORRUPT)
    /// The disk is full.
    public static let SQLITE_FULL = SQLiteResultCode(rawValue: CSQLite.SQLITE_FULL)
    /// The database file cannot be opened.
    public static let SQLITE_CANTOPEN = SQLiteResultCode(rawValue: CSQLite.SQLITE_CANTOPEN)
    /// A constraint (unique, not null, ...) was violated.
    public static let SQLITE_CONSTRAINT = SQLiteResultCode(rawValue: CSQLite.SQLITE_CONSTRAINT)

    /// A primary `pattern` matches every code of its class; an extended one only itself.
    public static func ~= (pattern: SQLiteResultCode, code: SQLiteResultCode) -> Bool {
        pattern.rawValue == pattern.primaryResultCode.rawValue ? pattern == code.primaryResultCode : pattern == code
    }

    /// SQLite's own text for the code, and the number.
    public var description: String { "\(String(cString: sqlite3_errstr(rawValue))) (SQLite \(rawValue))" }
}
