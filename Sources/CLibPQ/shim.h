#ifndef FWS_CLIBPQ_SHIM_H
#define FWS_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <errno.h>
#include <poll.h>
#include <time.h>

/// Waits until the connection's socket is readable (a notification or a result arrived) or
/// `timeout_ms` passed: poll(2) on PQsocket, kept here so Swift does not rebuild `struct pollfd`
/// and its flag constants for one call. A signal that interrupts the wait (EINTR) is not an
/// error: the wait goes on for what is left of the timeout. Returns poll's result (1 readable,
/// 0 timeout, -1 error).
static inline int fws_pq_wait_readable(PGconn *conn, int timeout_ms) {
    struct pollfd descriptor = { .fd = PQsocket(conn), .events = POLLIN, .revents = 0 };
    if (descriptor.fd < 0) return -1;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int ready = poll(&descriptor, 1, timeout_ms);
        if (ready >= 0 || errno != EINTR) return ready;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms) return 0;
        timeout_ms -= (int)elapsed;
        start = now;
    }
}
#endif
