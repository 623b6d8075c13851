/*
 * The benchmark's baseline: the least a libmicrohttpd server can do for a request.
 *
 * Same daemon shape as fwsessiond (internal polling thread, epoll, one thread: a thread pool of
 * size 1, loopback only), answering any request with one fixed small JSON body and reading and
 * discarding any request body. wrk drives it with the very request of a scenario, so a
 * scenario's req/s divided by this one's says how much of the HTTP layer's speed is left.
 *
 * Usage: mhd_baseline [PORT [THREADS]]   (port 0 or none: any free port; threads default 1)
 * Prints "mhd_baseline listening on http://127.0.0.1:PORT" on stderr; stops on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <microhttpd.h>

/* The size and shape of fwsessiond's RetroactiveAllowBind S_FALSE answer. */
static const char BODY[] =
    "{\"hresult\":\"S_FALSE\",\"code\":\"0x00000001\",\"binds\":[{\"id\":\"b-3\",\"sessionId\":\"bench-1\","
    "\"protocol\":\"tcp\",\"address\":\"203.0.113.10:40000\",\"state\":\"allowed\","
    "\"protocolGuid\":\"477d0251-8a01-4895-9727-ba1370e17366\",\"flags\":[],\"ipFilter\":null,"
    "\"ipFilterId\":null,\"receiveBufferBytes\":null,\"createdAt\":\"2026-11-26T20:00:24.300Z\","
    "\"allowedAt\":\"2026-11-26T20:00:24.350Z\",\"terminatingAt\":null,"
    "\"counters\":{\"accepted\":0,\"discarded\":0}}]}";

static int request_marker;

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **request_state) {
    (void)cls; (void)url; (void)method; (void)version; (void)upload_data;
    if (*request_state == NULL) { /* headers only so far */
        *request_state = &request_marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* a chunk of the body: read and dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY, MHD_RESPMEM_PERSISTENT);
    if (response == NULL) return MHD_NO;
    MHD_add_response_header(response, "Content-Type", "application/json");
    enum MHD_Result queued = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return queued;
}

int main(int argc, char **argv) {
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* MHD's thread inherits the mask */
    signal(SIGPIPE, SIG_IGN);

    /* A pool of 1 is MHD's one internal polling thread (MHD warns if told "pool size 1"), which is
     * also what fwsessiond runs with its default httpThreads = 1. */
    struct MHD_OptionItem pool[] = {
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "mhd_baseline: MHD_start_daemon failed\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "mhd_baseline listening on http://127.0.0.1:%u\n", info ? (unsigned)info->port : port);
    fflush(stderr);

    int signal_number = 0;
    sigwait(&stop, &signal_number);
    MHD_stop_daemon(daemon);
    return 0;
}
