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
/// Verifies the TLS peer's certificate against the trust list libmicrohttpd configured
/// (MHD_OPTION_HTTPS_MEM_TRUST). 0: valid; -1: no certificate; -2: verification failed or invalid.
static inline int fws_gnutls_verify_peer(void *session) {
    gnutls_session_t tls = (gnutls_session_t)session;
    if (tls == NULL) return -2;
    unsigned int count = 0;
    const gnutls_datum_t *certificates = gnutls_certificate_get_peers(tls, &count);
    if (certificates == NULL || count == 0) return -1;
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers2(tls, &status) < 0) return -2;
    return status == 0 ? 0 : -2;
}
#endif
