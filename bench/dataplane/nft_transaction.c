// One-element nftables transactions, two ways, in the same run: through libnftables (text in, as
// the nft command line) and through libnftnl over netlink (what fwsessiond's data plane does).
// Each iteration adds one element to a set of fwsessiond's shape (address . protocol . port,
// with counters) and deletes it again, each its own transaction; the set first holds `--fill`
// other elements, to show that the cost does not grow with it.
//
// Run it as root in a network namespace of its own (bench/run does): it creates and deletes the
// table `fwsbench` there.
//
//   nft_transaction --iterations N --fill N
// prints: mode=libnftables fill=N transactions=N mean_us=... p50_us=... p99_us=... cpu_us=...
//         mode=libnftnl    ...
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <nftables/libnftables.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu_us(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *mode, int fill, double *samples, int count, double cpu) {
    double total = 0;
    for (int i = 0; i < count; i++) total += samples[i];
    qsort(samples, count, sizeof(double), compare);
    printf("mode=%s fill=%d transactions=%d mean_us=%.1f p50_us=%.1f p99_us=%.1f cpu_us=%.1f\n", mode, fill, count,
           total / count, samples[count / 2], samples[count * 99 / 100], cpu / count);
}

static void run(struct nft_ctx *nft, const char *command) {
    if (nft_run_cmd_from_buffer(nft, command) != 0) {
        fprintf(stderr, "nft failed: %s\n%s\n", command, nft_ctx_get_error_buffer(nft));
        exit(1);
    }
}

// Adds or deletes 10.0.0.1 . tcp . 40000 through libnftnl: one batch, one message.
static void netlink_element(struct mnl_socket *socket, uint32_t port_id, uint32_t *sequence, int add) {
    char buffer[8192];
    struct mnl_nlmsg_batch *batch = mnl_nlmsg_batch_start(buffer, sizeof(buffer));
    nftnl_batch_begin(mnl_nlmsg_batch_current(batch), (*sequence)++);
    mnl_nlmsg_batch_next(batch);
    struct nftnl_set *set = nftnl_set_alloc();
    nftnl_set_set_str(set, NFTNL_SET_TABLE, "fwsbench");
    nftnl_set_set_str(set, NFTNL_SET_NAME, "bound4");
    struct nftnl_set_elem *element = nftnl_set_elem_alloc();
    uint8_t key[12] = {10, 0, 0, 1, 6, 0, 0, 0, 0x9C, 0x40, 0, 0};
    nftnl_set_elem_set(element, NFTNL_SET_ELEM_KEY, key, sizeof(key));
    nftnl_set_elem_add(set, element);
    uint32_t message = *sequence;
    struct nlmsghdr *header = nftnl_nlmsg_build_hdr(
        mnl_nlmsg_batch_current(batch), add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, NFPROTO_INET,
        (add ? NLM_F_CREATE : 0) | NLM_F_ACK, (*sequence)++);
    nftnl_set_elems_nlmsg_build_payload(header, set);
    nftnl_set_free(set);
    mnl_nlmsg_batch_next(batch);
    nftnl_batch_end(mnl_nlmsg_batch_current(batch), (*sequence)++);
    mnl_nlmsg_batch_next(batch);
    if (mnl_socket_sendto(socket, mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch)) < 0) {
        perror("sendto");
        exit(1);
    }
    mnl_nlmsg_batch_stop(batch);
    char answer[32768];
    int length = mnl_socket_recvfrom(socket, answer, sizeof(answer));
    if (length < 0 || mnl_cb_run(answer, length, message, port_id, NULL, NULL) < 0) {
        fprintf(stderr, "netlink transaction failed: %s\n", strerror(errno));
        exit(1);
    }
}

int main(int argc, char **argv) {
    int iterations = 2000, fill = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--iterations") == 0) iterations = atoi(argv[i + 1]);
        if (strcmp(argv[i], "--fill") == 0) fill = atoi(argv[i + 1]);
    }
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    nft_ctx_buffer_output(nft);
    nft_ctx_buffer_error(nft);
    run(nft, "table inet fwsbench {}\ndelete table inet fwsbench\n"
             "table inet fwsbench {\n set bound4 { type ipv4_addr . inet_proto . inet_service; counter; }\n}\n");
    // Fill in batches of 10,000 elements (10.1.x.y . tcp . port), none of them the measured one.
    for (int start = 0; start < fill; start += 10000) {
        size_t size = 64 + 48 * 10000;
        char *command = malloc(size);
        int used = snprintf(command, size, "add element inet fwsbench bound4 { ");
        for (int k = start; k < start + 10000 && k < fill; k++) {
            used += snprintf(command + used, size - used, "%s10.1.%d.%d . 6 . %d", k == start ? "" : ", ",
                             (k >> 8) & 255, k & 255, 1 + k / 65536);
        }
        snprintf(command + used, size - used, " }\n");
        run(nft, command);
        free(command);
    }
    double *samples = malloc(sizeof(double) * iterations);

    double cpu = cpu_us();
    for (int i = 0; i < iterations; i++) {
        double started = now_us();
        run(nft, i % 2 == 0 ? "add element inet fwsbench bound4 { 10.0.0.1 . 6 . 40000 }\n"
                            : "delete element inet fwsbench bound4 { 10.0.0.1 . 6 . 40000 }\n");
        samples[i] = now_us() - started;
    }
    report("libnftables", fill, samples, iterations, cpu_us() - cpu);

    struct mnl_socket *socket = mnl_socket_open(NETLINK_NETFILTER);
    if (socket == NULL || mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
        perror("netlink");
        return 1;
    }
    uint32_t port_id = mnl_socket_get_portid(socket), sequence = (uint32_t)time(NULL);
    cpu = cpu_us();
    for (int i = 0; i < iterations; i++) {
        double started = now_us();
        netlink_element(socket, port_id, &sequence, i % 2 == 0);
        samples[i] = now_us() - started;
    }
    report("libnftnl", fill, samples, iterations, cpu_us() - cpu);

    run(nft, "delete table inet fwsbench\n");
    nft_ctx_free(nft);
    mnl_socket_close(socket);
    free(samples);
    return 0;
}
