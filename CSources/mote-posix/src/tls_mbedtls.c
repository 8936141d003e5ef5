/* mbedTLS transport: connect and handshake with a deadline, verify the server (CA chain and
 * host name, IP SANs included), offer the saved session for resumption, and move MQTT bytes
 * through TLS records without blocking.
 *
 * Writes: the client hands over a packet as several small pieces; each would become its own
 * record (29 bytes of overhead, one TCP segment each) if written one by one. The pieces are
 * copied into a staging buffer of one record's size and written with one mbedtls_ssl_write.
 * Bytes count as taken once staged; a record the socket cannot take yet is finished on the
 * next send, recv or wait call (mbedTLS then needs the same buffer and length again, which the
 * staging buffer guarantees). */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "mbedtls/net_sockets.h"

#include "tls_internal.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#define MOTE_TLS_DEFAULT_HANDSHAKE_MS 10000u
#define MOTE_TLS_DEFAULT_READ_WAIT_MS 50u
#define MOTE_TLS_DEFAULT_WRITE_TIMEOUT_MS 30000u

static uint32_t ms_left(uint32_t deadline)
{
    int32_t d = (int32_t)(deadline - mote_posix_clock_ms(NULL));
    return d > 0 ? (uint32_t)d : 0u;
}

/* poll() one descriptor, retrying on EINTR: >0 ready, 0 timeout, <0 error. */
static int poll_fd(int fd, short events, uint32_t timeout_ms, short *revents)
{
    uint32_t deadline = mote_posix_clock_ms(NULL) + timeout_ms;
    for (;;) {
        struct pollfd p = { fd, events, 0 };
        int r = poll(&p, 1, (int)ms_left(deadline));
        if (r >= 0) {
            if (revents) {
                *revents = p.revents;
            }
            return r;
        }
        if (errno != EINTR) {
            return -1;
        }
    }
}

/* BIO callbacks on the non-blocking socket: mbedTLS's WANT_* codes for "not now". */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    mote_tls_t *t = ctx;
    for (;;) {
        ssize_t n = send(t->tcp.fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            t->bytes_written += (uint64_t)n;
            if (n > 0 && t->blocked) {
                /* Progress: the write timeout counts from the last byte the socket took, not
                 * from when the record first blocked (a slow link may need longer than the
                 * timeout for a whole 16 KB record). */
                t->blocked_since = mote_posix_clock_ms(NULL);
            }
            return (int)n;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        }
        t->tcp.last_errno = errno;
        return (errno == EPIPE || errno == ECONNRESET) ? MBEDTLS_ERR_NET_CONN_RESET
                                                       : MBEDTLS_ERR_NET_SEND_FAILED;
    }
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    mote_tls_t *t = ctx;
    for (;;) {
        ssize_t n = recv(t->tcp.fd, buf, len, 0);
        if (n >= 0) {
            if (n == 0 && len > 0) {
                t->peer_eof = true; /* mbedTLS reports it as CONN_EOF, or as a read of 0 */
            }
            return (int)n;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return MBEDTLS_ERR_SSL_WANT_READ;
        }
        t->tcp.last_errno = errno;
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    }
}

/* Does the certificate carry this address as an iPAddress subjectAltName? mbedTLS 2.x
 * checks only DNS names, so connects by address are checked here. */
static bool ip_san_matches(const mbedtls_x509_crt *crt, const uint8_t *ip, size_t ip_len)
{
    const mbedtls_x509_sequence *san = &crt->subject_alt_names;
    for (; san; san = san->next) {
        if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && san->buf.len == ip_len &&
            memcmp(san->buf.p, ip, ip_len) == 0) {
            return true;
        }
    }
    return false;
}

/* Called for every certificate of the server's chain. That it runs at all tells a full
 * handshake from a resumed one (which sends no certificate). */
/* Is name an address rather than a host name? Decided as the TCP connect decides it
 * (getaddrinfo), so every form it connects to counts: "127.1", "2130706433", an IPv6 address
 * with a zone ("fe80::1%eth0"), not only inet_pton's dotted quads. The address goes to ip. */
static bool ip_literal(const char *name, uint8_t ip[16], size_t *ip_len)
{
    struct addrinfo hints, *res = NULL;
    bool found = false;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || res == NULL) {
        return false;
    }
    if (res->ai_family == AF_INET && res->ai_addrlen >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in sin;
        memcpy(&sin, res->ai_addr, sizeof sin);
        memcpy(ip, &sin.sin_addr, 4);
        *ip_len = 4;
        found = true;
    } else if (res->ai_family == AF_INET6 && res->ai_addrlen >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, res->ai_addr, sizeof sin6);
        memcpy(ip, &sin6.sin6_addr, 16);
        *ip_len = 16;
        found = true;
    }
    freeaddrinfo(res);
    return found;
}

/* "[what] 'subject', valid FROM to TO" into buf. */
static void describe_cert(char *buf, size_t len, const char *what, const mbedtls_x509_crt *crt)
{
    char subject[128];
    if (mbedtls_x509_dn_gets(subject, sizeof subject, &crt->subject) < 0) {
        snprintf(subject, sizeof subject, "?");
    }
    const mbedtls_x509_time *from = &crt->valid_from, *to = &crt->valid_to;
    snprintf(buf, len, "%s '%s', valid %04d-%02d-%02d to %04d-%02d-%02d", what, subject,
             from->year, from->mon, from->day, to->year, to->mon, to->day);
}

/* Called for every certificate of the server's chain, the trusted CA first and the server's
 * own last. That it runs at all tells a full handshake from a resumed one (which sends no
 * certificate). */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    mote_tls_t *t = ctx;
    t->saw_server_cert = true;
    if (*flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) {
        /* The verdict's flags cover the whole chain: remember which certificate is out of
         * its dates, so an expired CA is not reported with the server certificate's. */
        describe_cert(t->dates_desc, sizeof t->dates_desc,
                      depth == 0 ? "server certificate" : "CA certificate", crt);
    }
    if (depth == 0) {
        describe_cert(t->peer_desc, sizeof t->peer_desc, "server certificate", crt);
        if (t->name_is_ip && !ip_san_matches(crt, t->ip, t->ip_len)) {
            *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
        }
    }
    return 0;
}

mote_tls_t *mote_tls_new(const mote_tls_config_t *cfg, mote_err_t *err)
{
    mote_err_t e;
    mote_tls_t *t;
    static const char pers[] = "mote-tls";

    if (!cfg) {
        if (err) {
            *err = MOTE_ERR_BAD_ARG;
        }
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        if (err) {
            *err = MOTE_ERR_NO_SPACE;
        }
        return NULL;
    }
    t->stage = malloc(MOTE_TLS_STAGE_SIZE);
    if (!t->stage) {
        free(t);
        if (err) {
            *err = MOTE_ERR_NO_SPACE;
        }
        return NULL;
    }
    t->tcp.fd = -1;
    t->last_alert = -1;
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_ssl_init(&t->ssl);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_x509_crt_init(&t->cert);
    mbedtls_pk_init(&t->key);
    mbedtls_ssl_session_init(&t->session);

    t->handshake_timeout_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
                                                        : MOTE_TLS_DEFAULT_HANDSHAKE_MS;
    t->read_wait_ms = cfg->read_wait_ms ? cfg->read_wait_ms : MOTE_TLS_DEFAULT_READ_WAIT_MS;
    t->write_timeout_ms = cfg->write_timeout_ms ? cfg->write_timeout_ms
                                                : MOTE_TLS_DEFAULT_WRITE_TIMEOUT_MS;
    t->session_resumption = cfg->session_resumption;
    t->insecure = cfg->insecure;
    if (cfg->server_name) {
        if (strlen(cfg->server_name) >= sizeof t->server_name) {
            e = mote_tls_fail(t, MOTE_ERR_BAD_ARG, "server name too long");
            goto out;
        }
        snprintf(t->server_name, sizeof t->server_name, "%s", cfg->server_name);
    }
    if (cfg->bind_address) {
        if (strlen(cfg->bind_address) >= sizeof t->bind_address) {
            e = mote_tls_fail(t, MOTE_ERR_BAD_ARG, "bind address too long");
            goto out;
        }
        snprintf(t->bind_address, sizeof t->bind_address, "%s", cfg->bind_address);
    }

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    /* TLS 1.3 and PSA-backed keys in mbedTLS 3.x need the PSA core up first. */
    if (psa_crypto_init() != PSA_SUCCESS) {
        e = mote_tls_fail(t, MOTE_ERR_TLS, "PSA crypto initialisation failed");
        goto out;
    }
#endif
    if (mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                              (const unsigned char *)pers, sizeof pers - 1) != 0) {
        e = mote_tls_fail(t, MOTE_ERR_TLS, "cannot seed the random generator");
        goto out;
    }
    if (mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        e = mote_tls_fail(t, MOTE_ERR_TLS, "mbedTLS configuration defaults failed");
        goto out;
    }
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    /* Insecure still runs verification (OPTIONAL) so the outcome can be reported and full
     * and resumed handshakes told apart; only its verdict is ignored. */
    mbedtls_ssl_conf_authmode(&t->conf, cfg->insecure ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                                      : MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_verify(&t->conf, verify_cb, t);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(&t->conf, cfg->session_resumption
                                                   ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                   : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    MBEDTLS_VERSION_NUMBER >= 0x03060000
    /* TLS 1.3 tickets arrive after the handshake; 3.6 only hands them over when asked. */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &t->conf, cfg->session_resumption ? MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED
                                          : MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_DISABLED);
#endif
    if ((e = mote_tls_load_config(t, cfg)) != MOTE_OK) {
        goto out;
    }
    if (mbedtls_ssl_setup(&t->ssl, &t->conf) != 0) {
        e = mote_tls_fail(t, MOTE_ERR_NO_SPACE, "mbedTLS context setup failed");
        goto out;
    }
    t->ready = true;
    e = MOTE_OK;
out:
    if (err) {
        *err = e;
    }
    return t;
}

static mote_err_t tls_handshake(mote_tls_t *t)
{
    uint32_t deadline = mote_posix_clock_ms(NULL) + t->handshake_timeout_ms;
    for (;;) {
        int r = mbedtls_ssl_handshake(&t->ssl);
        short ev;
        if (r == 0) {
            return MOTE_OK;
        }
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
            return mote_tls_map_handshake(t, r);
        }
        uint32_t left = ms_left(deadline);
        if (left == 0) {
            return mote_tls_fail(t, MOTE_ERR_TIMEOUT, "no TLS handshake within %u ms",
                                 (unsigned)t->handshake_timeout_ms);
        }
        int p = poll_fd(t->tcp.fd, r == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT, left, &ev);
        if (p < 0) {
            return mote_tls_fail(t, MOTE_ERR_TRANSPORT, "poll: %s", strerror(errno));
        }
    }
}

/* Keep the connection's session for the next connect; a failed copy keeps the old one.
 * from_ticket: called because a TLS 1.3 NewSessionTicket arrived (else: after a handshake). */
static void save_session(mote_tls_t *t, bool from_ticket)
{
    mbedtls_ssl_session fresh;
    if (!t->session_resumption) {
        return;
    }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && MBEDTLS_VERSION_NUMBER >= 0x03020000
    /* Right after a TLS 1.3 handshake the session has no ticket yet (tickets come later,
     * see tls_recv), and mbedTLS exports a session only once per ticket. Offering a
     * ticketless 1.3 session would only restrict the next ClientHello to TLS 1.3 without
     * a PSK: keep the previous session until a ticket arrives. */
    if (!from_ticket && mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3) {
        return;
    }
#else
    (void)from_ticket;
#endif
    mbedtls_ssl_session_init(&fresh);
    if (mbedtls_ssl_get_session(&t->ssl, &fresh) != 0) {
        mbedtls_ssl_session_free(&fresh);
        return;
    }
    mbedtls_ssl_session_free(&t->session);
    t->session = fresh; /* ownership of its allocations moves with the struct */
    t->have_session = true;
    snprintf(t->session_name, sizeof t->session_name, "%s", t->verify_name);
}

#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
/* mbedTLS 3.x returned MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET from a read, write or
 * handshake call: not an error, the call is to be made again. TLS 1.3 tickets arrive after
 * the handshake; the session holding this one can be exported until the next read. */
static void ticket_arrived(mote_tls_t *t)
{
    save_session(t, true);
    t->verdict_pending = false; /* a server sends tickets to clients it accepted */
}
#endif

/* Drop the socket and per-connection state; configuration and saved session stay. */
static void tls_drop(mote_tls_t *t)
{
    if (t->tcp.fd >= 0) {
        mote_tcp_close(&t->tcp);
    }
    t->tcp.fd = -1;
    if (t->ready) {
        mbedtls_ssl_session_reset(&t->ssl);
    }
    t->connected = false;
    t->verdict_pending = false;
    t->peer_eof = false;
    t->blocked = false;
    t->stage_off = t->stage_len = 0;
}

mote_err_t mote_tls_connect(mote_tls_t *t, const char *host, uint16_t port, uint32_t timeout_ms)
{
    mote_err_t err;
    if (!t || !host || !*host) {
        return MOTE_ERR_BAD_ARG;
    }
    if (!t->ready) {
        return MOTE_ERR_STATE; /* mote_tls_new reported why */
    }
    if (t->connected || t->tcp.fd >= 0) {
        mote_tls_close(t);
    }
    t->err[0] = '\0';
    t->peer_desc[0] = '\0';
    t->dates_desc[0] = '\0';
    t->negotiated_alpn[0] = '\0';
    t->version[0] = '\0';
    t->ciphersuite[0] = '\0';
    t->last_mbed = 0;
    t->last_alert = -1;
    t->last_flags = 0;
    t->resumed = false;

    t->tcp.bind_host = t->bind_address[0] ? t->bind_address : NULL;
    err = mote_tcp_connect(&t->tcp, host, port, timeout_ms);
    if (err != MOTE_OK) {
        int e = t->tcp.last_errno;
        t->tcp.fd = -1;
        return mote_tls_fail(t, err, "%s:%u%s%s%s%s", host, (unsigned)port,
                             t->tcp.bind_failed ? " from local address " : "",
                             t->tcp.bind_failed ? t->bind_address : "", e ? ": " : "",
                             e ? strerror(e) : "");
    }

    const char *name = t->server_name[0] ? t->server_name : host;
    snprintf(t->verify_name, sizeof t->verify_name, "%s", name);
    t->name_is_ip = ip_literal(name, t->ip, &t->ip_len);
    /* An address is never sent as SNI (RFC 6066); verify_cb checks its IP SAN instead.
     * mbedTLS 3.6 would send an address given here as SNI (seen by servers as the name
     * "127.0.0.1"), and takes NULL as an explicit "no name check by mbedTLS", so the
     * same call serves 2.x and 3.x. */
    int hr = mbedtls_ssl_set_hostname(&t->ssl, t->name_is_ip ? NULL : name);
    if (hr != 0) {
        tls_drop(t);
        return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "server name '%s' rejected", name);
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    t->offered_session = false;
    /* A resumed handshake checks no certificate: a session is only offered to the name its
     * server was verified for, never to another host. */
    if (t->session_resumption && t->have_session && strcmp(t->session_name, t->verify_name) == 0) {
        t->offered_session = mbedtls_ssl_set_session(&t->ssl, &t->session) == 0;
    }
    t->saw_server_cert = false;
    err = tls_handshake(t);
    if (err != MOTE_OK) {
        tls_drop(t);
        return err;
    }
    t->connected = true;
    t->resumed = t->offered_session && !t->saw_server_cert;
    save_session(t, false);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && MBEDTLS_VERSION_NUMBER >= 0x03020000
    /* In TLS 1.3 the client's handshake ends with its own Finished, before the server has
     * judged the client certificate: a rejection arrives as an alert on the first read. */
    t->verdict_pending = mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3;
#endif
    snprintf(t->version, sizeof t->version, "%s", mbedtls_ssl_get_version(&t->ssl));
    snprintf(t->ciphersuite, sizeof t->ciphersuite, "%s", mbedtls_ssl_get_ciphersuite(&t->ssl));
#if defined(MBEDTLS_SSL_ALPN)
    const char *alpn = mbedtls_ssl_get_alpn_protocol(&t->ssl);
    if (alpn) {
        snprintf(t->negotiated_alpn, sizeof t->negotiated_alpn, "%s", alpn);
    }
#endif
    return MOTE_OK;
}

/* Write the staged record. 1: nothing left, 0: socket full, <0: error. */
static int tls_flush(mote_tls_t *t)
{
    while (t->stage_off < t->stage_len) {
        int r = mbedtls_ssl_write(&t->ssl, t->stage + t->stage_off, t->stage_len - t->stage_off);
        if (r > 0) {
            t->stage_off += (size_t)r;
            continue;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            /* A TLS 1.3 ticket a read had left held back, finished by this write instead of
             * the record: keep it and write again (mbedTLS: not an error). */
            ticket_arrived(t);
            continue;
        }
#endif
        if (r == 0 || r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
            if (!t->blocked) {
                t->blocked = true;
                t->blocked_since = mote_posix_clock_ms(NULL);
            }
            return 0;
        }
        t->connected = false;
        return mote_tls_map_io(t, r);
    }
    t->stage_off = t->stage_len = 0;
    t->blocked = false;
    return 1;
}

static int32_t tls_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt)
{
    mote_tls_t *t = ctx;
    int f;
    if (!t->connected) {
        return MOTE_ERR_NOT_CONNECTED;
    }
    f = tls_flush(t);
    if (f == 0) {
        /* Give the socket a moment rather than have the caller spin. */
        uint32_t waited = mote_posix_clock_ms(NULL) - t->blocked_since;
        if (waited >= t->write_timeout_ms) {
            t->connected = false;
            return mote_tls_fail(t, MOTE_ERR_TIMEOUT,
                                 "output blocked for %u ms (the socket took no byte)",
                                 (unsigned)waited);
        }
        if (poll_fd(t->tcp.fd, POLLOUT, t->read_wait_ms, NULL) > 0) {
            f = tls_flush(t);
        }
    }
    if (f <= 0) {
        return f;
    }
    /* One record's worth of the pieces (less when a max fragment length was negotiated). */
    size_t cap = MOTE_TLS_STAGE_SIZE;
    int max_payload = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
    if (max_payload > 0 && (size_t)max_payload < cap) {
        cap = (size_t)max_payload;
    }
    size_t total = 0;
    for (size_t i = 0; i < iovcnt && total < cap; i++) {
        size_t n = iov[i].len;
        if (n > cap - total) {
            n = cap - total;
        }
        if (n) {
            memcpy(t->stage + total, iov[i].base, n);
            total += n;
        }
    }
    if (total == 0) {
        return 0;
    }
    t->stage_off = 0;
    t->stage_len = total;
    f = tls_flush(t);
    if (f < 0) {
        return f;
    }
    return (int32_t)total;
}

static int32_t tls_recv(void *ctx, uint8_t *buf, size_t len)
{
    mote_tls_t *t = ctx;
    if (!t->connected) {
        return MOTE_ERR_NOT_CONNECTED;
    }
    if (len > (size_t)INT32_MAX) {
        len = (size_t)INT32_MAX;
    }
    int f = tls_flush(t);
    if (f < 0) {
        return f;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int r = mbedtls_ssl_read(&t->ssl, buf, len);
        if (r > 0) {
            t->verdict_pending = false;
            return r;
        }
        /* mbedtls_ssl_read returns 0 both at the end of the stream and after empty
         * application data records (legal, and up to three in a row are accepted): only
         * the socket can tell them apart. */
        bool later = r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ||
                     (r == 0 && !t->peer_eof);
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            ticket_arrived(t);
            later = true;
        }
#endif
        if (!later) {
            if (r == 0) {
                r = MBEDTLS_ERR_SSL_CONN_EOF;
            }
            t->connected = false;
            return mote_tls_map_io(t, r);
        }
        if (attempt > 0 || t->read_wait_ms == 0 ||
            poll_fd(t->tcp.fd, POLLIN, t->read_wait_ms, NULL) <= 0) {
            return 0;
        }
    }
    return 0;
}

void mote_tls_transport(mote_tls_t *t, mote_transport_t *out)
{
    out->send = tls_send;
    out->recv = tls_recv;
    out->ctx = t;
}

int mote_tls_wait_readable(mote_tls_t *t, uint32_t timeout_ms)
{
    if (!t || !t->connected) {
        return MOTE_ERR_NOT_CONNECTED;
    }
    uint32_t deadline = mote_posix_clock_ms(NULL) + timeout_ms;
    for (;;) {
        /* Decrypted bytes, or whole records mbedTLS already holds, need no socket event. */
        if (mbedtls_ssl_get_bytes_avail(&t->ssl) > 0 || mbedtls_ssl_check_pending(&t->ssl)) {
            return 1;
        }
        int f = tls_flush(t);
        if (f < 0) {
            return f;
        }
        short ev = 0;
        int p = poll_fd(t->tcp.fd, (short)(POLLIN | (f == 0 ? POLLOUT : 0)), ms_left(deadline),
                        &ev);
        if (p < 0) {
            return MOTE_ERR_TRANSPORT;
        }
        if (p == 0) {
            return 0;
        }
        if (ev & (POLLIN | POLLHUP | POLLERR)) {
            return 1;
        }
        /* Only writable: the staged record moves on and the wait continues. */
        if (ms_left(deadline) == 0) {
            return 0;
        }
    }
}

const char *mote_tls_alpn(const mote_tls_t *t)
{
    return (t && t->negotiated_alpn[0]) ? t->negotiated_alpn : NULL;
}

bool mote_tls_resumed(const mote_tls_t *t)
{
    return t && t->resumed;
}

const char *mote_tls_version(const mote_tls_t *t)
{
    return (t && t->version[0]) ? t->version : NULL;
}

const char *mote_tls_ciphersuite(const mote_tls_t *t)
{
    return (t && t->ciphersuite[0]) ? t->ciphersuite : NULL;
}

const char *mote_tls_last_error(const mote_tls_t *t)
{
    if (!t) {
        return "no TLS context";
    }
    return t->err[0] ? t->err : "no error";
}

int mote_tls_fd(const mote_tls_t *t)
{
    return t ? t->tcp.fd : -1;
}

size_t mote_tls_pending(const mote_tls_t *t)
{
    return (t && t->connected) ? t->stage_len - t->stage_off : 0u;
}

uint64_t mote_tls_bytes_written(const mote_tls_t *t)
{
    return t ? t->bytes_written : 0u;
}

void mote_tls_set_read_wait(mote_tls_t *t, uint32_t ms)
{
    if (t) {
        t->read_wait_ms = ms;
    }
}

void mote_tls_close(mote_tls_t *t)
{
    if (!t) {
        return;
    }
    if (t->connected) {
        /* The last staged record (often a DISCONNECT) gets a bounded chance to leave; then
         * close_notify, without waiting for the peer's. */
        uint32_t deadline = mote_posix_clock_ms(NULL) + 1000u;
        while (tls_flush(t) == 0 && ms_left(deadline) > 0) {
            (void)poll_fd(t->tcp.fd, POLLOUT, ms_left(deadline), NULL);
        }
        (void)mbedtls_ssl_close_notify(&t->ssl);
    }
    tls_drop(t);
}

void mote_tls_free(mote_tls_t *t)
{
    if (!t) {
        return;
    }
    mote_tls_close(t);
    mbedtls_ssl_session_free(&t->session);
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_pk_free(&t->key);
    mbedtls_x509_crt_free(&t->cert);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    free(t->stage);
    free(t);
}
