import CSQLite

/// A prepared statement, reused across commits (bind, step, reset).
final class SQLiteStatement {
    private let statement: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(_ statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(statement) }

    /// Binds parameters 1...n in order; nil binds NULL.
    func bind(_ values: [SQLiteValue?]) throws(PersistenceError) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case nil: code = sqlite3_bind_null(statement, index)
            case .integer(let number): code = sqlite3_bind_int64(statement, index, number)
            case .real(let number): code = sqlite3_bind_double(statement, index, number)
            case .text(let text):
                code = text.utf8.withContiguousStorageIfAvailable { buffer in
                    buffer.withMemoryRebound(to: CChar.self) {
                        fws_sqlite_bind_text(statement, index, $0.baseAddress, Int32($0.count))
                    }
                } ?? fws_sqlite_bind_text(statement, index, text, -1)
            }
            guard code == SQLITE_OK else { throw connection.error(code, "binding parameter \(index)") }
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [SQLiteValue?]) throws(PersistenceError) {
        try bind(values)
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else { throw connection.error(code, "writing") }
    }

    /// Advances to the next row; false when there is none.
    func step() throws(PersistenceError) -> Bool {
        let code = sqlite3_step(statement)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(code, "reading")
        }
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }
}

/// A value to bind.
enum SQLiteValue {
    case integer(Int64)
    case real(Double)
    case text(String)
}
