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

/* Where a private key comes from. The file/memory backend is built in (PEM or DER, PKCS#1,
 * SEC1 or PKCS#8, optionally encrypted). A PKCS#11 or secure-element backend sets `load`
 * instead: it fills the mbedTLS pk context (an mbedtls_pk_context *, passed as void * to keep
 * mbedTLS types out of this header), e.g. with mbedtls_pk_setup_rsa_alt() or an opaque PSA
 * key whose signing happens in the token. It returns MOTE_OK or a mote_err_t. */
typedef struct mote_tls_key_source {
    const char *file;          /* PEM or DER file, or NULL */
    const uint8_t *data;       /* PEM (NUL-terminated, len includes the NUL) or DER in memory */
    size_t len;
    const char *password;      /* for encrypted keys, or NULL */
    mote_err_t (*load)(void *backend_ctx, void *mbedtls_pk); /* custom backend, or NULL */
    void *backend_ctx;
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
    const char *bind_address;  /* local address (or name) to connect from; NULL: any */
    const char *const *alpn;   /* NULL-terminated list, or NULL */
    const char *tls_version;   /* "tlsv1.2", "tlsv1.3" or NULL (1.2 and up) */
    const char *ciphers;       /* colon-separated OpenSSL, IANA or mbedTLS suite names;
                                * NULL: ECDHE key exchange with AEAD ciphers only */
    bool insecure;             /* ignore the server verification verdict: tests only */
    uint32_t handshake_timeout_ms; /* 0: 10,000 */
    uint32_t read_wait_ms;     /* recv waits this long for data before returning 0; 0: 50 */
    uint32_t write_timeout_ms; /* send fails with MOTE_ERR_TIMEOUT when the socket takes no
                                * byte of pending output for this long (a slow link that
                                * keeps taking bytes never times out); 0: 30,000 */
    uint16_t max_fragment_len; /* 0 (off), 512, 1024, 2048 or 4096 */
    bool session_resumption;   /* keep the session ticket/id for the next connect */
} mote_tls_config_t;

/* Opaque TLS connection; lives at a stable address the caller owns (mote_tls_new returns
 * heap memory in this hosted adapter). */
typedef struct mote_tls mote_tls_t;

/* Load trust and identity once (parses files: MOTE_ERR_FILE, MOTE_ERR_TLS_BAD_CERT,
 * MOTE_ERR_TLS_KEY_PASSWORD, MOTE_ERR_TLS_KEY_MISMATCH, MOTE_ERR_BAD_ARG for a bad cipher,
 * version or ALPN list, MOTE_ERR_UNSUPPORTED for TLS 1.3 on an mbedTLS without it).
 * *err is always set. On a load failure the object is still returned so that
 * mote_tls_last_error() can say which file and why: check *err, then mote_tls_free() it.
 * NULL only when out of memory. The config's strings and buffers are copied or parsed;
 * they need not outlive the call. */
mote_tls_t *mote_tls_new(const mote_tls_config_t *cfg, mote_err_t *err);
/* TCP connect plus handshake (blocking up to timeout_ms for TCP, then the handshake timeout).
 * Errors name the cause (see error.h's TLS codes); mote_tls_last_error() has the detail.
 * A saved session from an earlier connect is offered for resumption. SNI carries the server
 * name unless it is an IP literal (RFC 6066 forbids those; the certificate's IP SAN is then
 * checked instead). */
mote_err_t mote_tls_connect(mote_tls_t *t, const char *host, uint16_t port, uint32_t timeout_ms);
/* Fill a transport over this connection. send gathers the pieces into TLS records (up to
 * 16 KB each) and reports bytes as taken once they are encrypted or staged; staged output is
 * flushed by later send, recv and wait calls. Both return 0 instead of blocking. */
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
/* Wait until decrypted data may be read (buffered or on the socket) or timeout_ms passes,
 * flushing staged output meanwhile. 1 readable, 0 timeout, <0 mote_err_t. */
int mote_tls_wait_readable(mote_tls_t *t, uint32_t timeout_ms);
/* The connected socket (for poll loops that also watch other descriptors), or -1. Data may
 * already sit decrypted inside mbedTLS: mote_tls_wait_readable() knows; poll() does not. */
int mote_tls_fd(const mote_tls_t *t);
/* Bytes send reported as taken that are not all written to the socket yet (the staged
 * record); a send with no pieces writes more of them. Progress on a slow link shows in
 * mote_tls_bytes_written, not here: a record counts as pending until its last byte leaves. */
size_t mote_tls_pending(const mote_tls_t *t);
/* TLS bytes (records with their overhead) the socket has taken since mote_tls_new: a count
 * that only grows, for telling whether output moved. */
uint64_t mote_tls_bytes_written(const mote_tls_t *t);
/* How long the transport's recv waits for data before returning 0 (0: not at all, for
 * callers that wait with poll themselves). */
void mote_tls_set_read_wait(mote_tls_t *t, uint32_t ms);
/* Close the connection (staged output is flushed for up to a second, then close_notify),
 * keep configuration and saved session for a reconnect. */
void mote_tls_close(mote_tls_t *t);
void mote_tls_free(mote_tls_t *t);

#ifdef __cplusplus
}
#endif
#endif
