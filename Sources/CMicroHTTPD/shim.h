#ifndef FWS_CMICROHTTPD_SHIM_H
#define FWS_CMICROHTTPD_SHIM_H
// microhttpd.h uses these types without including their headers itself.
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <microhttpd.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000 /* Linux: the peer closed its end (glibc defines it only with _GNU_SOURCE) */
#endif

/// The shape of an MHD_OPTION_URI_LOG_CALLBACK function, which microhttpd.h does not name.
typedef void *(*fws_mhd_uri_log_callback)(void *cls, const char *uri, struct MHD_Connection *connection);

/// MHD_start_daemon is variadic, which Swift cannot call. The callbacks are passed as typed
/// arguments (no casts to intptr_t on the Swift side); the logger goes first so that messages
/// printed while the daemon starts already reach it. `options` ends with MHD_OPTION_END.
static inline struct MHD_Daemon *fws_mhd_start_daemon(unsigned int flags,
                                                      uint16_t port,
                                                      MHD_AccessHandlerCallback handler,
                                                      MHD_RequestCompletedCallback completed,
                                                      fws_mhd_uri_log_callback uri_log,
                                                      MHD_LogCallback logger,
                                                      void *cls,
                                                      const struct MHD_OptionItem *options) {
    return MHD_start_daemon(flags, port, NULL, NULL, handler, cls,
                            MHD_OPTION_EXTERNAL_LOGGER, logger, cls,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, cls,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_log, cls,
                            MHD_OPTION_ARRAY, (struct MHD_OptionItem *)options,
                            MHD_OPTION_END);
}

/// MHD_get_daemon_info is variadic; this returns the bound port (the real one when 0 was asked), or 0.
static inline uint16_t fws_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/// MHD_get_daemon_info is variadic; this returns the listening socket, or -1.
static inline int fws_mhd_listen_fd(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_LISTEN_FD);
    return info == NULL ? -1 : (int)info->listen_fd;
}
/// MHD_get_daemon_info is variadic; this returns the daemon's epoll descriptor (external polling
/// with MHD_USE_EPOLL), or -1.
static inline int fws_mhd_epoll_fd(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_EPOLL_FD);
    return info == NULL ? -1 : (int)info->epoll_fd;
}
/// Milliseconds until libmicrohttpd must run again without an event (a connection timeout), or -1.
static inline long long fws_mhd_timeout_ms(struct MHD_Daemon *daemon) {
    MHD_UNSIGNED_LONG_LONG timeout = 0;
    return MHD_get_timeout(daemon, &timeout) == MHD_YES ? (long long)timeout : -1;
}
/// MHD_get_daemon_info is variadic; this returns the daemon's open connections (0 when unknown).
static inline unsigned int fws_mhd_connection_count(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}
/// MHD_get_connection_info is variadic; this returns the client's address, or NULL.
static inline const struct sockaddr *fws_mhd_client_address(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info == NULL ? NULL : info->client_addr;
}
/// MHD_get_connection_info is variadic; this returns the connection's socket, or -1.
static inline int fws_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : (int)info->connect_fd;
}
/// POLLRDHUP needs _GNU_SOURCE, which the Swift Glibc module does not define: 1 when the peer of
/// `fd` has closed its end (or the socket failed), without waiting; 0 otherwise.
static inline int fws_socket_peer_closed(int fd) {
    struct pollfd entry = { .fd = fd, .events = POLLRDHUP, .revents = 0 };
    if (poll(&entry, 1, 0) <= 0) return 0;
    return (entry.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}
/// MHD_get_connection_info is variadic; this returns the connection's gnutls session (NULL without TLS).
static inline void *fws_mhd_tls_session(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    return info == NULL ? NULL : info->tls_session;
}
#endif
