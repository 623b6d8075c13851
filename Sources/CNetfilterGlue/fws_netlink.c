// See fws_netlink.h. Every request is answered by exactly one message (the object, or an
// NLMSG_ERROR) except the rule dump, which ends with NLMSG_DONE; replies are matched to requests
// by sequence number.
#include "fws_netlink.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

struct fws_nl {
    struct mnl_socket *socket;
    uint32_t port_id;
    uint32_t sequence;
    char buffer[1 << 17];
};

// Requests sent per write: their answers must fit the socket's receive buffer.
enum { FWS_BATCH = 128 };

fws_nl *fws_nl_open(int *error) {
    fws_nl *handle = calloc(1, sizeof(*handle));
    if (handle == NULL) {
        *error = ENOMEM;
        return NULL;
    }
    handle->socket = mnl_socket_open(NETLINK_NETFILTER);
    if (handle->socket == NULL || mnl_socket_bind(handle->socket, 0, MNL_SOCKET_AUTOPID) < 0) {
        *error = errno;
        if (handle->socket != NULL) mnl_socket_close(handle->socket);
        free(handle);
        return NULL;
    }
    handle->port_id = mnl_socket_get_portid(handle->socket);
    handle->sequence = (uint32_t)time(NULL);
    return handle;
}

void fws_nl_close(fws_nl *handle) {
    if (handle == NULL) return;
    mnl_socket_close(handle->socket);
    free(handle);
}

static uint16_t nft_type(uint16_t message) { return (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | message); }

// The error of an NLMSG_ERROR reply (0 for an acknowledgement).
static int reply_error(const struct nlmsghdr *reply) {
    const struct nlmsgerr *error = mnl_nlmsg_get_payload(reply);
    return error->error;
}

struct counter_sum {
    uint64_t packets;
    uint64_t bytes;
};

static int add_counter(struct nftnl_expr *expression, void *data) {
    struct counter_sum *sum = data;
    const char *name = nftnl_expr_get_str(expression, NFTNL_EXPR_NAME);
    if (name != NULL && strcmp(name, "counter") == 0) {
        sum->packets += nftnl_expr_get_u64(expression, NFTNL_EXPR_CTR_PACKETS);
        sum->bytes += nftnl_expr_get_u64(expression, NFTNL_EXPR_CTR_BYTES);
    }
    return 0;
}

// The counter of the one element in a NEWSETELEM reply.
static int parse_element(const struct nlmsghdr *reply, struct counter_sum *sum) {
    struct nftnl_set *set = nftnl_set_alloc();
    if (set == NULL) return -ENOMEM;
    int result = -EINVAL;
    if (nftnl_set_elems_nlmsg_parse(reply, set) >= 0) {
        struct nftnl_set_elems_iter *iterator = nftnl_set_elems_iter_create(set);
        struct nftnl_set_elem *element = iterator ? nftnl_set_elems_iter_next(iterator) : NULL;
        if (element != NULL) {
            nftnl_set_elem_expr_foreach(element, add_counter, sum);
            result = 0;
        }
        if (iterator) nftnl_set_elems_iter_destroy(iterator);
    }
    nftnl_set_free(set);
    return result;
}

// Receives until every request of [first, first + count) is answered, calling `on_reply` for each
// message with the request's index. Returns 0 or -errno of the socket.
static int receive_answers(fws_nl *handle, uint32_t first, uint32_t count,
                           int (*on_reply)(const struct nlmsghdr *, uint32_t, void *), void *context) {
    uint32_t answered = 0;
    while (answered < count) {
        ssize_t length = mnl_socket_recvfrom(handle->socket, handle->buffer, sizeof(handle->buffer));
        if (length < 0) return -errno;
        const struct nlmsghdr *reply = (const struct nlmsghdr *)handle->buffer;
        int remaining = (int)length;
        while (mnl_nlmsg_ok(reply, remaining)) {
            uint32_t index = reply->nlmsg_seq - first;
            if (index < count && reply->nlmsg_type != NLMSG_NOOP) {
                int done = on_reply(reply, index, context);
                if (done) answered++;
            }
            reply = mnl_nlmsg_next(reply, &remaining);
        }
    }
    return 0;
}

struct element_answers {
    uint64_t *packets;
    uint64_t *bytes;
    uint8_t *found;
    int failure;
};

static int on_element(const struct nlmsghdr *reply, uint32_t index, void *context) {
    struct element_answers *answers = context;
    if (reply->nlmsg_type == NLMSG_ERROR) {
        int error = reply_error(reply);
        if (error != -ENOENT && answers->failure == 0) answers->failure = error;
        answers->found[index] = 0;
        return 1;
    }
    if (reply->nlmsg_type != nft_type(NFT_MSG_NEWSETELEM)) return 0;
    struct counter_sum sum = {0, 0};
    answers->found[index] = parse_element(reply, &sum) == 0;
    answers->packets[index] = sum.packets;
    answers->bytes[index] = sum.bytes;
    return 1;
}

int fws_nl_element_counters(fws_nl *handle, uint16_t family, const char *table, const char *const *sets,
                            const uint8_t *keys, uint32_t key_length, uint32_t count,
                            uint64_t *packets, uint64_t *bytes, uint8_t *found) {
    struct element_answers answers = {packets, bytes, found, 0};
    for (uint32_t start = 0; start < count; start += FWS_BATCH) {
        uint32_t batch = count - start < FWS_BATCH ? count - start : FWS_BATCH;
        char request[FWS_BATCH * 256];
        size_t used = 0;
        uint32_t first = handle->sequence;
        for (uint32_t i = 0; i < batch; i++) {
            struct nftnl_set *set = nftnl_set_alloc();
            struct nftnl_set_elem *element = nftnl_set_elem_alloc();
            if (set == NULL || element == NULL) {
                if (set) nftnl_set_free(set);
                if (element) nftnl_set_elem_free(element);
                return -ENOMEM;
            }
            nftnl_set_set_str(set, NFTNL_SET_TABLE, table);
            nftnl_set_set_str(set, NFTNL_SET_NAME, sets[start + i]);
            nftnl_set_elem_set(element, NFTNL_SET_ELEM_KEY, keys + (size_t)(start + i) * key_length, key_length);
            nftnl_set_elem_add(set, element);
            struct nlmsghdr *header = nftnl_nlmsg_build_hdr(
                request + used, NFT_MSG_GETSETELEM, family, 0, handle->sequence++);
            nftnl_set_elems_nlmsg_build_payload(header, set);
            used += header->nlmsg_len;
            nftnl_set_free(set);
        }
        if (mnl_socket_sendto(handle->socket, request, used) < 0) return -errno;
        answers.packets = packets + start;
        answers.bytes = bytes + start;
        answers.found = found + start;
        int result = receive_answers(handle, first, batch, on_element, &answers);
        if (result < 0) return result;
    }
    return answers.failure;
}

struct single_answer {
    uint16_t expected_type;
    int error;
    const struct nlmsghdr *reply;
    int (*parse)(const struct nlmsghdr *, void *);
    void *context;
};

static int on_single(const struct nlmsghdr *reply, uint32_t index, void *context) {
    (void)index;
    struct single_answer *answer = context;
    if (reply->nlmsg_type == NLMSG_ERROR) {
        answer->error = reply_error(reply);
        return 1;
    }
    if (reply->nlmsg_type != answer->expected_type) return 0;
    answer->error = answer->parse ? answer->parse(reply, answer->context) : 0;
    return 1;
}

static int ask(fws_nl *handle, struct nlmsghdr *header, uint16_t expected, int (*parse)(const struct nlmsghdr *, void *),
               void *context) {
    if (mnl_socket_sendto(handle->socket, header, header->nlmsg_len) < 0) return -errno;
    struct single_answer answer = {expected, 0, NULL, parse, context};
    int result = receive_answers(handle, header->nlmsg_seq, 1, on_single, &answer);
    return result < 0 ? result : answer.error;
}

static int parse_counter_object(const struct nlmsghdr *reply, void *context) {
    struct counter_sum *sum = context;
    struct nftnl_obj *object = nftnl_obj_alloc();
    if (object == NULL) return -ENOMEM;
    int result = nftnl_obj_nlmsg_parse(reply, object) < 0 ? -EINVAL : 0;
    if (result == 0) {
        sum->packets = nftnl_obj_get_u64(object, NFTNL_OBJ_CTR_PKTS);
        sum->bytes = nftnl_obj_get_u64(object, NFTNL_OBJ_CTR_BYTES);
    }
    nftnl_obj_free(object);
    return result;
}

int fws_nl_counter_object(fws_nl *handle, uint16_t family, const char *table, const char *name,
                          uint64_t *packets, uint64_t *bytes) {
    struct nftnl_obj *object = nftnl_obj_alloc();
    if (object == NULL) return -ENOMEM;
    nftnl_obj_set_str(object, NFTNL_OBJ_TABLE, table);
    nftnl_obj_set_str(object, NFTNL_OBJ_NAME, name);
    nftnl_obj_set_u32(object, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    char request[512];
    struct nlmsghdr *header = nftnl_nlmsg_build_hdr(request, NFT_MSG_GETOBJ, family, 0, handle->sequence++);
    nftnl_obj_nlmsg_build_payload(header, object);
    nftnl_obj_free(object);
    struct counter_sum sum = {0, 0};
    int result = ask(handle, header, nft_type(NFT_MSG_NEWOBJ), parse_counter_object, &sum);
    *packets = sum.packets;
    *bytes = sum.bytes;
    return result;
}

int fws_nl_table_exists(fws_nl *handle, uint16_t family, const char *table) {
    struct nftnl_table *request_table = nftnl_table_alloc();
    if (request_table == NULL) return -ENOMEM;
    nftnl_table_set_str(request_table, NFTNL_TABLE_NAME, table);
    char request[512];
    struct nlmsghdr *header = nftnl_nlmsg_build_hdr(request, NFT_MSG_GETTABLE, family, 0, handle->sequence++);
    nftnl_table_nlmsg_build_payload(header, request_table);
    nftnl_table_free(request_table);
    int result = ask(handle, header, nft_type(NFT_MSG_NEWTABLE), NULL, NULL);
    if (result == -ENOENT) return 0;
    return result < 0 ? result : 1;
}

struct rule_count {
    int rules;
    int error;
    int done;
};

static int on_rule(const struct nlmsghdr *reply, uint32_t index, void *context) {
    (void)index;
    struct rule_count *count = context;
    if (reply->nlmsg_type == NLMSG_DONE) {
        count->done = 1;
        return 1;
    }
    if (reply->nlmsg_type == NLMSG_ERROR) {
        count->error = reply_error(reply);
        return 1;
    }
    if (reply->nlmsg_type == nft_type(NFT_MSG_NEWRULE)) count->rules++;
    return 0;
}

int fws_nl_chain_rule_count(fws_nl *handle, uint16_t family, const char *table, const char *chain) {
    struct nftnl_rule *rule = nftnl_rule_alloc();
    if (rule == NULL) return -ENOMEM;
    nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, chain);
    char request[512];
    struct nlmsghdr *header = nftnl_nlmsg_build_hdr(
        request, NFT_MSG_GETRULE, family, NLM_F_DUMP, handle->sequence++);
    nftnl_rule_nlmsg_build_payload(header, rule);
    nftnl_rule_free(rule);
    if (mnl_socket_sendto(handle->socket, header, header->nlmsg_len) < 0) return -errno;
    struct rule_count count = {0, 0, 0};
    int result = receive_answers(handle, header->nlmsg_seq, 1, on_rule, &count);
    if (result < 0) return result;
    if (count.error == -ENOENT) return 0;
    return count.error < 0 ? count.error : count.rules;
}

struct key_dump {
    uint8_t *keys;
    uint32_t key_length;
    uint32_t capacity;
    uint32_t count;
    int error;
};

static void copy_keys(const struct nlmsghdr *reply, struct key_dump *dump) {
    struct nftnl_set *set = nftnl_set_alloc();
    if (set == NULL) {
        dump->error = -ENOMEM;
        return;
    }
    if (nftnl_set_elems_nlmsg_parse(reply, set) >= 0) {
        struct nftnl_set_elems_iter *iterator = nftnl_set_elems_iter_create(set);
        struct nftnl_set_elem *element;
        while (iterator != NULL && (element = nftnl_set_elems_iter_next(iterator)) != NULL) {
            uint32_t length = 0;
            const void *key = nftnl_set_elem_get(element, NFTNL_SET_ELEM_KEY, &length);
            if (key != NULL && dump->count < dump->capacity && length == dump->key_length) {
                memcpy(dump->keys + (size_t)dump->count * dump->key_length, key, length);
            }
            dump->count++;
        }
        if (iterator) nftnl_set_elems_iter_destroy(iterator);
    }
    nftnl_set_free(set);
}

static int on_key(const struct nlmsghdr *reply, uint32_t index, void *context) {
    (void)index;
    struct key_dump *dump = context;
    if (reply->nlmsg_type == NLMSG_DONE) return 1;
    if (reply->nlmsg_type == NLMSG_ERROR) {
        dump->error = reply_error(reply);
        return 1;
    }
    if (reply->nlmsg_type == nft_type(NFT_MSG_NEWSETELEM)) copy_keys(reply, dump);
    return 0;
}

int fws_nl_set_keys(fws_nl *handle, uint16_t family, const char *table, const char *set_name,
                    uint8_t *keys, uint32_t key_length, uint32_t capacity) {
    struct nftnl_set *set = nftnl_set_alloc();
    if (set == NULL) return -ENOMEM;
    nftnl_set_set_str(set, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(set, NFTNL_SET_NAME, set_name);
    char request[512];
    struct nlmsghdr *header = nftnl_nlmsg_build_hdr(
        request, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, handle->sequence++);
    nftnl_set_elems_nlmsg_build_payload(header, set);
    nftnl_set_free(set);
    if (mnl_socket_sendto(handle->socket, header, header->nlmsg_len) < 0) return -errno;
    struct key_dump dump = {keys, key_length, capacity, 0, 0};
    int result = receive_answers(handle, header->nlmsg_seq, 1, on_key, &dump);
    if (result < 0) return result;
    return dump.error < 0 ? dump.error : (int)dump.count;
}

// Elements per message: a message of ~500 elements stays well under 64 KiB.
enum { FWS_ELEMENTS_PER_MESSAGE = 400 };

struct batch_buffer {
    char *bytes;
    size_t length;
    size_t capacity;
};

static char *batch_room(struct batch_buffer *buffer, size_t needed) {
    if (buffer->length + needed > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 1 << 16;
        while (buffer->length + needed > capacity) capacity *= 2;
        char *grown = realloc(buffer->bytes, capacity);
        if (grown == NULL) return NULL;
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    return buffer->bytes + buffer->length;
}

// The first element of each message (by sequence number), to say which one the kernel refused.
struct message_starts {
    int64_t *starts;
    uint32_t count;
    uint32_t capacity;
};

static int note_message(struct message_starts *messages, int64_t start) {
    if (messages->count == messages->capacity) {
        uint32_t capacity = messages->capacity ? messages->capacity * 2 : 64;
        int64_t *grown = realloc(messages->starts, capacity * sizeof(*grown));
        if (grown == NULL) return -ENOMEM;
        messages->starts = grown;
        messages->capacity = capacity;
    }
    messages->starts[messages->count++] = start;
    return 0;
}

// Appends the messages for `count` elements (grouped by set, a few hundred per message).
static int append_elements(fws_nl *handle, struct batch_buffer *buffer, struct message_starts *messages,
                           uint16_t type, uint16_t flags, uint16_t family, const char *table,
                           const fws_element *elements, uint32_t count, int64_t offset) {
    uint32_t index = 0;
    while (index < count) {
        const char *set_name = elements[index].set;
        int64_t start = offset + index;
        struct nftnl_set *set = nftnl_set_alloc();
        if (set == NULL) return -ENOMEM;
        nftnl_set_set_str(set, NFTNL_SET_TABLE, table);
        nftnl_set_set_str(set, NFTNL_SET_NAME, set_name);
        size_t estimate = 256;
        uint32_t taken = 0;
        while (index < count && taken < FWS_ELEMENTS_PER_MESSAGE && strcmp(elements[index].set, set_name) == 0) {
            const fws_element *wanted = &elements[index];
            struct nftnl_set_elem *element = nftnl_set_elem_alloc();
            if (element == NULL) {
                nftnl_set_free(set);
                return -ENOMEM;
            }
            nftnl_set_elem_set(element, NFTNL_SET_ELEM_KEY, wanted->key, wanted->key_length);
            if (wanted->key_end != NULL) {
                nftnl_set_elem_set(element, NFTNL_SET_ELEM_KEY_END, wanted->key_end, wanted->key_end_length);
            }
            if (wanted->packets > 0) {
                struct nftnl_expr *counter = nftnl_expr_alloc("counter");
                if (counter == NULL) {
                    nftnl_set_elem_free(element);
                    nftnl_set_free(set);
                    return -ENOMEM;
                }
                nftnl_expr_set_u64(counter, NFTNL_EXPR_CTR_PACKETS, wanted->packets);
                nftnl_expr_set_u64(counter, NFTNL_EXPR_CTR_BYTES, 0);
                nftnl_set_elem_add_expr(element, counter);
            }
            nftnl_set_elem_add(set, element);
            estimate += 64 + wanted->key_length + wanted->key_end_length;
            index++;
            taken++;
        }
        char *room = batch_room(buffer, estimate);
        if (room == NULL || note_message(messages, start) < 0) {
            nftnl_set_free(set);
            return -ENOMEM;
        }
        struct nlmsghdr *header = nftnl_nlmsg_build_hdr(room, type, family, flags | NLM_F_ACK, handle->sequence++);
        nftnl_set_elems_nlmsg_build_payload(header, set);
        buffer->length += header->nlmsg_len;
        nftnl_set_free(set);
    }
    return 0;
}

int fws_nl_apply_elements(fws_nl *handle, uint16_t family, const char *table,
                          const fws_element *deletions, uint32_t deletion_count,
                          const fws_element *additions, uint32_t addition_count,
                          int64_t *failed) {
    struct batch_buffer buffer = {NULL, 0, 0};
    struct message_starts messages = {NULL, 0, 0};
    *failed = -1;
    char *room = batch_room(&buffer, 64);
    if (room == NULL) return -ENOMEM;
    buffer.length += nftnl_batch_begin(room, handle->sequence++)->nlmsg_len;
    uint32_t first = handle->sequence;
    int result = append_elements(handle, &buffer, &messages, NFT_MSG_DELSETELEM, 0, family, table,
                                 deletions, deletion_count, 0);
    if (result == 0) {
        result = append_elements(handle, &buffer, &messages, NFT_MSG_NEWSETELEM, NLM_F_CREATE, family, table,
                                 additions, addition_count, deletion_count);
    }
    if (result == 0 && messages.count > 0) {
        room = batch_room(&buffer, 64);
        if (room == NULL) {
            result = -ENOMEM;
        } else {
            buffer.length += nftnl_batch_end(room, handle->sequence++)->nlmsg_len;
            // The kernel takes the whole batch in one message; make room for it.
            int size = buffer.length > (1 << 20) ? (int)buffer.length * 2 : (1 << 21);
            setsockopt(mnl_socket_get_fd(handle->socket), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
            if (mnl_socket_sendto(handle->socket, buffer.bytes, buffer.length) < 0) result = -errno;
        }
    }
    // The kernel handles the batch while sendmsg runs, so every answer is queued by now: an
    // acknowledgement per message, or the error that aborted the batch.
    uint32_t acknowledged = 0;
    while (result == 0 && acknowledged < messages.count) {
        ssize_t length = recv(mnl_socket_get_fd(handle->socket), handle->buffer, sizeof(handle->buffer), MSG_DONTWAIT);
        if (length < 0) {
            result = errno == EAGAIN ? -EPROTO : -errno;
            break;
        }
        const struct nlmsghdr *reply = (const struct nlmsghdr *)handle->buffer;
        int remaining = (int)length;
        while (mnl_nlmsg_ok(reply, remaining)) {
            if (reply->nlmsg_type == NLMSG_ERROR) {
                uint32_t index = reply->nlmsg_seq - first;
                int error = reply_error(reply);
                if (error != 0 && result == 0) {
                    result = error;
                    if (index < messages.count) *failed = messages.starts[index];
                } else if (error == 0 && index < messages.count) {
                    acknowledged++;
                }
            }
            reply = mnl_nlmsg_next(reply, &remaining);
        }
    }
    // Anything left over (answers after an abort) must not be read as the next call's.
    while (recv(mnl_socket_get_fd(handle->socket), handle->buffer, sizeof(handle->buffer), MSG_DONTWAIT) > 0) {}
    free(buffer.bytes);
    free(messages.starts);
    return result;
}
