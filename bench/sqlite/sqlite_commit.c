/*
 * One commit per request, the way a server without group commit would write: SQLite in WAL
 * mode with synchronous=FULL (fsync of the WAL at every COMMIT, as fwsessiond's store does), one
 * INSERT of a bind-sized row per transaction, for a fixed time.
 *
 * With --threads 1 this is the disk's single-commit rate; with --threads 64 it is 64 concurrent
 * clients, each committing its own row in its own transaction on its own connection. SQLite
 * lets one writer in at a time and every commit still has its own fsync, so they take turns; they
 * queue on a mutex (as a server without group commit would serialise its commits) rather than on
 * SQLite's busy handler, whose sleeps and spinning on 2 cores would measure the waiting, not the
 * disk. fwsessiond's durable writes/s divided by these says what its group commit buys here.
 *
 * Usage: sqlite_commit --db PATH [--seconds N] [--threads T]
 * Prints one line: threads=T seconds=S commits=C commits_per_s=R p50_us=A p99_us=B cpu_us_per_commit=U
 * (commit latency includes the wait for the mutex; CPU is the process's user+system time).
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *db_path;
static double run_seconds = 5.0;
static int thread_count = 1;
static double deadline;
static pthread_mutex_t write_turn = PTHREAD_MUTEX_INITIALIZER;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *what) {
    fprintf(stderr, "sqlite_commit: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql) {
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
        fprintf(stderr, "sqlite_commit: %s: %s\n", sql, error ? error : "?");
        exit(1);
    }
}

/* Only a safety net: writers take turns on `write_turn`, so SQLite's lock is always free. */
static int busy_wait(void *unused, int attempts) {
    (void)unused; (void)attempts;
    if (now_seconds() > deadline + 5) return 0;
    usleep(50);
    return 1;
}

static sqlite3 *open_db(void) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        die(db, "open");
    sqlite3_busy_handler(db, busy_wait, NULL);
    exec(db, "PRAGMA journal_mode = WAL");
    exec(db, "PRAGMA synchronous = FULL");
    return db;
}

struct worker {
    pthread_t thread;
    int index;
    long commits;
    uint32_t *latencies_us;
    size_t latency_count, latency_capacity;
};

static void *run_worker(void *argument) {
    struct worker *w = argument;
    sqlite3 *db = open_db();
    sqlite3_stmt *begin, *insert, *commit;
    /* The columns of fwsessiond's binds table, a row of the size its store writes. */
    if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK) die(db, "prepare begin");
    if (sqlite3_prepare_v2(db,
            "INSERT INTO binds (session_id, protocol, address, state, protocol_guid, flags, ip_filter, ip_filter_id, "
            "created_at, pending_since, allowed_at, terminating_at, accepted, discarded) "
            "VALUES (?, 'udp', ?, 'pending', NULL, NULL, NULL, NULL, ?, ?, NULL, NULL, 0, 0)",
            -1, &insert, NULL) != SQLITE_OK)
        die(db, "prepare insert");
    if (sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK) die(db, "prepare commit");
    char session[32], address[32];
    snprintf(session, sizeof session, "writer-%d", w->index);
    for (long i = 0;; i++) {
        double started = now_seconds();
        if (started >= deadline) break;
        pthread_mutex_lock(&write_turn);
        if (sqlite3_step(begin) != SQLITE_DONE) die(db, "begin");
        sqlite3_reset(begin);
        snprintf(address, sizeof address, "198.18.%d.%ld:%ld", w->index, (i / 60000) % 256, 1024 + i % 60000);
        sqlite3_bind_text(insert, 1, session, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 2, address, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(insert, 3, started);
        sqlite3_bind_double(insert, 4, started);
        if (sqlite3_step(insert) != SQLITE_DONE) die(db, "insert");
        sqlite3_reset(insert);
        if (sqlite3_step(commit) != SQLITE_DONE) die(db, "commit");
        sqlite3_reset(commit);
        pthread_mutex_unlock(&write_turn);
        double finished = now_seconds();
        if (finished > deadline) break; /* a commit that ends after the deadline does not count */
        w->commits++;
        if (w->latency_count == w->latency_capacity) {
            w->latency_capacity = w->latency_capacity ? w->latency_capacity * 2 : 4096;
            w->latencies_us = realloc(w->latencies_us, w->latency_capacity * sizeof *w->latencies_us);
            if (!w->latencies_us) die(NULL, "out of memory");
        }
        w->latencies_us[w->latency_count++] = (uint32_t)((finished - started) * 1e6);
    }
    sqlite3_finalize(begin);
    sqlite3_finalize(insert);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return NULL;
}

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) run_seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) thread_count = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: sqlite_commit --db PATH [--seconds N] [--threads T]\n");
            return 2;
        }
    }
    if (!db_path || run_seconds <= 0 || thread_count < 1) {
        fprintf(stderr, "usage: sqlite_commit --db PATH [--seconds N] [--threads T]\n");
        return 2;
    }
    sqlite3 *setup = open_db();
    exec(setup, "CREATE TABLE IF NOT EXISTS binds (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, "
                "protocol TEXT NOT NULL, address TEXT NOT NULL, state TEXT NOT NULL, protocol_guid TEXT, flags INTEGER, "
                "ip_filter TEXT, ip_filter_id TEXT, created_at REAL NOT NULL, pending_since REAL NOT NULL, "
                "allowed_at REAL, terminating_at REAL, accepted INTEGER NOT NULL DEFAULT 0, "
                "discarded INTEGER NOT NULL DEFAULT 0)");
    sqlite3_close(setup);

    struct worker *workers = calloc((size_t)thread_count, sizeof *workers);
    double started = now_seconds();
    deadline = started + run_seconds;
    for (int i = 0; i < thread_count; i++) {
        workers[i].index = i;
        if (pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]) != 0) die(NULL, "pthread_create");
    }
    long commits = 0;
    size_t samples = 0;
    for (int i = 0; i < thread_count; i++) {
        pthread_join(workers[i].thread, NULL);
        commits += workers[i].commits;
        samples += workers[i].latency_count;
    }
    uint32_t *all = malloc((samples ? samples : 1) * sizeof *all);
    size_t at = 0;
    for (int i = 0; i < thread_count; i++) {
        memcpy(all + at, workers[i].latencies_us, workers[i].latency_count * sizeof *all);
        at += workers[i].latency_count;
    }
    qsort(all, samples, sizeof *all, compare_u32);
    uint32_t p50 = samples ? all[samples / 2] : 0, p99 = samples ? all[(size_t)((double)samples * 0.99)] : 0;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
                 (double)usage.ru_stime.tv_usec / 1e6;
    printf("threads=%d seconds=%.3f commits=%ld commits_per_s=%.1f p50_us=%u p99_us=%u cpu_us_per_commit=%.1f\n",
           thread_count, run_seconds, commits, (double)commits / run_seconds, p50, p99,
           commits ? cpu * 1e6 / (double)commits : 0.0);
    return 0;
}
