/* mbedTLS transport: TLS 1.2 (1.3 where the mbedTLS build has it) with SNI, ALPN, server
 * verification and mutual X.509 authentication, behind the same mote_transport_t as TCP. */
#ifndef MOTE_TLS_H
#define MOTE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mote/error.h"
#include "mote/posix.h"
#include "mote/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a private key comes from. The file/memory backend is built in; a PKCS#11 or
 * secure-element backend supplies its own sign callback through this interface later. */
typedef struct mote_tls_key_source {
    const char *file;          /* PEM or DER file, or NULL */
    const uint8_t *data;       /* PEM (NUL-terminated, len includes the NUL) or DER in memory */
    size_t len;
    const char *password;      /* for encrypted keys, or NULL */
} mote_tls_key_source_t;

typedef struct mote_tls_config {
    /* Trust: any combination; none of them and !insecure is an error. */
    const char *ca_file;
    const char *ca_path;       /* directory of PEM certificates */
    const uint8_t *ca_data;    /* PEM (NUL-terminated, len includes the NUL) or DER */
    size_t ca_len;
    bool use_os_certs;         /* /etc/ssl/certs/ca-certificates.crt */
    /* Client identity (mutual TLS); both NULL: none. */
    const char *cert_file;
    const uint8_t *cert_data;
    size_t cert_len;
    mote_tls_key_source_t key;
    /* Connection */
    const char *server_name;   /* SNI and host name checked; NULL: the connect host */
    const char *const *alpn;   /* NULL-terminated list, or NULL */
    const char *tls_version;   /* "tlsv1.2", "tlsv1.3" or NULL (1.2 and up) */
    const char *ciphers;       /* colon-separated IANA or mbedTLS names; NULL: ECDHE + AEAD */
    bool insecure;             /* skip server verification: tests only */
    uint32_t handshake_timeout_ms; /* 0: 10,000 */
    uint16_t max_fragment_len; /* 0 (off), 512, 1024, 2048 or 4096 */
    bool session_resumption;   /* keep the session ticket/id for the next connect */
} mote_tls_config_t;

/* Opaque TLS connection; lives at a stable address the caller owns (mote_tls_new returns
 * heap memory in this hosted adapter). */
typedef struct mote_tls mote_tls_t;

/* Load trust and identity once (parses files: MOTE_ERR_FILE, MOTE_ERR_TLS_BAD_CERT,
 * MOTE_ERR_TLS_KEY_PASSWORD, MOTE_ERR_TLS_KEY_MISMATCH). NULL on out-of-memory with *err set. */
mote_tls_t *mote_tls_new(const mote_tls_config_t *cfg, mote_err_t *err);
/* TCP connect plus handshake. Errors name the cause (see error.h's TLS codes). A saved
 * session from an earlier connect is offered for resumption. */
mote_err_t mote_tls_connect(mote_tls_t *t, const char *host, uint16_t port, uint32_t timeout_ms);
void mote_tls_transport(mote_tls_t *t, mote_transport_t *out);
/* After a handshake: the negotiated ALPN protocol (or NULL), whether the session was
 * resumed, and the TLS version/ciphersuite names. */
const char *mote_tls_alpn(const mote_tls_t *t);
bool mote_tls_resumed(const mote_tls_t *t);
const char *mote_tls_version(const mote_tls_t *t);
const char *mote_tls_ciphersuite(const mote_tls_t *t);
/* A one-line description of the last failure, more detailed than mote_strerror
 * (mbedTLS code, alert received, certificate verify flags). */
const char *mote_tls_last_error(const mote_tls_t *t);
int mote_tls_wait_readable(mote_tls_t *t, uint32_t timeout_ms);
/* Close the connection, keep configuration and saved session for a reconnect. */
void mote_tls_close(mote_tls_t *t);
void mote_tls_free(mote_tls_t *t);

#ifdef __cplusplus
}
#endif
#endif
