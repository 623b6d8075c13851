// Reads of fwsessiond's own nftables table over netlink (libmnl + libnftnl): per-bind element
// counters, named counters and the checks that notice a table deleted or flushed by hand.
// libnftables has no single-element read (`nft get element` downloads the whole set first, seconds
// at 50,000 elements); one netlink GETSETELEM per element costs about 16 microseconds.
#ifndef FWS_NETLINK_H
#define FWS_NETLINK_H

#include <stdint.h>

/// One netlink socket. Not thread-safe: callers serialise access.
typedef struct fws_nl fws_nl;

/// Opens a NETLINK_NETFILTER socket; NULL with *error = errno on failure.
fws_nl *fws_nl_open(int *error);

/// Closes the socket.
void fws_nl_close(fws_nl *handle);

/// One element of a set, by its netlink key (fields of a concatenation padded to 4 bytes).
typedef struct fws_element {
    /// The set's name.
    const char *set;
    const uint8_t *key;
    uint32_t key_length;
    /// For an element of an interval set that spans a range: the key of its last value; else NULL.
    const uint8_t *key_end;
    uint32_t key_end_length;
    /// Where the element's counter starts, for an addition to a set with counters (0: at zero).
    uint64_t packets;
} fws_element;

/// Deletes `deletion_count` elements, then adds `addition_count`, as ONE kernel transaction: all of
/// it holds afterwards, or none of it. Returns 0, or -errno of what the kernel refused; then
/// *failed is the index (deletions first, then additions) of the first element of the refused
/// message, or -1 when the whole batch was refused.
int fws_nl_apply_elements(fws_nl *handle, uint16_t family, const char *table,
                          const fws_element *deletions, uint32_t deletion_count,
                          const fws_element *additions, uint32_t addition_count,
                          int64_t *failed);

/// Reads the counters of `count` elements: element i is the key `keys + i * key_length` in set
/// `sets[i]` (keys are `key_length` bytes: fields of a concatenation padded to 4 bytes). For
/// each, found[i] is 1 and packets[i], bytes[i] are its counter (0 when it has none), or found[i]
/// is 0 when the element does not exist. Returns 0, or -errno when a set cannot be read at all.
int fws_nl_element_counters(fws_nl *handle, uint16_t family, const char *table, const char *const *sets,
                            const uint8_t *keys, uint32_t key_length, uint32_t count,
                            uint64_t *packets, uint64_t *bytes, uint8_t *found);

/// Copies the keys of every element of set `set` (each `key_length` bytes) into `keys`, at most
/// `capacity` of them. Returns how many the set holds (more than `capacity`: call again with
/// room for them all), or -errno.
int fws_nl_set_keys(fws_nl *handle, uint16_t family, const char *table, const char *set,
                    uint8_t *keys, uint32_t key_length, uint32_t capacity);

/// Reads the named counter object `name`. Returns 0, or -errno (-ENOENT: no such counter).
int fws_nl_counter_object(fws_nl *handle, uint16_t family, const char *table, const char *name,
                          uint64_t *packets, uint64_t *bytes);

/// 1 when the table exists, 0 when it does not, -errno when that cannot be told.
int fws_nl_table_exists(fws_nl *handle, uint16_t family, const char *table);

/// How many rules the chain holds (0 for a missing chain), or -errno.
int fws_nl_chain_rule_count(fws_nl *handle, uint16_t family, const char *table, const char *chain);

#endif
