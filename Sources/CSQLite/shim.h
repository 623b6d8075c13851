#ifndef FWS_CSQLITE_SHIM_H
#define FWS_CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast of -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type fws_sqlite_transient(void) { return SQLITE_TRANSIENT; }

/// sqlite3_bind_text with SQLITE_TRANSIENT, so Swift strings may be bound from a temporary buffer.
static inline int fws_sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *text, int bytes) {
    return sqlite3_bind_text(stmt, index, text, bytes, SQLITE_TRANSIENT);
}

/// sqlite3_bind_blob with SQLITE_TRANSIENT, for the same reason.
static inline int fws_sqlite_bind_blob(sqlite3_stmt *stmt, int index, const void *data, int bytes) {
    return sqlite3_bind_blob(stmt, index, data, bytes, SQLITE_TRANSIENT);
}
#endif
