#!/usr/bin/env python3
"""Writes a fwsessiond SQLite database directly: the benchmark's fast seeding path.

Creating a million binds through the API takes minutes of durable commits; this writes the rows
the server's own store would have written, in one transaction, in seconds. The server then loads
them at start like any database it wrote itself.

The schema is a copy of migrations 0001_initial, 0002_lifetimes and 0003_audit
(Sources/FirewallPersistence/SQLite/Migrations.swift) and the column formats follow
SQLiteBatchWriter.swift and SQLiteLoader.swift:

- sessions: id, sequence (creation order, shared counter), client_address (IP text),
  client_type ('firewall-client'), machine_name, user_name, user_groups (JSON array text),
  state ('active'), created_at (seconds since 1970, REAL), terminating_at (NULL);
- binds: id (INTEGER, the number of `b-N`, from the same counter), session_id, protocol ('tcp'),
  address ('A.B.C.D:PORT'), state ('allowed' or 'pending'), protocol_guid (lower-case GUID text,
  NULL when pending), flags (0, NULL when pending), ip_filter / ip_filter_id (NULL), created_at,
  pending_since, allowed_at (NULL when pending), terminating_at (NULL), accepted, discarded (0),
  expires_at, idle_timeout, last_active_at (NULL: approvals without an end; the idle clock starts at
  allowed_at); sessions' expires_at (NULL) likewise;
- rules: one allow rule 'r-1' at position 1 for the built-in FTP protocol and All Users
  (protocols 'only <guid>', users '["All Users"]'), so RetroactiveAllowBind succeeds;
- metadata: policy_version (2: the rule raised it from 1) and last_sequence (the highest id used);
- audit: empty (seeded rows are not changes anyone made through the API);
- schema_migrations: '0001_initial', '0002_lifetimes', '0003_audit'.

Bind k (0-based) has address 198.18.0.0/15 (RFC 2544's benchmarking range) + k // 50000, port
10000 + k % 50000, and belongs to session k // (binds / sessions). `bench/run` checks before it
seeds that this schema is still the one a freshly started server creates (--print-schema).

Usage:
  seed_sqlite.py --db PATH --sessions N --binds N [--state allowed|pending] [--prefix P] [--bare-sessions]
  seed_sqlite.py --print-schema
"""

import argparse
import json
import sqlite3
import sys
import time

FTP_GUID = "477d0251-8a01-4895-9727-ba1370e17366"

# Migration 0001_initial, verbatim.
SCHEMA_0001 = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL,
    client_address TEXT NOT NULL,
    client_type TEXT NOT NULL,
    machine_name TEXT,
    user_name TEXT,
    user_groups TEXT,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    terminating_at REAL
);
CREATE TABLE binds (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    address TEXT NOT NULL,
    state TEXT NOT NULL,
    protocol_guid TEXT,
    flags INTEGER,
    ip_filter TEXT,
    ip_filter_id TEXT,
    created_at REAL NOT NULL,
    pending_since REAL NOT NULL,
    allowed_at REAL,
    terminating_at REAL,
    accepted INTEGER NOT NULL DEFAULT 0,
    discarded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE ip_filters (
    id TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL,
    ranges TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE protocols (
    guid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    primary_connections TEXT NOT NULL
);
CREATE TABLE rules (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    action TEXT NOT NULL,
    protocols TEXT NOT NULL,
    users TEXT NOT NULL,
    source_addresses TEXT
);
CREATE TABLE metadata (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""
# Migration 0002_lifetimes, verbatim.
SCHEMA_0002 = """
ALTER TABLE binds ADD COLUMN expires_at REAL;
ALTER TABLE binds ADD COLUMN idle_timeout REAL;
ALTER TABLE binds ADD COLUMN last_active_at REAL;
ALTER TABLE sessions ADD COLUMN expires_at REAL;
"""
# Migration 0003_audit, verbatim (the seeder writes no audit records: seeded rows were not changes
# anyone made through the API).
SCHEMA_0003 = """
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_key INTEGER NOT NULL,
    time REAL NOT NULL,
    action TEXT NOT NULL,
    token TEXT NOT NULL,
    request_id TEXT NOT NULL,
    session_id TEXT,
    bind_id INTEGER,
    hresult TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_time ON audit (time, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE INDEX audit_token ON audit (token, id);
CREATE INDEX audit_session ON audit (session_id, id) WHERE session_id IS NOT NULL;
CREATE INDEX audit_bind ON audit (bind_id, id) WHERE bind_id IS NOT NULL;
CREATE INDEX audit_hresult ON audit (hresult, id);
"""
MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
MIGRATIONS = ["0001_initial", "0002_lifetimes", "0003_audit"]

BINDS_PER_ADDRESS = 50_000


def bind_address(k: int) -> str:
    """The external address of bind k: 198.18.0.0/15 plus k // 50000, port 10000 + k % 50000."""
    host = k // BINDS_PER_ADDRESS
    if host >= 2 ** 17:
        raise ValueError("too many binds for 198.18.0.0/15")
    return f"198.{18 + (host >> 16)}.{(host >> 8) & 255}.{host & 255}:{10000 + k % BINDS_PER_ADDRESS}"


def client_address(i: int) -> str:
    n = i + 1
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def schema_rows(connection: sqlite3.Connection) -> list:
    """(type, name, sql) of every table and index, to compare with a server-made database."""
    return sorted(connection.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").fetchall())


def print_schema() -> None:
    connection = sqlite3.connect(":memory:")
    connection.executescript(MIGRATIONS_TABLE + ";" + SCHEMA_0001 + SCHEMA_0002 + SCHEMA_0003)
    print(json.dumps({"tables": schema_rows(connection), "migrations": MIGRATIONS}))


def seed(path: str, sessions: int, binds: int, state: str, prefix: str, bare_sessions: bool) -> dict:
    if sessions < 1 and binds > 0:
        raise SystemExit("binds need at least one session")
    if sessions and binds % sessions:
        raise SystemExit("--binds must be a multiple of --sessions")
    per_session = binds // sessions if sessions else 0
    started = time.monotonic()
    now = time.time()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = OFF")  # the server switches it to WAL when it opens the file
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("BEGIN")
    connection.execute(MIGRATIONS_TABLE)
    for statement in (SCHEMA_0001 + SCHEMA_0002 + SCHEMA_0003).split(";"):
        if statement.strip():
            connection.execute(statement)
    connection.executemany("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                           [(name, int(now)) for name in MIGRATIONS])
    # Sequence 1 is the rule r-1; sessions, then binds, take the numbers after it.
    connection.execute(
        "INSERT INTO rules (id, position, name, enabled, action, protocols, users, source_addresses) "
        "VALUES ('r-1', 1, 'bench: FTP for All Users', 1, 'allow', ?, ?, NULL)",
        (f"only {FTP_GUID}", json.dumps(["All Users"])))

    def session_rows():
        for i in range(sessions):
            if bare_sessions:
                yield (f"{prefix}{i}", 2 + i, client_address(i), "securenat", None, None, None, "active", now, None)
            else:
                yield (f"{prefix}{i}", 2 + i, client_address(i), "firewall-client", f"WS-{i}", f"BENCH\\user-{i}",
                       json.dumps(["BENCH\\FTP Users"]), "active", now, None)

    connection.executemany(
        "INSERT INTO sessions (id, sequence, client_address, client_type, machine_name, user_name, user_groups, "
        "state, created_at, terminating_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", session_rows())

    first_bind_id = 2 + sessions
    allowed = state == "allowed"

    def bind_rows():
        for k in range(binds):
            yield (first_bind_id + k, f"{prefix}{k // per_session}", "tcp", bind_address(k), state,
                   FTP_GUID if allowed else None, 0 if allowed else None, None, None, now, now,
                   now if allowed else None, None, 0, 0)

    connection.executemany(
        "INSERT INTO binds (id, session_id, protocol, address, state, protocol_guid, flags, ip_filter, ip_filter_id, "
        "created_at, pending_since, allowed_at, terminating_at, accepted, discarded) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", bind_rows())
    last_sequence = first_bind_id + binds - 1
    connection.executemany("INSERT INTO metadata (key, value) VALUES (?, ?)",
                           [("policy_version", 2), ("last_sequence", last_sequence)])
    connection.execute("COMMIT")
    connection.close()
    return {"sessions": sessions, "binds": binds, "state": state, "last_sequence": last_sequence,
            "seconds": round(time.monotonic() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db")
    parser.add_argument("--sessions", type=int, default=0)
    parser.add_argument("--binds", type=int, default=0)
    parser.add_argument("--state", choices=["allowed", "pending"], default="allowed")
    parser.add_argument("--prefix", default="scale-", help="session ids are PREFIX0, PREFIX1, ...")
    parser.add_argument("--bare-sessions", action="store_true",
                        help="unauthenticated SecureNAT sessions (no user, groups or machine name)")
    parser.add_argument("--print-schema", action="store_true")
    arguments = parser.parse_args()
    if arguments.print_schema:
        print_schema()
        return
    if not arguments.db:
        parser.error("--db is required")
    print(json.dumps(seed(arguments.db, arguments.sessions, arguments.binds, arguments.state, arguments.prefix,
                          arguments.bare_sessions)))


if __name__ == "__main__":
    sys.exit(main())
