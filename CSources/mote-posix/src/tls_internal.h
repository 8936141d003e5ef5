/* Private to the mbedTLS transport: the connection object shared by tls_mbedtls.c (connect,
 * I/O), tls_load.c (trust, identity, ciphers) and tls_errors.c (error mapping). */
#ifndef MOTE_TLS_INTERNAL_H
#define MOTE_TLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"

#include "mote/tls.h"

/* mbedTLS 3.x made most struct fields private; every access goes through this. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define MOTE_TLS_FIELD(x) MBEDTLS_PRIVATE(x)
#else
#define MOTE_TLS_FIELD(x) x
#endif

#define MOTE_TLS_MAX_ALPN 8
#define MOTE_TLS_MAX_CIPHERS 48
/* One TLS record's worth of plaintext: gathered writes are staged here so that the small
 * pieces of an MQTT packet become one record (and one TCP segment), not one each. */
#define MOTE_TLS_STAGE_SIZE 16384u

struct mote_tls {
    mote_tcp_t tcp;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_ssl_session session;   /* saved after a handshake, offered on the next */

    bool ready;                    /* configuration loaded and ssl set up */
    bool have_cert;
    bool have_session;
    bool session_resumption;
    bool insecure;
    bool connected;
    bool offered_session;
    bool resumed;
    bool saw_server_cert;          /* verify callback ran: a full handshake */
    bool verdict_pending;          /* TLS 1.3: nothing received since the handshake, so the
                                      server may still reject our certificate (or its absence) */
    bool peer_eof;                 /* the socket reached end of stream (recv returned 0) */
    bool name_is_ip;
    uint8_t ip[16];
    size_t ip_len;

    char server_name[256];         /* from the config; empty: use the connect host */
    char bind_address[256];        /* from the config; empty: the system's choice */
    char verify_name[256];         /* the name (or address) checked in this connect */
    char session_name[256];        /* the name the saved session's server was checked for */
    char alpn_buf[256];
    const char *alpn[MOTE_TLS_MAX_ALPN + 1];
    int ciphers[MOTE_TLS_MAX_CIPHERS + 1];

    uint32_t handshake_timeout_ms;
    uint32_t read_wait_ms;
    uint32_t write_timeout_ms;
    bool blocked;                  /* staged output could not be written */
    uint32_t blocked_since;        /* when blocked, or the socket last took a byte since */
    uint64_t bytes_written;        /* TLS bytes the socket has taken (mote_tls_bytes_written) */

    uint8_t *stage;
    size_t stage_off;
    size_t stage_len;

    /* What went wrong last, for mote_tls_last_error(). */
    int last_mbed;                 /* mbedTLS return code, 0 if none */
    int last_alert;                /* alert description received, -1 if none */
    uint32_t last_flags;           /* certificate verify flags */
    char peer_desc[200];           /* subject and validity of the server certificate */
    char dates_desc[200];          /* the same for the certificate nearest the server's that
                                      is outside its validity period (it may be a CA) */
    char negotiated_alpn[64];
    char version[16];
    char ciphersuite[64];
    char err[512];
};

/* tls_load.c */
mote_err_t mote_tls_load_config(mote_tls_t *t, const mote_tls_config_t *cfg);

/* tls_pkcs8.c: an encrypted PKCS#8 key (PEM with its NUL, or DER) that mbedTLS 2.x cannot
 * decrypt itself (PBES2 with AES). 0 or an mbedTLS error (PK_PASSWORD_MISMATCH for a wrong
 * password, PKCS5_FEATURE_UNAVAILABLE for schemes it does not know either). */
int mote_tls_parse_pkcs8_aes(mbedtls_pk_context *pk, const uint8_t *in, size_t len, const char *pw);

/* tls_errors.c */
/* Record a failure: code, then a printf-style detail appended after mote_strerror(code). */
mote_err_t mote_tls_fail(mote_tls_t *t, mote_err_t code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Map a failed mbedtls_ssl_handshake() result to a specific error with detail. */
mote_err_t mote_tls_map_handshake(mote_tls_t *t, int ret);
/* Map a failed read/write result (after the handshake). */
mote_err_t mote_tls_map_io(mote_tls_t *t, int ret);
/* "mbedTLS -0x2700: X509 - Certificate verification failed" into buf. */
void mote_tls_describe_mbed(int ret, char *buf, size_t len);

#endif
