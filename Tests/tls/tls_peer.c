/* tls_peer: a TLS server built on mbedTLS for behaviour that OpenSSL-based servers (Python's
 * ssl, mosquitto, openssl s_server) will not produce on request. One connection, then exit.
 *
 *   tls_peer --cert F --key F [--empty N] [--data TEXT] [--hold-ms MS]
 *
 * Listens on 127.0.0.1 (a free port, printed as "port N" on stdout), completes one TLS 1.2
 * handshake, then sends N empty application-data records (RFC 5246 6.2.1 allows them; mbedTLS
 * accepts up to three in a row) followed by TEXT in one record, keeps the connection open for
 * MS milliseconds and closes with close_notify. Exit 0 when all of that was sent; a client that
 * does not come within 20 s ends it with 1. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

static int write_all(mbedtls_ssl_context *ssl, const unsigned char *buf, size_t len)
{
    for (;;) {
        int r = mbedtls_ssl_write(ssl, buf, len);
        if (r >= 0) {
            return r;
        }
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
            return r;
        }
    }
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *data = "hello";
    int empty = 0, hold_ms = 500;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--cert") == 0) cert = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0) key = argv[i + 1];
        else if (strcmp(argv[i], "--empty") == 0) empty = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--data") == 0) data = argv[i + 1];
        else if (strcmp(argv[i], "--hold-ms") == 0) hold_ms = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 64;
        }
    }
    if (!cert || !key) {
        fprintf(stderr, "usage: tls_peer --cert F --key F [--empty N] [--data TEXT] [--hold-ms MS]\n");
        return 64;
    }

    mbedtls_net_context listen_fd, client_fd;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    int rc = 1, r;

    mbedtls_net_init(&listen_fd);
    mbedtls_net_init(&client_fd);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "psa_crypto_init failed\n");
        goto out;
    }
#endif
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0 ||
        mbedtls_x509_crt_parse_file(&crt, cert) != 0) {
        fprintf(stderr, "cannot load %s\n", cert);
        goto out;
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    r = mbedtls_pk_parse_keyfile(&pk, key, NULL, mbedtls_ctr_drbg_random, &drbg);
#else
    r = mbedtls_pk_parse_keyfile(&pk, key, NULL);
#endif
    if (r != 0) {
        fprintf(stderr, "cannot load %s\n", key);
        goto out;
    }
    if (mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        goto out;
    }
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_max_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
#endif
    if (mbedtls_ssl_conf_own_cert(&conf, &crt, &pk) != 0 || mbedtls_ssl_setup(&ssl, &conf) != 0) {
        goto out;
    }
    if (mbedtls_net_bind(&listen_fd, "127.0.0.1", "0", MBEDTLS_NET_PROTO_TCP) != 0) {
        fprintf(stderr, "bind failed\n");
        goto out;
    }
    {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        if (getsockname(listen_fd.fd, (struct sockaddr *)&sa, &sl) != 0) {
            goto out;
        }
        printf("port %u\n", (unsigned)ntohs(sa.sin_port));
        fflush(stdout);
    }
    {
        /* Never outlive a test whose client did not come. */
        struct pollfd pfd = { listen_fd.fd, POLLIN, 0 };
        if (poll(&pfd, 1, 20000) != 1 ||
            mbedtls_net_accept(&listen_fd, &client_fd, NULL, 0, NULL) != 0) {
            fprintf(stderr, "no client\n");
            goto out;
        }
    }
    mbedtls_ssl_set_bio(&ssl, &client_fd, mbedtls_net_send, mbedtls_net_recv, NULL);
    while ((r = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
            fprintf(stderr, "handshake failed: -0x%04x\n", (unsigned)-r);
            goto out;
        }
    }
    for (int i = 0; i < empty; i++) {
        if ((r = write_all(&ssl, (const unsigned char *)"", 0)) != 0) {
            fprintf(stderr, "empty record failed: -0x%04x\n", (unsigned)-r);
            goto out;
        }
    }
    if ((r = write_all(&ssl, (const unsigned char *)data, strlen(data))) != (int)strlen(data)) {
        fprintf(stderr, "data failed: %d\n", r);
        goto out;
    }
    printf("sent %d empty records and %zu bytes\n", empty, strlen(data));
    fflush(stdout);
    {
        struct timespec ts = { hold_ms / 1000, (long)(hold_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    (void)mbedtls_ssl_close_notify(&ssl);
    rc = 0;
out:
    mbedtls_net_free(&client_fd);
    mbedtls_net_free(&listen_fd);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return rc;
}
