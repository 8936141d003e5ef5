/* tls_probe: drives the mbedTLS transport the way the tests need, independent of the MQTT
 * client: connect (one or more times, to see resumption), optionally speak a little raw MQTT
 * 3.1.1 through the transport (CONNECT, SUBSCRIBE, a QoS 1 PUBLISH echoed back), and report.
 *
 * Output, one line per connect:  connect N: ok VERSION SUITE alpn=NAME resumed=0|1
 * On failure:                     error CODE: mote_tls_last_error text
 * Exit status: 0, or -CODE of the mote_err_t (so tests can assert the specific error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/version.h"

#include "mote/error.h"
#include "mote/posix.h"
#include "mote/tls.h"
#include "tls_internal.h" /* the staging buffer's state, for --record */

/* --read-ms: read what the server sends first, as an MQTT client reading CONNACK would.
 * With TLS 1.3 that is where session tickets and the server's verdict on the client
 * certificate arrive (both come after the client's handshake has ended). */
static mote_err_t read_window(mote_tls_t *t, uint32_t ms)
{
    mote_transport_t tr;
    uint8_t buf[256];
    mote_tls_transport(t, &tr);
    int w = mote_tls_wait_readable(t, ms);
    if (w < 0) {
        return (mote_err_t)w;
    }
    if (w > 0) {
        int32_t n = tr.recv(tr.ctx, buf, sizeof buf);
        if (n < 0) {
            return (mote_err_t)n;
        }
    }
    return MOTE_OK;
}

/* --poll-read: let the server's first records arrive, then make one recv as a polling
 * caller does (read wait 0). Under TLS 1.3 those records are session tickets: mbedTLS 3.6
 * stops at a ticket and holds it back, and the next call on the connection, often a write,
 * finishes it. */
static mote_err_t poll_read(mote_tls_t *t, uint32_t wait_ms)
{
    mote_transport_t tr;
    uint8_t buf[256];
    mote_tls_transport(t, &tr);
    int w = mote_tls_wait_readable(t, 2000);
    if (w < 0) {
        return (mote_err_t)w;
    }
    struct timespec settle = { 0, 300 * 1000000L }; /* every ticket in, not just the first */
    nanosleep(&settle, NULL);
    mote_tls_set_read_wait(t, 0);
    int32_t n = tr.recv(tr.ctx, buf, sizeof buf);
    mote_tls_set_read_wait(t, wait_ms);
    printf("poll-read: %d\n", (int)n);
    return n < 0 ? (mote_err_t)n : MOTE_OK;
}

/* --read-bytes: read until that many bytes of application data arrived (or an error, or
 * 5 s), as a client waiting for a packet does; print them. */
static mote_err_t read_bytes(mote_tls_t *t, size_t want)
{
    mote_transport_t tr;
    char buf[256];
    size_t got = 0;
    if (want >= sizeof buf) {
        want = sizeof buf - 1;
    }
    mote_tls_transport(t, &tr);
    for (int rounds = 0; got < want && rounds < 100; rounds++) {
        int32_t n = tr.recv(tr.ctx, (uint8_t *)buf + got, want - got);
        if (n < 0) {
            return (mote_err_t)n;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    printf("read: %zu bytes '%s'\n", got, buf);
    return got == want ? MOTE_OK : MOTE_ERR_TIMEOUT;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: tls_probe [--host H] [--port P] [--cafile F] [--capath D] [--os-certs]\n"
            "  [--cert F] [--key F] [--keypass P] [--mem] [--alpn a,b] [--servername N]\n"
            "  [--tls-version V] [--ciphers C] [--insecure] [--mfl N] [--hs-timeout MS] [--connects N]\n"
            "  [--no-resume] [--read-ms MS] [--mqtt] [--payload N] [--messages N] [--time]\n"
            "  [--blast BYTES] [--record BYTES] [--sndbuf BYTES] [--write-timeout MS] [--key-backend RSA-KEY-FILE]\n"
            "  [--poll-read] [--read-bytes N] [--then-host H (connects after the first)]\n");
    exit(64);
}

/* --key-backend: the key-source interface with a stand-in for a PKCS#11 token. The RSA key
 * lives only in `token` (the "device"); the TLS stack gets an RSA_ALT context whose
 * callbacks ask the token to sign, as a PKCS#11 or secure-element backend would. */
#if defined(MBEDTLS_PK_RSA_ALT_SUPPORT)
#define PROBE_HAVE_KEY_BACKEND 1
static mbedtls_pk_context token;
static int token_signatures;

/* mbedTLS 3.x dropped the mode argument of the RSA_ALT callbacks and of the RSA calls. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
static int token_sign(void *ctx, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                      mbedtls_md_type_t md_alg, unsigned int hashlen, const unsigned char *hash,
                      unsigned char *sig)
{
    (void)ctx;
    token_signatures++;
    return mbedtls_rsa_pkcs1_sign(mbedtls_pk_rsa(token), f_rng, p_rng, md_alg, hashlen, hash,
                                  sig);
}

static int token_decrypt(void *ctx, size_t *olen, const unsigned char *in, unsigned char *out,
                         size_t max)
{
    (void)ctx;
#else
static int token_sign(void *ctx, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                      int mode, mbedtls_md_type_t md_alg, unsigned int hashlen,
                      const unsigned char *hash, unsigned char *sig)
{
    (void)ctx;
    token_signatures++;
    return mbedtls_rsa_pkcs1_sign(mbedtls_pk_rsa(token), f_rng, p_rng, mode, md_alg, hashlen,
                                  hash, sig);
}

static int token_decrypt(void *ctx, int mode, size_t *olen, const unsigned char *in,
                         unsigned char *out, size_t max)
{
    (void)ctx;
    (void)mode;
#endif
    (void)olen;
    (void)in;
    (void)out;
    (void)max;
#if defined(MBEDTLS_ERR_RSA_UNSUPPORTED_OPERATION)
    return MBEDTLS_ERR_RSA_UNSUPPORTED_OPERATION; /* ECDHE suites only sign */
#else
    return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE; /* 3.x has no RSA "unsupported" code */
#endif
}

static size_t token_len(void *ctx)
{
    (void)ctx;
    return mbedtls_pk_get_len(&token);
}

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
/* 3.x key parsing wants a random generator (blinding); the token's own, as a device's. */
static int token_rng(void *ctx, unsigned char *buf, size_t len)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t n = f ? fread(buf, 1, len, f) : 0;
    (void)ctx;
    if (f) {
        fclose(f);
    }
    return n == len ? 0 : -1;
}
#endif

static mote_err_t token_load(void *backend_ctx, void *pk)
{
    const char *path = backend_ctx;
    mbedtls_pk_init(&token);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    int parsed = mbedtls_pk_parse_keyfile(&token, path, NULL, token_rng, NULL);
#else
    int parsed = mbedtls_pk_parse_keyfile(&token, path, NULL);
#endif
    if (parsed != 0 ||
        mbedtls_pk_get_type(&token) != MBEDTLS_PK_RSA) {
        return MOTE_ERR_TLS_BAD_CERT;
    }
    return mbedtls_pk_setup_rsa_alt(pk, NULL, token_decrypt, token_sign, token_len) == 0
               ? MOTE_OK
               : MOTE_ERR_TLS;
}
#endif

/* Whole file into a heap buffer with a NUL after it (mbedTLS wants PEM length + 1). */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    /* PEM text is parsed as a C string; DER is taken by its exact length. A BEGIN line
     * anywhere makes it PEM (text may come before it, as in `openssl pkcs12` output). */
    *len = strstr((const char *)buf, "-----BEGIN ") ? (size_t)n + 1 : (size_t)n;
    return buf;
}

/* Blocking helpers over the non-blocking transport (tests only). */
static int send_all(mote_transport_t *tr, mote_tls_t *t, const mote_iovec_t *iov, size_t cnt)
{
    mote_iovec_t v[8];
    size_t n = cnt;
    memcpy(v, iov, cnt * sizeof *iov);
    size_t first = 0;
    while (first < n) {
        int32_t r = tr->send(tr->ctx, v + first, n - first);
        if (r < 0) {
            return r;
        }
        size_t took = (size_t)r;
        while (first < n && took >= v[first].len) {
            took -= v[first].len;
            first++;
        }
        if (first < n && took) {
            v[first].base = (const uint8_t *)v[first].base + took;
            v[first].len -= took;
        }
        if (r == 0) {
            (void)mote_tls_wait_readable(t, 10);
        }
    }
    return 0;
}

static int recv_exact(mote_transport_t *tr, uint8_t *buf, size_t len, int timeout_rounds)
{
    size_t got = 0;
    while (got < len) {
        int32_t r = tr->recv(tr->ctx, buf + got, len - got);
        if (r < 0) {
            return r;
        }
        if (r == 0 && --timeout_rounds <= 0) {
            return MOTE_ERR_TIMEOUT;
        }
        got += (size_t)r;
    }
    return 0;
}

/* Read one MQTT packet: fixed header byte, remaining length, body into buf. */
static int recv_packet(mote_transport_t *tr, uint8_t *type, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t b;
    int r;
    if ((r = recv_exact(tr, type, 1, 200)) != 0) {
        return r;
    }
    size_t rl = 0;
    unsigned shift = 0;
    do {
        if ((r = recv_exact(tr, &b, 1, 200)) != 0) {
            return r;
        }
        rl |= (size_t)(b & 0x7f) << shift;
        shift += 7;
    } while ((b & 0x80) && shift < 28);
    if (rl > cap) {
        return MOTE_ERR_BUFFER_TOO_SMALL;
    }
    *len = rl;
    return rl ? recv_exact(tr, buf, rl, 200) : 0;
}

static size_t put_len(uint8_t *p, size_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

/* Byte i of the --blast stream (the test computes the same). */
static uint8_t blast_byte(size_t i)
{
    return (uint8_t)((i * 131u + (i >> 8)) & 0xffu);
}

/* Send `total` bytes as a stream of small gathered writes (pieces of 1..300 bytes, up to 7
 * per call), resuming partial writes, to exercise staging under backpressure. record > 0:
 * one piece of that many bytes per call instead (a whole TLS record each, up to 16 KB), and
 * at the end wait until the last record has left the staging buffer, so that all of the
 * stream reaches the socket (the write timeout applies throughout). */
static int blast(mote_tls_t *t, size_t total, size_t record)
{
    mote_transport_t tr;
    static uint8_t data[(1 << 16) + MOTE_TLS_STAGE_SIZE];
    size_t sent = 0;
    mote_tls_transport(t, &tr);
    while (sent < total) {
        mote_iovec_t iov[7];
        size_t n = 0, off = sent;
        for (; n < (record ? 1u : 7u) && off < total; n++) {
            size_t piece = record ? record : 1 + ((off * 7 + n * 13) % 300);
            if (piece > total - off) {
                piece = total - off;
            }
            iov[n].base = data + (off % (1 << 16));
            iov[n].len = piece;
            for (size_t k = 0; k < piece; k++) {
                data[(off % (1 << 16)) + k] = blast_byte(off + k);
            }
            off += piece;
        }
        int32_t r = tr.send(tr.ctx, iov, n);
        if (r < 0) {
            return r;
        }
        if (r == 0) {
            int w = mote_tls_wait_readable(t, 20);
            if (w < 0) {
                return w;
            }
        }
        sent += (size_t)r;
    }
    while (record && t->stage_off < t->stage_len) {
        int32_t r = tr.send(tr.ctx, NULL, 0); /* flushes; fails once the write timeout passes */
        if (r < 0) {
            return r;
        }
        int w = mote_tls_wait_readable(t, 20);
        if (w < 0) {
            return w;
        }
    }
    return MOTE_OK;
}

/* CONNECT, SUBSCRIBE at QoS 1, then `messages` QoS 1 PUBLISHes of `payload` bytes, each
 * gathered from several iovec pieces, each echoed back and acknowledged. */
static int mqtt_exchange(mote_tls_t *t, size_t payload, int messages)
{
    mote_transport_t tr;
    static uint8_t rx[1 << 20];
    uint8_t hdr[16];
    uint8_t type;
    size_t len;
    int r;
    mote_tls_transport(t, &tr);

    static const uint8_t connect[] = { 0x10, 20, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30,
                                       0, 8, 'm', 'o', 't', 'e', 'p', 'r', 'b', 'e' };
    mote_iovec_t iov[4] = { { connect, 2 }, { connect + 2, 10 }, { connect + 12, sizeof connect - 12 } };
    if ((r = send_all(&tr, t, iov, 3)) != 0 || (r = recv_packet(&tr, &type, rx, sizeof rx, &len)) != 0) {
        return r;
    }
    if (type != 0x20 || len != 2 || rx[1] != 0) {
        fprintf(stderr, "unexpected CONNACK %02x len %zu rc %d\n", type, len, len > 1 ? rx[1] : -1);
        return MOTE_ERR_PROTOCOL;
    }
    static const uint8_t sub[] = { 0x82, 12, 0, 1, 0, 7, 'm', 'o', 't', 'e', '/', 't', 'l', 1 };
    iov[0].base = sub;
    iov[0].len = sizeof sub;
    if ((r = send_all(&tr, t, iov, 1)) != 0 || (r = recv_packet(&tr, &type, rx, sizeof rx, &len)) != 0) {
        return r;
    }
    if (type != 0x90 || len != 3 || rx[2] != 1) {
        return MOTE_ERR_PROTOCOL;
    }
    uint8_t *body = malloc(payload ? payload : 1);
    for (size_t i = 0; i < payload; i++) {
        body[i] = (uint8_t)(i * 7 + 3);
    }
    for (int m = 0; m < messages; m++) {
        static const uint8_t topic[] = { 0, 7, 'm', 'o', 't', 'e', '/', 't', 'l' };
        uint8_t pid[2] = { (uint8_t)((m + 2) >> 8), (uint8_t)(m + 2) };
        hdr[0] = 0x32;
        size_t hl = 1 + put_len(hdr + 1, sizeof topic + 2 + payload);
        iov[0] = (mote_iovec_t){ hdr, hl };
        iov[1] = (mote_iovec_t){ topic, sizeof topic };
        iov[2] = (mote_iovec_t){ pid, 2 };
        iov[3] = (mote_iovec_t){ body, payload };
        if ((r = send_all(&tr, t, iov, 4)) != 0) {
            break;
        }
        /* Expect our PUBACK and the echoed PUBLISH (either order). */
        int got_ack = 0, got_pub = 0;
        while ((!got_ack || !got_pub) && r == 0) {
            if ((r = recv_packet(&tr, &type, rx, sizeof rx, &len)) != 0) {
                break;
            }
            if (type == 0x40) {
                got_ack = 1;
            } else if ((type & 0xf0) == 0x30) {
                size_t off = 2 + 7 + ((type & 0x06) ? 2 : 0);
                if (len - off != payload || memcmp(rx + off, body, payload) != 0) {
                    fprintf(stderr, "echoed payload differs\n");
                    r = MOTE_ERR_PROTOCOL;
                    break;
                }
                got_pub = 1;
                if (type & 0x06) {
                    uint8_t ack[4] = { 0x40, 2, rx[9], rx[10] };
                    iov[0] = (mote_iovec_t){ ack, 4 };
                    r = send_all(&tr, t, iov, 1);
                }
            }
        }
        if (r != 0) {
            break;
        }
    }
    free(body);
    if (r == 0) {
        static const uint8_t disc[] = { 0xe0, 0 };
        iov[0] = (mote_iovec_t){ disc, 2 };
        r = send_all(&tr, t, iov, 1);
    }
    return r;
}

static double now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    mote_tls_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *host = "localhost", *then_host = NULL;
    unsigned port = 8883;
    int connects = 1, mqtt = 0, mem = 0, messages = 1, timing = 0, poll_first = 0;
    size_t blast_bytes = 0, record = 0;
    int sndbuf = 0, read_ms = 0, read_n = 0;
    const char *key_backend = NULL;
    size_t payload = 16;
    const char *alpn_list[9] = { 0 };
    char alpn_buf[256];
    cfg.session_resumption = true;
    cfg.read_wait_ms = 50; /* the transport's default, named so --poll-read can restore it */

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
        if (ARG("--host")) host = v;
        else if (ARG("--then-host")) then_host = v;
        else if (ARG("--port")) port = (unsigned)atoi(v);
        else if (ARG("--cafile")) cfg.ca_file = v;
        else if (ARG("--capath")) cfg.ca_path = v;
        else if (ARG("--cert")) cfg.cert_file = v;
        else if (ARG("--key")) cfg.key.file = v;
        else if (ARG("--keypass")) cfg.key.password = v;
        else if (ARG("--servername")) cfg.server_name = v;
        else if (ARG("--tls-version")) cfg.tls_version = v;
        else if (ARG("--ciphers")) cfg.ciphers = v;
        else if (ARG("--mfl")) cfg.max_fragment_len = (uint16_t)atoi(v);
        else if (ARG("--hs-timeout")) cfg.handshake_timeout_ms = (uint32_t)atoi(v);
        else if (ARG("--write-timeout")) cfg.write_timeout_ms = (uint32_t)atoi(v);
        else if (ARG("--blast")) blast_bytes = (size_t)atol(v);
        else if (ARG("--record")) {
            record = (size_t)atol(v);
            if (record > MOTE_TLS_STAGE_SIZE) {
                record = MOTE_TLS_STAGE_SIZE; /* one record is all a send takes */
            }
        }
        else if (ARG("--sndbuf")) sndbuf = atoi(v);
        else if (ARG("--key-backend")) key_backend = v;
        else if (ARG("--connects")) connects = atoi(v);
        else if (ARG("--read-ms")) read_ms = atoi(v);
        else if (ARG("--read-bytes")) read_n = atoi(v);
        else if (ARG("--payload")) payload = (size_t)atol(v);
        else if (ARG("--messages")) messages = atoi(v);
        else if (ARG("--alpn")) {
            snprintf(alpn_buf, sizeof alpn_buf, "%s", v);
            int n = 0;
            for (char *p = strtok(alpn_buf, ","); p && n < 8; p = strtok(NULL, ",")) {
                alpn_list[n++] = p;
            }
            cfg.alpn = alpn_list;
        } else if (strcmp(a, "--os-certs") == 0) cfg.use_os_certs = true;
        else if (strcmp(a, "--insecure") == 0) cfg.insecure = true;
        else if (strcmp(a, "--no-resume") == 0) cfg.session_resumption = false;
        else if (strcmp(a, "--mqtt") == 0) mqtt = 1;
        else if (strcmp(a, "--poll-read") == 0) poll_first = 1;
        else if (strcmp(a, "--mem") == 0) mem = 1;
        else if (strcmp(a, "--time") == 0) timing = 1;
        else if (strcmp(a, "--about") == 0) {
            /* Which mbedTLS the transport was built with, for tests whose expectations
             * differ between 2.28 (TLS 1.2 only) and 3.x (TLS 1.3 too). */
            const char *s = MBEDTLS_VERSION_STRING;
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
            printf("mbedtls %s tls13=1\n", s);
#else
            printf("mbedtls %s tls13=0\n", s);
#endif
            return 0;
        }
        else usage();
#undef ARG
    }
    uint8_t *ca_buf = NULL, *cert_buf = NULL, *key_buf = NULL;
    if (mem) {
        /* Same material, handed over as memory buffers instead of paths. */
        if (cfg.ca_file && (ca_buf = slurp(cfg.ca_file, &cfg.ca_len)) != NULL) {
            cfg.ca_data = ca_buf;
            cfg.ca_file = NULL;
        }
        if (cfg.cert_file && (cert_buf = slurp(cfg.cert_file, &cfg.cert_len)) != NULL) {
            cfg.cert_data = cert_buf;
            cfg.cert_file = NULL;
        }
        if (cfg.key.file && (key_buf = slurp(cfg.key.file, &cfg.key.len)) != NULL) {
            cfg.key.data = key_buf;
            cfg.key.file = NULL;
        }
    }

    if (key_backend) {
#if defined(PROBE_HAVE_KEY_BACKEND)
        cfg.key.load = token_load;
        cfg.key.backend_ctx = (void *)(uintptr_t)key_backend;
#else
        printf("error %d: key backend demo needs mbedTLS 2.x RSA_ALT\n", MOTE_ERR_UNSUPPORTED);
        return -MOTE_ERR_UNSUPPORTED;
#endif
    }
    mote_err_t err = MOTE_OK;
    mote_tls_t *t = mote_tls_new(&cfg, &err);
    if (!t) {
        printf("error %d: %s\n", err, mote_strerror(err));
        return -err;
    }
    for (int c = 1; c <= connects && err == MOTE_OK; c++) {
        /* Wall and CPU time of TCP connect plus handshake (the benchmark reads these). */
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        err = mote_tls_connect(t, c > 1 && then_host ? then_host : host, (uint16_t)port, 5000);
        double w1 = now_ms(CLOCK_MONOTONIC), c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (err != MOTE_OK) {
            break;
        }
        const char *alpn = mote_tls_alpn(t);
        printf("connect %d: ok %s %s alpn=%s resumed=%d", c, mote_tls_version(t),
               mote_tls_ciphersuite(t), alpn ? alpn : "-", mote_tls_resumed(t) ? 1 : 0);
        if (timing) {
            printf(" wall_ms=%.3f cpu_ms=%.3f", w1 - w0, c1 - c0);
        }
        printf("\n");
        fflush(stdout);
        if (sndbuf > 0) {
            /* A small send buffer makes the socket push back early (WANT_WRITE). */
            (void)setsockopt(mote_tls_fd(t), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        }
        if (read_ms > 0) {
            err = read_window(t, (uint32_t)read_ms);
        }
        if (read_n > 0 && err == MOTE_OK) {
            err = read_bytes(t, (size_t)read_n);
        }
        if (poll_first && err == MOTE_OK) {
            err = poll_read(t, cfg.read_wait_ms);
        }
        if (blast_bytes && err == MOTE_OK) {
            err = blast(t, blast_bytes, record);
            if (err == MOTE_OK) {
                printf("blast %d: ok %zu bytes\n", c, blast_bytes);
            }
        }
        if (mqtt && err == MOTE_OK) {
            err = mqtt_exchange(t, payload, messages);
            if (err == MOTE_OK) {
                printf("mqtt %d: ok\n", c);
            }
        }
        mote_tls_close(t);
    }
    if (err != MOTE_OK) {
        printf("error %d (%s): %s\n", err, mote_strerror(err), mote_tls_last_error(t));
    }
    mote_tls_free(t);
#if defined(PROBE_HAVE_KEY_BACKEND)
    if (key_backend) {
        printf("token signatures: %d\n", token_signatures);
        mbedtls_pk_free(&token);
    }
#endif
    free(ca_buf);
    free(cert_buf);
    free(key_buf);
    return err == MOTE_OK ? 0 : -err;
}
