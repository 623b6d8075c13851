#ifndef FWS_CGNUTLS_SHIM_H
#define FWS_CGNUTLS_SHIM_H
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

/// SHA-256 of `length` bytes into `digest` (32 bytes); 0 on success.
/// A wrapper so callers need not spell gnutls' digest enum.
static inline int fws_sha256(const void *data, size_t length, unsigned char digest[32]) {
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, length, digest);
}
#endif
