#ifndef FWS_CLIBPQ_SHIM_H
#define FWS_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>

/// Waits until the connection's socket is readable (a notification or a result arrived) or
/// `timeout_ms` passed: poll(2) on PQsocket, kept here so Swift does not rebuild `struct pollfd`
/// and its flag constants for one call. Returns poll's result (1 readable, 0 timeout, -1 error).
static inline int fws_pq_wait_readable(PGconn *conn, int timeout_ms) {
    struct pollfd descriptor = { .fd = PQsocket(conn), .events = POLLIN, .revents = 0 };
    if (descriptor.fd < 0) return -1;
    return poll(&descriptor, 1, timeout_ms);
}
#endif
